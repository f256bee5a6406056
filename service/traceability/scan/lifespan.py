"""This side's resources: the scan buffer and its flusher, the unknown-identifier counter.

The QR cache and the PDF process are shared with tourism: service/core/pdf.py.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from service.traceability.scan.scans import Scan, ScanRecorder, scan_client_secret
from service.traceability.scan.spool import ScanSpool
from service.traceability.scan.unknown import UnknownScanCounter


@asynccontextmanager
async def scan_side_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Scan buffer + flusher (spooling to disk while the database is away) and the unknown-identifier counter."""
    settings = app.state.settings
    spool = ScanSpool(settings.scan_spool_dir, Scan, max_bytes=settings.scan_spool_max_bytes)
    recorder = ScanRecorder(app.state.pool, spool=spool, secret=scan_client_secret(settings.jwt_secret))
    unknown = UnknownScanCounter(app.state.pool)
    app.state.unknown_scans = unknown
    app.state.scan_recorder = recorder
    recorder.start()
    unknown.start()
    try:
        yield
    finally:
        await recorder.close()
        await unknown.close()
