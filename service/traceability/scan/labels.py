"""Printable A4 label sheets: one QR code per unit (or one per batch), product name, lot, "Scan to verify".

The font, text fitting and the PDF process are shared with the heritage signs (service/core/pdf.py).
"""

from collections.abc import Sequence

import msgspec

from service.core.pdf import draw_symbol, fit_text, new_pdf
from service.core.qr import PackedSymbol, SheetEncoder

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


def render_label_sheet(sheet: LabelSheet) -> bytes:
    """The PDF bytes of the sheet; CPU-bound, runs in the PDF process.

    One reused encoder (version fitted once per sheet, mask fixed), each code drawn as one image mask: 1,000
    labels take about a third of a second of CPU. Computing the symbols in two processes and drawing in one
    (`bench/label_split.py`) was measured and not kept: on 2 shared cores it bought 0-20 % of the sheet's time
    and took about as much from the requests served meanwhile.
    """
    encoder = SheetEncoder([label.uri for label in sheet.labels], quiet_zone=2)
    return draw_label_sheet(sheet, [encoder.packed(label.uri) for label in sheet.labels])


def draw_label_sheet(sheet: LabelSheet, symbols: Sequence[PackedSymbol]) -> bytes:
    """The sheet's PDF with each label's symbol already encoded (symbols[i] is labels[i]'s)."""
    pdf = new_pdf(f"{sheet.product_name} – {sheet.lot}", bold=False)
    text_w = LABEL_W - QR_MM - 5
    pdf.set_font("DejaVu", size=9)
    name = fit_text(pdf, sheet.product_name, text_w)
    lot_line = fit_text(pdf, f"Lô / Lot: {sheet.lot}", text_w)
    prompt_lines = [part.strip() for part in SCAN_PROMPT.split("/")]
    per_page = COLS * ROWS
    for first in range(0, len(sheet.labels), per_page):
        pdf.add_page()
        # page by page, one font size at a time: the same page as label by label, with 3 font changes per page
        # instead of 3 per label
        slots = [
            ((slot % COLS) * LABEL_W, TOP + (slot // COLS) * LABEL_H, label, symbol)
            for slot, (label, symbol) in enumerate(
                zip(sheet.labels[first : first + per_page], symbols[first : first + per_page], strict=True)
            )
        ]
        for x, y, _, symbol in slots:
            draw_symbol(pdf, symbol, x + 2, y + (LABEL_H - QR_MM) / 2, QR_MM)
        text_x = QR_MM + 3
        pdf.set_font("DejaVu", size=9)
        for x, y, _, _ in slots:
            pdf.text(x + text_x, y + 9, name)
        pdf.set_font("DejaVu", size=7.5)
        for x, y, label, _ in slots:
            pdf.text(x + text_x, y + 14, lot_line)
            if label.serial is not None:
                pdf.text(x + text_x, y + 18.5, f"Số / No: {label.serial}")
        pdf.set_font("DejaVu", size=6.5)
        for x, y, _, _ in slots:
            pdf.text(x + text_x, y + 26, prompt_lines[0])
            pdf.text(x + text_x, y + 29.5, prompt_lines[1])
    return bytes(pdf.output())
