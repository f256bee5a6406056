"""Printable A4 label sheets: one QR code per unit (or one per batch), product name, lot, "Scan to verify".

fpdf2 rather than reportlab: pure Python with no C extension to build, a tenth of the install size,
and Unicode TrueType embedding with subsetting, which is all a label sheet needs. Sheets render in a
separate process (a one-worker pool owned by the app lifespan), so a 1,000-label sheet neither
blocks the event loop nor holds the GIL that other requests need.
"""

import asyncio
import concurrent.futures
import multiprocessing
import os
from pathlib import Path

import msgspec
from fpdf import FPDF

from service.traceability.scan.qr import matrix_image, qr_matrix

# Debian's fonts-dejavu-core; DejaVu Sans has every Vietnamese letter (ế, ự, đ...).
FONT_CANDIDATES = (
    Path(os.environ.get("LABEL_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
SCAN_PROMPT = "Quét để xác thực / Scan to verify"

# A4 in millimetres: 3 columns x 8 rows of 70 x 37 mm labels (common self-adhesive sheet format).
PAGE_W, PAGE_H = 210.0, 297.0
COLS, ROWS = 3, 8
LABEL_W, LABEL_H = PAGE_W / COLS, 37.0
TOP = (PAGE_H - ROWS * LABEL_H) / 2
QR_MM = 31.0
MAX_LABELS = 10_000


class Label(msgspec.Struct, frozen=True, array_like=True):
    uri: str
    serial: str | None


class LabelSheet(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the renderer needs: plain data, so it crosses the process boundary cheaply."""

    product_name: str
    lot: str
    labels: list[Label]


class FontMissing(RuntimeError):
    """No TrueType font with Vietnamese glyphs is installed (install fonts-dejavu-core)."""


def find_font() -> Path:
    for path in FONT_CANDIDATES:
        if path.is_file():
            return path
    raise FontMissing("no DejaVu Sans font found: install the Debian package fonts-dejavu-core or set LABEL_FONT")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Cut text with an ellipsis so it fits the width at the current font size."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def render_label_sheet(sheet: LabelSheet) -> bytes:
    """The PDF bytes of the sheet; CPU-bound, runs in the label process."""
    font = find_font()
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("Thái Nguyên Trace & Tour")
    pdf.set_title(f"{sheet.product_name} – {sheet.lot}")
    pdf.add_font("DejaVu", "", str(font))
    text_w = LABEL_W - QR_MM - 5
    pdf.set_font("DejaVu", size=9)
    name = _fit(pdf, sheet.product_name, text_w)
    lot_line = _fit(pdf, f"Lô / Lot: {sheet.lot}", text_w)
    pdf.set_font("DejaVu", size=6.5)
    prompt_lines = [part.strip() for part in SCAN_PROMPT.split("/")]
    for index, label in enumerate(sheet.labels):
        slot = index % (COLS * ROWS)
        if slot == 0:
            pdf.add_page()
        x = (slot % COLS) * LABEL_W
        y = TOP + (slot // COLS) * LABEL_H
        matrix = qr_matrix(label.uri, quiet_zone=2, fast=True)
        pdf.image(matrix_image(matrix, 4), x=x + 2, y=y + (LABEL_H - QR_MM) / 2, w=QR_MM, h=QR_MM)
        tx = x + QR_MM + 3
        pdf.set_font("DejaVu", size=9)
        pdf.text(tx, y + 9, name)
        pdf.set_font("DejaVu", size=7.5)
        pdf.text(tx, y + 14, lot_line)
        if label.serial is not None:
            pdf.text(tx, y + 18.5, f"Số / No: {label.serial}")
        pdf.set_font("DejaVu", size=6.5)
        pdf.text(tx, y + 26, prompt_lines[0])
        pdf.text(tx, y + 29.5, prompt_lines[1])
    return bytes(pdf.output())


class LabelRenderer:
    """A one-process pool for label sheets, started on first use and shut down with the app."""

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
        """Start the process and load fpdf2 and the font before the first farmer prints a sheet."""
        await asyncio.get_running_loop().run_in_executor(self._executor(), find_font)

    async def render(self, sheet: LabelSheet) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._executor(), render_label_sheet, sheet)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
