"""Public HTTP routes of the tourism domain (published content only), its route list and open datasets."""

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, route
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.enums import HttpMethod
from litestar.params import FromPath, JSONBody, QueryParameter, SkipValidation
from litestar.types import ControllerRouterHandler

from service.core.catalog import Column, Dataset, LastUpdated
from service.core.db import DB, borrow
from service.core.errors import NotFound
from service.core.http_files import SKIP_COMPRESSION, serve_bytes
from service.settings import Settings
from service.storage import MediaStoreDep, provide_media_store
from service.tourism import queries
from service.tourism.assets import GLB_MIME, model_assets
from service.tourism.caches import TourismCaches
from service.tourism.crosslinks import NearbyProducers, ProductSearch
from service.tourism.editor_routes import EditorController
from service.tourism.geojson import GEOJSON_MIME, FeatureCollection, sites_feature_collection
from service.tourism.guide import GuideAnswer, PositionReport, guide_position
from service.tourism.langs import check_language
from service.tourism.offline import build_manifest, current_offline_etag, etag_matches, render_vtt
from service.tourism.schemas import PointPublic, SitePublic, SiteSummary, TourPublic
from service.tourism.search import SearchQuery, SearchResults, search_places
from service.tourism.stored_media import deliver, model_download, track_download
from service.tourism.views import (
    load_published_site,
    point_public,
    site_public,
    site_summary,
    tour_public,
    tracks_by_point,
)

Lang = Annotated[str, QueryParameter(min_length=2, max_length=35, description="BCP 47 tag, e.g. vi, en")]
NEARBY_RADIUS_KM = 15.0
VTT_MIME = "text/vtt; charset=utf-8"


class ModelInfo(msgspec.Struct, kw_only=True):
    slug: str
    title: str
    description: str
    licence: str
    attribution: str
    triangles: int
    bytes: int
    sha256: str
    bbox_min: tuple[float, float, float]
    bbox_max: tuple[float, float, float]
    url: str


def _base_url(state: State) -> str:
    settings: Settings = state.settings
    return settings.base_url


class SitesController(Controller):
    path = "/api/v1"
    tags = ["tourism"]

    @get("/sites", operation_id="list_sites", exclude_from_auth=True)
    async def list_sites(self, db: DB, state: State, lang: Lang = "vi") -> list[SiteSummary]:
        """Published heritage sites, in the asked language when written in it."""
        check_language(lang)
        return [site_summary(s, _base_url(state), lang) for s in await queries.published_sites(db)]

    @get("/sites.geojson", operation_id="sites_geojson", exclude_from_auth=True, media_type=GEOJSON_MIME)
    async def sites_geojson(self, db: DB, state: State, lang: Lang = "vi") -> FeatureCollection:
        """Sites, points with their zone radius, and tours as an RFC 7946 FeatureCollection."""
        check_language(lang)
        return await sites_feature_collection(db, lang, _base_url(state))

    @get("/sites/{slug:str}", operation_id="get_site", exclude_from_auth=True)
    async def get_site(
        self,
        db: DB,
        state: State,
        slug: FromPath[str],
        nearby_producers: NamedDependency[SkipValidation[NearbyProducers | None]] = None,
        lang: Lang = "vi",
    ) -> SitePublic:
        """One published site with its points, tracks, tours and nearby OCOP producers."""
        check_language(lang)
        published = await load_published_site(db, slug)
        producers = []
        if nearby_producers is not None:
            site = published.site
            producers = await nearby_producers.near(site.lat, site.lon, NEARBY_RADIUS_KM, lang, 10)
        return site_public(published, _base_url(state), lang, producers)

    @get("/sites/{slug:str}/points", operation_id="list_site_points", exclude_from_auth=True)
    async def list_points(self, db: DB, state: State, slug: FromPath[str], lang: Lang = "vi") -> list[PointPublic]:
        """The points of interest of a published site, in visiting order."""
        check_language(lang)
        published = await load_published_site(db, slug)
        by_point = tracks_by_point(published.tracks)
        return [point_public(p, by_point.get(p.id, []), _base_url(state), lang) for p in published.points]

    @get("/sites/{slug:str}/tours", operation_id="list_site_tours", exclude_from_auth=True)
    async def list_tours(self, db: DB, slug: FromPath[str], lang: Lang = "vi") -> list[TourPublic]:
        """The tours of a published site with their routes, distances and durations."""
        check_language(lang)
        published = await load_published_site(db, slug)
        return [tour_public(t, lang) for t in published.tours]

    @get("/sites/{slug:str}/offline", operation_id="site_offline_pack", exclude_from_auth=True)
    async def offline_pack(
        self, request: Request[Any, Any, Any], state: State, slug: FromPath[str], lang: Lang = "vi"
    ) -> Response[Any]:
        """The offline manifest; 304 when If-None-Match carries the current ETag (no manifest is built)."""
        base_url = _base_url(state)
        headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if request.headers.get("if-none-match"):
            caches: TourismCaches = state.tourism_caches
            etag = await current_offline_etag(state.pool, caches.site_versions, slug, lang, base_url)
            if etag_matches(request.headers.get("if-none-match"), etag):
                return Response(b"", status_code=304, headers={**headers, "ETag": etag})
        async with borrow(state.pool) as db:
            manifest = await build_manifest(db, slug, lang, base_url)
        return Response(manifest, headers={**headers, "ETag": manifest.etag})

    @get("/search", operation_id="search_places", exclude_from_auth=True)
    async def search(
        self,
        db: DB,
        state: State,
        q: Annotated[SearchQuery, QueryParameter()],
        product_search: NamedDependency[SkipValidation[ProductSearch | None]] = None,
        lang: Lang = "vi",
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
    ) -> SearchResults:
        """Sites, points and OCOP products, diacritic-insensitive ("ho nui coc" finds "Hồ Núi Cốc"), ranked."""
        check_language(lang)
        return await search_places(db, q, lang, base_url=_base_url(state), limit=limit, products=product_search)


