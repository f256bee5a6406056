"""Agriculture traceability: the register, batches and their event chains, QR codes and the resolver.

The whole surface app.py uses: `route_handlers`, `lifespan`, `open_datasets`, and the scheduled `jobs`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from service.core.catalog import Dataset, LastUpdated
from service.core.db import borrow
from service.jobs import Job, JobContext
from service.traceability.batches import idempotency
from service.traceability.batches.routes import BatchController, SyncController, TransformationController
from service.traceability.epcis.lifespan import epcis_lifespan
from service.traceability.epcis.routes import EpcisController
from service.traceability.oversight.routes import route_handlers as oversight_route_handlers
from service.traceability.registry.datasets import OPEN_DATASETS
from service.traceability.registry.routes import (
    OrganizationController,
    PlotController,
    ProducerController,
    ProductController,
    TraceabilityOpenDataController,
)
from service.traceability.scan.caches import trace_cache_lifespan
from service.traceability.scan.lifespan import scan_side_lifespan
from service.traceability.scan.routes import route_handlers as scan_route_handlers
from service.traceability.transparency import queries as transparency_queries
from service.traceability.transparency.lifespan import transparency_lifespan
from service.traceability.transparency.routes import route_handlers as transparency_route_handlers
from service.traceability.transparency.service import LOG_DATASET

route_handlers: list[ControllerRouterHandler] = [
    OrganizationController,
    ProducerController,
    ProductController,
    PlotController,
    BatchController,
    TransformationController,
    SyncController,
    TraceabilityOpenDataController,
    *scan_route_handlers,
    *transparency_route_handlers,
    *oversight_route_handlers,
    EpcisController,
]

open_datasets: list[tuple[Dataset, LastUpdated]] = [*OPEN_DATASETS, (LOG_DATASET, transparency_queries.last_logged_at)]


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """The scan side's buffer, flusher and label process, the per-worker shopper caches, the log's key, capture jobs."""
    async with scan_side_lifespan(app), trace_cache_lifespan(app), transparency_lifespan(app), epcis_lifespan(app):
        yield


async def _purge_idempotency_keys(ctx: JobContext) -> int:
    async with borrow(ctx.pool) as conn:
        return await idempotency.purge_expired(conn, ctx.settings.idempotency_ttl_days)


jobs: list[Job] = [Job("traceability.purge_idempotency_keys", 6 * 3600.0, _purge_idempotency_keys)]
