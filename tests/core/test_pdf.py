"""The PDF process: sheets' modules are loaded when it warms up, not by the first sheet asked for."""

from service.core.pdf import PdfRenderer
from service.traceability.scan.labels import render_label_sheet
from tests.support.printing import imported

LABELS = "service.traceability.scan.labels"


async def test_warming_up_loads_the_drawings_modules_in_the_pdf_process() -> None:
    warmed, cold = PdfRenderer([render_label_sheet]), PdfRenderer([render_label_sheet])
    try:
        await warmed.warm_up()
        assert await warmed.render(imported, LABELS) == b"yes"
        assert await cold.render(imported, LABELS) == b"no"  # a process started by its first sheet has not
    finally:
        warmed.close()
        cold.close()
