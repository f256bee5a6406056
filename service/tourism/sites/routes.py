"""Public read routes of heritage content (published only): sites, points, tours, GeoJSON and search.

All read through `read_db` (the replica when there is a fit one): published content tolerates a little lag.
"""

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, SkipValidation

from service.core.db import ReadDB
from service.tourism.languages import check_language
from service.tourism.params import LangQuery, base_url
from service.tourism.ports import NearbyProducers, ProductSearch
from service.tourism.sites import service
from service.tourism.sites.geojson import GEOJSON_MIME, FeatureCollection, sites_feature_collection
from service.tourism.sites.schemas import PointPublic, SitePublic, SiteSummary, TourPublic
from service.tourism.sites.search import SearchQuery, SearchResults, search_places


class SitesController(Controller):
    path = "/api/v1"
    tags = ["tourism: sites"]

    @get("/sites", operation_id="list_sites", summary="List heritage sites", exclude_from_auth=True)
    async def list_sites(self, read_db: ReadDB, state: State, lang: LangQuery = "vi") -> list[SiteSummary]:
        """Published heritage sites, in the asked language when written in it."""
        check_language(lang)
        return await service.published_site_summaries(read_db, base_url(state), lang)

    @get(
        "/sites.geojson",
        operation_id="sites_geojson",
        summary="Map of sites, points and tours",
        exclude_from_auth=True,
        media_type=GEOJSON_MIME,
    )
    async def sites_geojson(self, read_db: ReadDB, state: State, lang: LangQuery = "vi") -> FeatureCollection:
        """Sites, points with their zone radius, and tours as an RFC 7946 FeatureCollection."""
        check_language(lang)
        return await sites_feature_collection(read_db, lang, base_url(state))

    @get("/sites/{slug:str}", operation_id="get_site", summary="Get a heritage site", exclude_from_auth=True)
    async def get_site(
        self,
        read_db: ReadDB,
        state: State,
        slug: FromPath[str],
        nearby_producers: NamedDependency[SkipValidation[NearbyProducers | None]] = None,
        lang: LangQuery = "vi",
    ) -> SitePublic:
        """One published site with its points, tracks, tours and nearby OCOP producers."""
        check_language(lang)
        return await service.published_site_view(read_db, slug, base_url(state), lang, nearby_producers)

    @get(
        "/sites/{slug:str}/points",
        operation_id="list_site_points",
        summary="List a site's points of interest",
        exclude_from_auth=True,
    )
    async def list_points(
        self, read_db: ReadDB, state: State, slug: FromPath[str], lang: LangQuery = "vi"
    ) -> list[PointPublic]:
        """The points of interest of a published site, in visiting order."""
        check_language(lang)
        return await service.published_points(read_db, slug, base_url(state), lang)

    @get(
        "/sites/{slug:str}/tours", operation_id="list_site_tours", summary="List a site's tours", exclude_from_auth=True
    )
    async def list_tours(self, read_db: ReadDB, slug: FromPath[str], lang: LangQuery = "vi") -> list[TourPublic]:
        """The tours of a published site with their routes, distances and durations."""
        check_language(lang)
        return await service.published_tours(read_db, slug, lang)

    @get("/search", operation_id="search_places", summary="Search sites, points and products", exclude_from_auth=True)
    async def search(
        self,
        read_db: ReadDB,
        state: State,
        q: Annotated[SearchQuery, QueryParameter()],
        product_search: NamedDependency[SkipValidation[ProductSearch | None]] = None,
        lang: LangQuery = "vi",
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 20,
    ) -> SearchResults:
        """Sites, points and OCOP products, diacritic-insensitive ("ho nui coc" finds "Hồ Núi Cốc"), ranked."""
        check_language(lang)
        return await search_places(read_db, q, lang, base_url=base_url(state), limit=limit, products=product_search)


class TourismOpenDataController(Controller):
    path = "/open-data"
    tags = ["open data"]

    @get(
        "/sites.geojson",
        operation_id="open_data_sites",
        summary="Heritage sites as open data (GeoJSON)",
        exclude_from_auth=True,
        media_type=GEOJSON_MIME,
    )
    async def sites(self, read_db: ReadDB, state: State, lang: LangQuery = "vi") -> FeatureCollection:
        """Heritage sites, points and tours of Thái Nguyên as open data (RFC 7946 GeoJSON)."""
        check_language(lang)
        return await sites_feature_collection(read_db, lang, base_url(state))
