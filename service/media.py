"""Media upload flow routes (placeholder until the media store lands)."""

from litestar.types import ControllerRouterHandler

route_handlers: list[ControllerRouterHandler] = []
