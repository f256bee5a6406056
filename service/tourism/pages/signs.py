"""Printable A5 QR signs for a site's points: one sign a page, the point's name in Vietnamese and English,
a QR code of its short address (/g/{site}/{point}) and a one-line hint. Drawn with the same font, QR
matrix and PDF process as the traceability label sheets (service/core/pdf.py, service/core/qr.py).
"""

import msgspec
from fpdf import FPDF

from service.core.pdf import fit_text, new_pdf
from service.core.qr import matrix_image, qr_matrix

# A5 portrait in millimetres; the QR code is about 9 cm: readable from an arm's length and a step back.
PAGE_W, PAGE_H = 148.0, 210.0
MARGIN = 12.0
QR_MM = 92.0
HINT_VI = "Quét mã để nghe thuyết minh"
HINT_EN = "Scan to hear the audio guide"


class Sign(msgspec.Struct, frozen=True, kw_only=True):
    uri: str
    title_vi: str
    title_en: str
    minutes: int | None  # length of the narration, when there is one


class SignSheet(msgspec.Struct, frozen=True, kw_only=True):
    """Plain data, so it crosses the process boundary cheaply."""

    site_vi: str
    site_en: str
    signs: list[Sign]


def _centred(pdf: FPDF, text: str, y: float) -> None:
    width = pdf.get_string_width(text)
    pdf.text((PAGE_W - width) / 2, y, text)


def render_sign_sheet(sheet: SignSheet) -> bytes:
    """The PDF bytes; CPU-bound, runs in the PDF process."""
    pdf = new_pdf(f"{sheet.site_vi} – biển QR / QR signs", "A5")
    width = PAGE_W - 2 * MARGIN
    for sign in sheet.signs:
        pdf.add_page()
        pdf.set_font("DejaVu", size=10)
        site = fit_text(
            pdf, sheet.site_vi if sheet.site_vi == sheet.site_en else f"{sheet.site_vi} · {sheet.site_en}", width
        )
        _centred(pdf, site, MARGIN + 4)
        pdf.set_font("DejaVu", "B", size=20)
        _centred(pdf, fit_text(pdf, sign.title_vi, width), MARGIN + 17)
        pdf.set_font("DejaVu", size=14)
        _centred(pdf, fit_text(pdf, sign.title_en, width), MARGIN + 26)
        matrix = qr_matrix(sign.uri, quiet_zone=4, error_correction="M")
        pdf.image(matrix_image(matrix, 8), x=(PAGE_W - QR_MM) / 2, y=MARGIN + 32, w=QR_MM, h=QR_MM)
        length = "" if sign.minutes is None else f" ({sign.minutes} phút / min)"
        pdf.set_font("DejaVu", "B", size=12)
        _centred(pdf, fit_text(pdf, HINT_VI + length, width), MARGIN + QR_MM + 42)
        pdf.set_font("DejaVu", size=11)
        _centred(pdf, fit_text(pdf, HINT_EN, width), MARGIN + QR_MM + 49)
        pdf.set_font("DejaVu", size=9)
        _centred(pdf, fit_text(pdf, sign.uri, width), MARGIN + QR_MM + 57)
    return bytes(pdf.output())
