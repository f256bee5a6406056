"""Heritage sites and their audio guide: the whole surface app.py uses (see README.md for the rooms)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.types import ControllerRouterHandler

from service.tourism.datasets import open_datasets
from service.tourism.editing.routes import EditorController
from service.tourism.guide.caches import tourism_lifespan
from service.tourism.guide.routes import GuideController, guide_lanes_lifespan
from service.tourism.media.routes import SiteMediaController
from service.tourism.pages.routes import GuidePagesController, PageScriptsController
from service.tourism.pages.signs import render_sign_sheet
from service.tourism.sites.routes import SitesController, TourismOpenDataController

pdf_drawings = [render_sign_sheet]  # loaded in the PDF process when it starts

route_handlers: list[ControllerRouterHandler] = [
    SitesController,
    SiteMediaController,
    GuideController,
    TourismOpenDataController,
    EditorController,
    GuidePagesController,
    PageScriptsController,
]


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """The caches and counters of the guide; position reports and offline 304s answered at the edge."""
    async with tourism_lifespan(app), guide_lanes_lifespan(app):
        yield


__all__ = ["lifespan", "open_datasets", "pdf_drawings", "route_handlers"]