def _http_method_id(name: str) -> Any:
    """GET and HEAD of one handler need distinct OpenAPI operation ids."""
    return lambda _handler, method, _path: name if method == "GET" else f"{name}_head"


class MediaController(Controller):
    path = "/api/v1"
    tags = ["tourism"]
    dependencies = {"media_store": Provide(provide_media_store, sync_to_thread=False)}

    @route(
        "/tracks/{track_file:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=_http_method_id("track_captions"),
        exclude_from_auth=True,
        media_type=VTT_MIME,
        opt={SKIP_COMPRESSION: True},
    )
    async def captions(self, request: Request[Any, Any, Any], db: DB, track_file: FromPath[str]) -> Response[Any]:
        """The transcript of a track as WebVTT (`{id}.vtt`)."""
        track_id = _id_with_suffix(track_file, ".vtt")
        track = await queries.published_track(db, track_id)
        if track is None:
            raise NotFound("there is no published track with this id", code="track_not_found")
        body = render_vtt(track.cues).encode()
        return serve_bytes(request, body, VTT_MIME, cache_control="public, max-age=300")

    @route(
        "/tracks/{track_id:uuid}/audio",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=_http_method_id("track_audio"),
        exclude_from_auth=True,
        opt={SKIP_COMPRESSION: True},
    )
    async def audio(
        self, request: Request[Any, Any, Any], db: DB, media_store: MediaStoreDep, track_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        """Track audio with Range, ETag and 304, or a 307 to a short-lived presigned URL when media live in S3."""
        track = await queries.published_track(db, track_id)
        if track is None:
            raise NotFound("there is no published track with this id", code="track_not_found")
        where = await track_download(media_store, track)
        return await deliver(request, where, track.mime, etag=track.sha256, cache_control="public, max-age=3600")

    @get("/models", operation_id="list_models", exclude_from_auth=True)
    async def list_models(self, state: State, lang: Lang = "vi") -> list[ModelInfo]:
        """The 3D models shipped with the service, with licence and measurements."""
        check_language(lang)
        base_url = _base_url(state)
        vi = lang.startswith("vi")
        return [
            ModelInfo(
                slug=a.slug,
                title=a.title.vi if vi else a.title.en,
                description=a.description.vi if vi else a.description.en,
                licence=a.licence,
                attribution=a.attribution,
                triangles=a.triangles,
                bytes=a.bytes,
                sha256=a.sha256,
                bbox_min=a.bbox.min,
                bbox_max=a.bbox.max,
                url=f"{base_url}/api/v1/models/{a.slug}.glb",
            )
            for a in model_assets().values()
        ]

    @route(
        "/models/{model_file:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=_http_method_id("get_model_glb"),
        exclude_from_auth=True,
        opt={SKIP_COMPRESSION: True},
    )
    async def model_glb(
        self, request: Request[Any, Any, Any], db: DB, media_store: MediaStoreDep, model_file: FromPath[str]
    ) -> Response[Any]:
        """A GLB model (`{slug}.glb`) with a strong ETag and Range, or a 307 to object storage."""
        slug = model_file.removesuffix(".glb")
        asset = model_assets().get(slug) if model_file.endswith(".glb") else None
        if asset is None:
            raise NotFound(f"there is no 3D model '{model_file}'", code="model_not_found")
        where = await model_download(db, media_store, asset)
        return await deliver(request, where, GLB_MIME, etag=asset.sha256, cache_control="public, max-age=86400")


class GuideController(Controller):
    path = "/api/v1/guide"
    tags = ["tourism"]

    @post("/position", operation_id="guide_position", exclude_from_auth=True, status_code=200)
    async def position(self, state: State, data: JSONBody[PositionReport]) -> GuideAnswer:
        """What to play now at this position, and the next stop with distance and bearing."""
        caches: TourismCaches = state.tourism_caches
        return await guide_position(state.pool, caches.guides, data, _base_url(state))


class OpenDataController(Controller):
    path = "/open-data"
    tags = ["open data"]

    @get("/sites.geojson", operation_id="open_data_sites", exclude_from_auth=True, media_type=GEOJSON_MIME)
    async def sites(self, db: DB, state: State, lang: Lang = "vi") -> FeatureCollection:
        """Heritage sites, points and tours of Thái Nguyên as open data (RFC 7946 GeoJSON)."""
        check_language(lang)
        return await sites_feature_collection(db, lang, _base_url(state))


def _id_with_suffix(name: str, suffix: str) -> uuid.UUID:
    if not name.endswith(suffix):
        raise NotFound(f"tracks are served as {{id}}{suffix}", code="track_not_found")
    try:
        return uuid.UUID(name.removesuffix(suffix))
    except ValueError as exc:
        raise NotFound("there is no track with this id", code="track_not_found") from exc


route_handlers: list[ControllerRouterHandler] = [
    SitesController,
    MediaController,
    GuideController,
    OpenDataController,
    EditorController,
]


async def sites_last_updated(conn: Any) -> Any:
    """The newest change to published tourism content, for the open-data catalogue."""
    return await conn.fetchval("select max(updated_at) from tourism_sites where status = 'published'")


SITES_DATASET = Dataset(
    id="heritage-sites",
    title={"vi": "Di tích và điểm tham quan Thái Nguyên", "en": "Heritage sites of Thái Nguyên"},
    description={
        "vi": (
            "Các di tích đã xuất bản, điểm thuyết minh (kèm bán kính vùng kích hoạt) "
            "và tuyến tham quan, GeoJSON RFC 7946."
        ),
        "en": "Published heritage sites, narrated points (with trigger-zone radius) and tours, as RFC 7946 GeoJSON.",
    },
    path="/open-data/sites.geojson",
    media_type="application/geo+json",
    columns=[
        Column(name="kind", description="site, point, zone or tour"),
        Column(name="slug", description="stable identifier within its site"),
        Column(name="name", description="name in the requested language (lang=vi|en)"),
        Column(name="zone_radius_m", description="trigger-zone radius of a point, metres", type="number"),
        Column(name="distance_m", description="length of a tour route, metres", type="number"),
    ],
)

open_datasets: list[tuple[Dataset, LastUpdated]] = [(SITES_DATASET, sites_last_updated)]
