"""Statistics for producers, site managers and officials: counts from the daily rollups, role-scoped, as JSON,
CSV, pages with charts and suppressed open-data CSVs. Reads the domains only through their `public` modules."""

from litestar.types import ControllerRouterHandler

from service.statistics.datasets import OPEN_DATASETS as open_datasets
from service.statistics.pages import StatisticsPagesController
from service.statistics.routes import StatisticsController, StatisticsOpenDataController

route_handlers: list[ControllerRouterHandler] = [
    StatisticsController,
    StatisticsOpenDataController,
    StatisticsPagesController,
]

__all__ = ["open_datasets", "route_handlers"]
