"""Agriculture traceability: the register, batches and their event chains, QR codes and the resolver.

The whole surface app.py uses: `route_handlers`, `lifespan` and `open_datasets`.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from service.core.catalog import Dataset, LastUpdated
from service.traceability.batches.routes import BatchController, SyncController, TransformationController
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
    *oversight_route_handlers,
]

open_datasets: list[tuple[Dataset, LastUpdated]] = OPEN_DATASETS


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """The scan side's buffer, flusher and label process, then the per-worker shopper caches."""
    async with scan_side_lifespan(app), trace_cache_lifespan(app):
        yield
