"""Routes of the scan side: QR images, the GS1 resolver, the shopper page, units and scans."""

from litestar.types import ControllerRouterHandler

route_handlers: list[ControllerRouterHandler] = []
