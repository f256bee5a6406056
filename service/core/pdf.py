"""Printable PDFs shared by both domains: the DejaVu font, text fitting, and a one-process renderer.

fpdf2 rather than reportlab: pure Python with no C extension to build, a tenth of the install size,
and Unicode TrueType embedding with subsetting, which is all a label or a sign needs. Sheets render in a
separate process (a one-worker pool owned by the app lifespan), so a 1,000-label sheet neither blocks
the event loop nor holds the GIL that other requests need. The QR image cache lives here too, so the
shopper side and the heritage side draw codes with one machinery.
"""

import asyncio
import concurrent.futures
import multiprocessing
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from fpdf import FPDF
from litestar import Litestar

from service.core.qr import PackedSymbol, QRCache

# Debian's fonts-dejavu-core; DejaVu Sans has every Vietnamese letter (ế, ự, đ...).
FONT_CANDIDATES = (
    Path(os.environ.get("LABEL_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
BOLD_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
)

Sheet = TypeVar("Sheet")


class FontMissing(RuntimeError):
    """No TrueType font with Vietnamese glyphs is installed (install fonts-dejavu-core)."""


def find_font() -> Path:
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    raise FontMissing("no DejaVu Sans font found: install the Debian package fonts-dejavu-core or set LABEL_FONT")


def new_pdf(title: str, page_format: str = "A4", *, bold: bool = True) -> FPDF:
    """A portrait PDF in millimetres with DejaVu Sans ("DejaVu", and "DejaVu" bold when asked and installed).

    Each font is parsed for every document (fpdf2 subsets it in place on output), about 35 ms of CPU apiece:
    a sheet that sets no bold text asks for none.
    """
    font = find_font()
    pdf = FPDF(orientation="portrait", unit="mm", format=page_format)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("Thái Nguyên Trace & Tour")
    pdf.set_title(title)
    pdf.add_font("DejaVu", "", str(font))
    if not bold:
        return pdf
    bold_font = next((path for path in BOLD_CANDIDATES if path.is_file()), font)
    pdf.add_font("DejaVu", "B", str(bold_font))
    return pdf


def fit_text(pdf: FPDF, text: str, width: float) -> str:
    """Cut text with an ellipsis so it fits the width at the current font size."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def draw_symbol(pdf: FPDF, symbol: PackedSymbol, x: float, y: float, size: float) -> None:
    """A QR symbol as an inline image mask filled black, `size` mm square with its top left at (x, y) mm.

    An image mask is a stencil: a renderer paints the dark samples in the fill colour with hard edges, at
    the printer's own resolution (no interpolation is asked for), so the code prints as crisply as vector
    rectangles did, for one operator and a few hundred bytes instead of a rectangle per run of dark modules
    (the runs' text was a third of a 1,000-label sheet's CPU). Inline, because fpdf2 hashes and stores every
    image XObject; ASCII hex, so no binary byte can be mistaken for the image's end. fpdf2 has no public call
    for raw content operators, hence `_out`: the operators are plain PDF (ISO 32000-1, 8.9.6 and 8.9.7).
    """
    k = pdf.k
    scale = size * k
    pdf._out(
        f"q 0 g {scale:.4f} 0 0 {scale:.4f} {x * k:.2f} {(pdf.h - y - size) * k:.2f} cm "
        f"BI /W {symbol.side} /H {symbol.side} /IM true /BPC 1 /D [1 0] /F /AHx ID\n{symbol.rows.hex()}>\nEI Q"
    )


Drawing = Callable[[Any], bytes]


def _loaded(*drawings: Drawing) -> None:
    """Nothing: unpickling the drawings (by module and name) imported their modules in the PDF process."""


class PdfRenderer:
    """A one-process pool for PDF sheets, started on first use and shut down with the app.

    `drawings` are the functions sheets will be drawn with: warming up imports their modules in the process,
    because a spawned process imports a drawing's package on first use (the label sheet's pulls in the whole
    traceability package: about a second of CPU, which the first sheet of each worker paid).
    """

    def __init__(self, drawings: Sequence[Drawing] = ()) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._drawings = tuple(drawings)

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a process that runs an event loop and a thread pool is unsafe.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def warm_up(self) -> None:
        """Start the process, load fpdf2, the font and the drawings' modules before the first sheet is asked for."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor(), find_font)
        await loop.run_in_executor(self._executor(), _loaded, *self._drawings)

    async def render(self, draw: Callable[[Sheet], bytes], sheet: Sheet) -> bytes:
        """draw(sheet) in the PDF process; draw must be a module-level function and sheet picklable."""
        return await asyncio.get_running_loop().run_in_executor(self._executor(), draw, sheet)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def printing_lifespan(drawings: Sequence[Drawing]) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The QR image cache and the PDF process, on app.state for both domains; `drawings`: every sheet's function."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        renderer = PdfRenderer(drawings)
        app.state.qr_cache = QRCache()
        app.state.pdf_renderer = renderer
        # In production the PDF process starts in the background, so the first sheet is not slowed by it;
        # tests and development start it on first use instead of once per app.
        warming = asyncio.create_task(renderer.warm_up()) if app.state.settings.env == "production" else None
        try:
            yield
        finally:
            if warming is not None and not warming.done():
                warming.cancel()
            await asyncio.to_thread(renderer.close)

    return lifespan
