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
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from fpdf import FPDF
from litestar import Litestar

from service.core.qr import QRCache

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


def new_pdf(title: str, page_format: str = "A4") -> FPDF:
    """A portrait PDF in millimetres with DejaVu Sans ("DejaVu", and "DejaVu" bold when installed)."""
    font = find_font()
    pdf = FPDF(orientation="portrait", unit="mm", format=page_format)
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("Thái Nguyên Trace & Tour")
    pdf.set_title(title)
    pdf.add_font("DejaVu", "", str(font))
    bold = next((path for path in BOLD_CANDIDATES if path.is_file()), font)
    pdf.add_font("DejaVu", "B", str(bold))
    return pdf


def fit_text(pdf: FPDF, text: str, width: float) -> str:
    """Cut text with an ellipsis so it fits the width at the current font size."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


_DARK_RUN = re.compile(rb"\x01+")


def draw_matrix(pdf: FPDF, matrix: list[list[bool]], x: float, y: float, size: float) -> None:
    """A QR matrix as vector rectangles (one per run of dark modules), `size` mm square at (x, y) mm.

    Ten times cheaper than embedding an image per code (fpdf2 re-encodes and hashes each one), and crisp at
    any printer resolution. fpdf2 has no public call for a batch of raw path operators, hence `_out`: the
    operators are plain PDF (a `cm` that maps one module to one unit, then `re` rectangles and one fill).
    """
    n = len(matrix)
    k = pdf.k
    scale = size * k / n
    ops = [f"q 0 g {scale:.4f} 0 0 {-scale:.4f} {x * k:.2f} {(pdf.h - y) * k:.2f} cm"]
    runs = _DARK_RUN.finditer
    for r, row in enumerate(matrix):
        # bools as 0/1 bytes: the runs are found in C; one rectangle per run
        ops.extend([f"{a} {r} {b - a} 1 re" for a, b in (run.span() for run in runs(bytes(row)))])
    ops.append("f Q")
    pdf._out("\n".join(ops))


class PdfRenderer:
    """A one-process pool for PDF sheets, started on first use and shut down with the app."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn: forking a process that runs an event loop and a thread pool is unsafe.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    async def warm_up(self) -> None:
        """Start the process and load fpdf2 and the font before the first sheet is asked for."""
        await asyncio.get_running_loop().run_in_executor(self._executor(), find_font)

    async def render(self, draw: Callable[[Sheet], bytes], sheet: Sheet) -> bytes:
        """draw(sheet) in the PDF process; draw must be a module-level function and sheet picklable."""
        return await asyncio.get_running_loop().run_in_executor(self._executor(), draw, sheet)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


@asynccontextmanager
async def printing_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The QR image cache and the PDF process, on app.state for both domains."""
    renderer = PdfRenderer()
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
