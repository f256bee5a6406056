"""Routes of the scan side: resolver, shopper pages, codes (QR, units, labels, scan counts), public EPCIS."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from service.traceability.scan.routes.codes import BatchCodesController
from service.traceability.scan.routes.pages import ShopperPageController, page_lanes
from service.traceability.scan.routes.public_epcis import public_batch_epcis
from service.traceability.scan.routes.resolver import (
    resolve_compressed,
    resolve_gtin,
    resolve_short,
    resolver_description,
    resolver_lanes,
)
from service.traceability.scan.routes.unknown import UnknownIdentifierScansController

route_handlers: list[ControllerRouterHandler] = [
    resolve_gtin,
    resolve_short,
    resolve_compressed,
    resolver_description,
    ShopperPageController,
    BatchCodesController,
    UnknownIdentifierScansController,
    public_batch_epcis,
]


@asynccontextmanager
async def warm_lanes_lifespan(app: Litestar) -> AsyncIterator[None]:
    """The resolver's and shopper pages' warm answers, replayed at the edge (core/edge.py) while the caches live."""
    edge = getattr(app.state, "edge", None)
    lanes = {**resolver_lanes(app.state), **page_lanes(app.state)}
    if edge is not None:
        edge.lanes.update(lanes)
    try:
        yield
    finally:
        if edge is not None:
            for segment in lanes:
                edge.lanes.pop(segment, None)
