"""HTTP routes of this domain, and the open datasets it publishes."""

from litestar.types import ControllerRouterHandler

from service.open_data import Dataset, LastUpdated

route_handlers: list[ControllerRouterHandler] = []
open_datasets: list[tuple[Dataset, LastUpdated]] = []
