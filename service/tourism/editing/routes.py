"""Editor routes: create, update and publish heritage content (roles editor and admin)."""

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post, put
from litestar.datastructures import State
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, PathParameter
from litestar.security.jwt import Token

from service.auth.guards import requires_role
from service.auth.schemas import CurrentUser
from service.core.changes import invalidate_locally_after_writes
from service.core.db import DB
from service.storage import MediaStoreDep, provide_media_store
from service.tourism.editing import service, tracks
from service.tourism.params import base_url
from service.tourism.sites.schemas import (
    PointCreate,
    PointRead,
    PointUpdate,
    SiteCreate,
    SiteRead,
    SiteUpdate,
    TourCreate,
    TourRead,
    TourUpdate,
    TrackRef,
    TrackUpload,
)
from service.tourism.sites.service import track_ref

# Guards sit on each handler, not the class: the class's guards would also run on the automatic
# OPTIONS (CORS preflight) handler, which carries no user.
EDITORS = [requires_role("editor", "admin")]
LangPath = Annotated[str, PathParameter(min_length=2, max_length=35)]


class EditorController(Controller):
    path = "/api/v1/editor"
    tags = ["tourism: editing"]
    dependencies = {"media_store": Provide(provide_media_store, sync_to_thread=False)}
    middleware = [invalidate_locally_after_writes("tourism_sites", "slug")]

    @get("/sites", operation_id="editor_list_sites", summary="List all sites (editors)", guards=EDITORS)
    async def list_sites(self, db: DB) -> list[SiteRead]:
        """Every site, drafts included, in every language."""
        return await service.all_sites(db)

    @get("/sites/{slug:str}", operation_id="editor_get_site", summary="Get a site (editors)", guards=EDITORS)
    async def get_site(self, db: DB, slug: FromPath[str]) -> SiteRead:
        """One site as editors see it, draft or published."""
        return await service.editor_site(db, slug)

    @post("/sites", operation_id="create_site", summary="Create a site", guards=EDITORS, status_code=201)
    async def create_site(
        self, request: Request[CurrentUser, Token, Any], db: DB, data: JSONBody[SiteCreate]
    ) -> SiteRead:
        """Create a site as a draft."""
        return await service.create_site(db, data, request.user.id)

    @patch("/sites/{slug:str}", operation_id="update_site", summary="Update a site", guards=EDITORS)
    async def update_site(self, db: DB, slug: FromPath[str], data: JSONBody[SiteUpdate]) -> SiteRead:
        """Change a site's content; its version (and offline ETag) moves on."""
        return await service.update_site(db, slug, data)

    @post(
        "/sites/{slug:str}/publish",
        operation_id="publish_site",
        summary="Publish a site",
        guards=EDITORS,
        status_code=200,
    )
    async def publish(self, db: DB, slug: FromPath[str]) -> SiteRead:
        """Make a site visible to the public."""
        return await service.set_site_status(db, slug, "published")

    @post(
        "/sites/{slug:str}/unpublish",
        operation_id="unpublish_site",
        summary="Unpublish a site",
        guards=EDITORS,
        status_code=200,
    )
    async def unpublish(self, db: DB, slug: FromPath[str]) -> SiteRead:
        """Take a site back to draft; the public no longer sees it."""
        return await service.set_site_status(db, slug, "draft")

    @post(
        "/sites/{slug:str}/points",
        operation_id="create_point",
        summary="Add a point of interest",
        guards=EDITORS,
        status_code=201,
    )
    async def create_point(self, db: DB, slug: FromPath[str], data: JSONBody[PointCreate]) -> PointRead:
        """Add a point of interest with its trigger zone."""
        return await service.create_point(db, slug, data)

    @patch(
        "/sites/{slug:str}/points/{point:str}",
        operation_id="update_point",
        summary="Update a point of interest",
        guards=EDITORS,
    )
    async def update_point(
        self, db: DB, slug: FromPath[str], point: FromPath[str], data: JSONBody[PointUpdate]
    ) -> PointRead:
        """Change a point of interest."""
        return await service.update_point(db, slug, point, data)

    @put(
        "/sites/{slug:str}/points/{point:str}/tracks/{lang:str}",
        operation_id="put_track",
        summary="Set a point's narration track",
        guards=EDITORS,
        status_code=200,
    )
    async def put_track(
        self,
        request: Request[CurrentUser, Token, Any],
        db: DB,
        state: State,
        media_store: MediaStoreDep,
        slug: FromPath[str],
        point: FromPath[str],
        lang: LangPath,
        data: JSONBody[TrackUpload],
    ) -> TrackRef:
        """Set the narration of a point in one language from an uploaded media id (or inline base64)."""
        track = await tracks.put_track(db, media_store, request.user, slug, point, lang, data)
        return track_ref(track, base_url(state), lang)

    @post("/sites/{slug:str}/tours", operation_id="create_tour", summary="Add a tour", guards=EDITORS, status_code=201)
    async def create_tour(self, db: DB, slug: FromPath[str], data: JSONBody[TourCreate]) -> TourRead:
        """Add a tour: ordered stops and a route; distance and duration are computed."""
        return await service.create_tour(db, slug, data)

    @patch("/sites/{slug:str}/tours/{tour:str}", operation_id="update_tour", summary="Update a tour", guards=EDITORS)
    async def update_tour(
        self, db: DB, slug: FromPath[str], tour: FromPath[str], data: JSONBody[TourUpdate]
    ) -> TourRead:
        """Change a tour."""
        return await service.update_tour(db, slug, tour, data)
