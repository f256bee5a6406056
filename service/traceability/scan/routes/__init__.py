"""Routes of the scan side: resolver, shopper pages, codes (QR, units, labels, scan counts), public EPCIS."""

from litestar.types import ControllerRouterHandler

from service.traceability.scan.routes.codes import BatchCodesController
from service.traceability.scan.routes.pages import ShopperPageController
from service.traceability.scan.routes.public_epcis import public_batch_epcis
from service.traceability.scan.routes.resolver import (
    resolve_compressed,
    resolve_gtin,
    resolve_short,
    resolver_description,
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
