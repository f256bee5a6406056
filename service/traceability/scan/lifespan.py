"""This side's resources: the scan buffer and its flusher, the unknown-identifier counter, QR cache, label process."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from service.traceability.scan.labels import LabelRenderer
from service.traceability.scan.qr import QRCache
from service.traceability.scan.scans import Scan, ScanRecorder
from service.traceability.scan.spool import ScanSpool
from service.traceability.scan.unknown import UnknownScanCounter


@asynccontextmanager
async def scan_side_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Scan buffer + flusher, caches, label process; flushes the buffer on the way out."""
    settings = app.state.settings
    spool = ScanSpool(settings.scan_spool_dir, Scan, max_bytes=settings.scan_spool_max_bytes)
    recorder = ScanRecorder(app.state.pool, spool=spool)
    unknown = UnknownScanCounter(app.state.pool)
    app.state.unknown_scans = unknown
    renderer = LabelRenderer()
    app.state.scan_recorder = recorder
    app.state.qr_cache = QRCache()
    app.state.label_renderer = renderer
    recorder.start()
    unknown.start()
    # In production the label process starts in the background, so the first sheet is not slowed by it;
    # tests and development start it on first use instead of once per app.
    warming = asyncio.create_task(renderer.warm_up()) if settings.env == "production" else None
    try:
        yield
    finally:
        await recorder.close()
        await unknown.close()
        if warming is not None and not warming.done():
            warming.cancel()
        await asyncio.to_thread(renderer.close)
