"""Agriculture traceability: the register, batches and their event chains, QR codes and the resolver.

The whole surface app.py uses: `route_handlers`, `lifespan`, `open_datasets`, the scheduled `jobs`, and the
functions its PDF sheets are drawn with (`pdf_drawings`, loaded in the PDF process when it starts).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from service.core import clock
from service.core.catalog import Dataset, LastUpdated
from service.core.db import borrow
from service.jobs import Job, JobContext
from service.traceability.batches import idempotency
from service.traceability.batches.routes import BatchController, SyncController, TransformationController
from service.traceability.epcis.holding_routes import HoldingController
from service.traceability.epcis.lifespan import epcis_lifespan
from service.traceability.epcis.routes import EpcisController
from service.traceability.oversight.routes import route_handlers as oversight_route_handlers
from service.traceability.places.routes import PlaceController
from service.traceability.registry.datasets import OPEN_DATASETS
from service.traceability.registry.routes import (
    OrganizationController,
    PlotController,
    ProducerController,
    ProductController,
    TraceabilityOpenDataController,
)
from service.traceability.scan import partitions, rollups, scans
from service.traceability.scan.caches import trace_cache_lifespan
from service.traceability.scan.labels import render_label_sheet
from service.traceability.scan.lifespan import scan_side_lifespan
from service.traceability.scan.routes import route_handlers as scan_route_handlers
from service.traceability.scan.routes import warm_lanes_lifespan
from service.traceability.transparency import queries as transparency_queries
from service.traceability.transparency.lifespan import transparency_lifespan
from service.traceability.transparency.routes import route_handlers as transparency_route_handlers
from service.traceability.transparency.service import LOG_DATASET

pdf_drawings = [render_label_sheet]

route_handlers: list[ControllerRouterHandler] = [
    OrganizationController,
    ProducerController,
    ProductController,
    PlotController,
    PlaceController,
    BatchController,
    TransformationController,
    SyncController,
    TraceabilityOpenDataController,
    *scan_route_handlers,
    *transparency_route_handlers,
    *oversight_route_handlers,
    EpcisController,
    HoldingController,
]

open_datasets: list[tuple[Dataset, LastUpdated]] = [*OPEN_DATASETS, (LOG_DATASET, transparency_queries.last_logged_at)]


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """The scan side's buffer, flusher and label process, the per-worker shopper caches and their warm lanes, the
    log's key, capture jobs."""
    async with (
        scan_side_lifespan(app),
        trace_cache_lifespan(app),
        warm_lanes_lifespan(app),
        transparency_lifespan(app),
        epcis_lifespan(app),
    ):
        yield


async def _purge_idempotency_keys(ctx: JobContext) -> int:
    async with borrow(ctx.pool) as conn:
        return await idempotency.purge_expired(conn, ctx.settings.idempotency_ttl_days)


async def _make_scan_partitions(ctx: JobContext) -> int:
    async with borrow(ctx.pool) as conn:
        return await partitions.ensure_partitions(conn, today=clock.today(), ahead=ctx.settings.scan_partitions_ahead)


async def _archive_scan_months(ctx: JobContext) -> int:
    keep = ctx.settings.scan_retention_months
    if keep is None or ctx.media_store is None:
        return 0
    async with borrow(ctx.pool) as conn:
        archived = await partitions.archive_old_months(conn, ctx.media_store, today=clock.today(), keep_months=keep)
    return sum(month.rows for month in archived)


async def _purge_scan_dedup(ctx: JobContext) -> int:
    async with borrow(ctx.pool) as conn:
        return await scans.purge_dedup_keys(conn, scans.CounterfeitRules().dedup_seconds)


async def _refresh_scan_area_rollup(ctx: JobContext) -> int:
    async with borrow(ctx.pool) as conn:
        return await rollups.refresh_area_rollup(conn, clock.today())


async def _log_pending_heads(ctx: JobContext) -> int:
    """Heads whose writer stopped between its commit and the log's sequencing (a crash): logged within a minute."""
    async with borrow(ctx.pool) as conn:
        return await transparency_queries.sequence_pending(conn)


jobs: list[Job] = [
    Job("traceability.log_pending_heads", 60.0, _log_pending_heads),
    Job("traceability.purge_idempotency_keys", 6 * 3600.0, _purge_idempotency_keys),
    Job("traceability.purge_scan_dedup", 3600.0, _purge_scan_dedup),
    Job("traceability.refresh_scan_area_rollup", 600.0, _refresh_scan_area_rollup),
    Job("traceability.make_scan_partitions", 6 * 3600.0, _make_scan_partitions),
    Job("traceability.archive_scan_months", 24 * 3600.0, _archive_scan_months, timeout_seconds=6 * 3600.0),
]
