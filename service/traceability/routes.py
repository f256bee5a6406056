"""HTTP routes of this domain."""

from litestar.types import ControllerRouterHandler

route_handlers: list[ControllerRouterHandler] = []
