"""Heritage sites and their audio guide: the whole surface app.py uses (see README.md for the rooms)."""

from litestar.types import ControllerRouterHandler

from service.tourism.datasets import open_datasets
from service.tourism.editing.routes import EditorController
from service.tourism.guide.caches import tourism_lifespan as lifespan
from service.tourism.guide.routes import GuideController
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

__all__ = ["lifespan", "open_datasets", "pdf_drawings", "route_handlers"]
