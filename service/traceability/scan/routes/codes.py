"""API routes for codes: QR images, serialized units, label sheets and scan counts (alerts: oversight/routes)."""

import uuid
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.auth.guards import CurrentUserDep
from service.core.db import DB
from service.core.errors import Unavailable
from service.core.http_files import SKIP_COMPRESSION, content_disposition
from service.core.pdf import FontMissing, PdfRenderer
from service.core.prepared import Prepared
from service.core.qr import (
    MAX_QUIET_ZONE,
    MAX_SIZE,
    MEDIA_TYPES,
    MIN_SIZE,
    ErrorCorrection,
    QRCache,
    QRFormat,
    QROptions,
    etag_for,
)
from service.settings import Settings
from service.traceability.scan.caches import TraceCaches
from service.traceability.scan.labels import render_label_sheet
from service.traceability.scan.scans import BatchScans, batch_scan_counts
from service.traceability.scan.units import (
    UnitsCreate,
    UnitsCreated,
    batch_qr_content,
    create_units,
    label_sheet,
)

IMMUTABLE = "public, max-age=31536000, immutable"


class BatchCodesController(Controller):
    path = "/api/v1/batches"
    tags = ["traceability: codes and scans"]

    async def _qr(
        self,
        request: Request[Any, Any, Any],
        state: State,
        batch_id: uuid.UUID,
        fmt: QRFormat,
        size: int,
        quiet_zone: int,
        error_correction: ErrorCorrection,
    ) -> Response[Any]:
        caches: TraceCaches = state.trace_caches
        key = (batch_id, fmt, size, quiet_zone, error_correction)
        found = caches.qr_answers.get(key)
        if found is None:
            found = await self._prepare_qr(request, state, key)
        etag, ok, not_modified = found
        return (not_modified if request.headers.get("if-none-match") == etag else ok).response()

    async def _prepare_qr(
        self, request: Request[Any, Any, Any], state: State, key: tuple[uuid.UUID, QRFormat, int, int, ErrorCorrection]
    ) -> tuple[str, Prepared, Prepared]:
        """Render (or take from the QR cache) once, and keep the encoded 200 and 304 for this batch and options."""
        batch_id, fmt, size, quiet_zone, error_correction = key
        settings: Settings = state.settings
        caches: TraceCaches = state.trace_caches
        token = caches.qr_answers.token()
        content = await batch_qr_content(state.pool, caches, batch_id, settings.base_url)
        options = QROptions(size=size, quiet_zone=quiet_zone, error_correction=error_correction)
        etag = etag_for(content, fmt, options)
        headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
        cache: QRCache = state.qr_cache
        data, _ = await cache.image(content, fmt, options)
        found = (
            etag,
            Prepared.of(Response(data, media_type=MEDIA_TYPES[fmt], headers=headers), request),
            Prepared.of(Response(b"", status_code=304, headers=headers), request),
        )
        caches.qr_answers.put(key, found, token)
        caches.track(batch_id, "qr_answers", key)
        return found

    @get(
        "/{batch_id:uuid}/qr.png",
        operation_id="batch_qr_png",
        exclude_from_auth=True,
        cache_control=None,
        opt={SKIP_COMPRESSION: True},  # PNG is compressed already
    )
    async def qr_png(
        self,
        request: Request[Any, Any, Any],
        state: State,
        batch_id: FromPath[uuid.UUID],
        size: Annotated[int, QueryParameter(ge=MIN_SIZE, le=MAX_SIZE)] = 512,
        quiet_zone: Annotated[int, QueryParameter(ge=0, le=MAX_QUIET_ZONE)] = 4,
        error_correction: Annotated[ErrorCorrection, QueryParameter(name="ec")] = "M",
    ) -> Response[Any]:
        """PNG QR code of the batch's URI (public: it only encodes what is printed on the pack)."""
        return await self._qr(request, state, batch_id, "png", size, quiet_zone, error_correction)

    @get("/{batch_id:uuid}/qr.svg", operation_id="batch_qr_svg", exclude_from_auth=True, cache_control=None)
    async def qr_svg(
        self,
        request: Request[Any, Any, Any],
        state: State,
        batch_id: FromPath[uuid.UUID],
        size: Annotated[int, QueryParameter(ge=MIN_SIZE, le=MAX_SIZE)] = 512,
        quiet_zone: Annotated[int, QueryParameter(ge=0, le=MAX_QUIET_ZONE)] = 4,
        error_correction: Annotated[ErrorCorrection, QueryParameter(name="ec")] = "M",
    ) -> Response[Any]:
        """SVG QR code of the batch's URI."""
        return await self._qr(request, state, batch_id, "svg", size, quiet_zone, error_correction)

    @post("/{batch_id:uuid}/units", operation_id="create_units", status_code=201)
    async def create_units(
        self,
        current_user: CurrentUserDep,
        db: DB,
        state: State,
        batch_id: FromPath[uuid.UUID],
        data: JSONBody[UnitsCreate],
    ) -> UnitsCreated:
        """Create serialized units (random serials) for a batch; the owning organization only."""
        settings: Settings = state.settings
        return await create_units(db, current_user, batch_id, data.count, settings.base_url)

    @get("/{batch_id:uuid}/labels.pdf", operation_id="batch_labels_pdf", cache_control=None)
    async def labels_pdf(
        self,
        current_user: CurrentUserDep,
        db: DB,
        state: State,
        batch_id: FromPath[uuid.UUID],
        first: Annotated[int | None, QueryParameter(name="from", ge=1)] = None,
        last: Annotated[int | None, QueryParameter(name="to", ge=1)] = None,
    ) -> Response[Any]:
        """A4 label sheet (QR, product, lot, serial) for all units or the range from..to."""
        settings: Settings = state.settings
        sheet = await label_sheet(db, current_user, batch_id, settings.base_url, first, last)
        renderer: PdfRenderer = state.pdf_renderer
        try:
            pdf = await renderer.render(render_label_sheet, sheet)
        except FontMissing as exc:
            raise Unavailable(str(exc), code="label_font_missing") from exc
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": content_disposition(f"labels-{sheet.lot}.pdf"), "Cache-Control": "private"},
        )

    @get("/{batch_id:uuid}/scans", operation_id="batch_scans")
    async def batch_scans(
        self,
        current_user: CurrentUserDep,
        db: DB,
        batch_id: FromPath[uuid.UUID],
        since: FromQuery[date | None] = None,
        until: FromQuery[date | None] = None,
    ) -> BatchScans:
        """Counted scans per local day (Asia/Ho_Chi_Minh) for the producing organization."""
        return await batch_scan_counts(db, current_user, batch_id, since, until)
