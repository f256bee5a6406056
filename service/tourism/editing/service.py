"""Editor rules: validate, then write in one transaction. Nothing is half-written on bad input."""

import uuid
from typing import Any

import asyncpg
import msgspec

from service.core.errors import Conflict, InvalidInput, NotFound
from service.tourism.editing import queries
from service.tourism.geo import (
    check_coordinates,
    check_polygon,
    check_positions,
    estimated_duration_s,
    route_length_m,
)
from service.tourism.languages import check_languages
from service.tourism.media.assets import model_assets
from service.tourism.sites import queries as reads
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
)
from service.tourism.sites.search import fold_all


def _plain(value: Any) -> Any:
    """Structs -> builtins, ready for the jsonb codec."""
    return msgspec.to_builtins(value)


async def _site_or_404(conn: asyncpg.Connection, slug: str) -> SiteRead:
    site = await reads.site_by_slug(conn, slug, published_only=False)
    if site is None:
        raise NotFound(f"there is no site '{slug}'", code="site_not_found")
    return site


def site_values(data: SiteCreate | SiteRead) -> dict[str, Any]:
    check_languages(data.texts)
    if not data.texts:
        raise InvalidInput("a site needs its texts in at least one language", code="texts_missing")
    check_coordinates(data.lat, data.lon, where="site")
    texts = _plain(data.texts)
    names = [t["name"] for t in texts.values()]
    bodies = [f"{t.get('summary', '')} {t.get('address', '')}" for t in texts.values()]
    return {
        "slug": data.slug,
        "texts": texts,
        "lat": data.lat,
        "lon": data.lon,
        "commune_code": data.commune_code,
        "ranking": data.ranking,
        "photos": list(data.photos),
        "sources": _plain(data.sources),
        "coordinates_status": data.coordinates_status,
        "coordinates_note": data.coordinates_note,
        "needs_check": list(data.needs_check),
        "search_name": fold_all(names),
        "search_body": fold_all(bodies),
    }


async def create_site(conn: asyncpg.Connection, data: SiteCreate, created_by: uuid.UUID | None) -> SiteRead:
    values = site_values(data)
    values["created_by"] = created_by
    site = await queries.insert_site(conn, values)
    if site is None:
        raise Conflict(f"a site with slug '{data.slug}' already exists", code="site_slug_taken")
    return site


async def update_site(conn: asyncpg.Connection, slug: str, data: SiteUpdate) -> SiteRead:
    async with conn.transaction():
        site = await _site_or_404(conn, slug)
        changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET}
        merged = msgspec.structs.replace(site, **changes)
        return await queries.update_site(conn, site.id, site_values(merged))


async def set_site_status(conn: asyncpg.Connection, slug: str, status: str) -> SiteRead:
    async with conn.transaction():
        site = await _site_or_404(conn, slug)
        if site.status == status:
            return site
        return await queries.set_site_status(conn, site.id, status)


async def editor_site(conn: asyncpg.Connection, slug: str) -> SiteRead:
    return await _site_or_404(conn, slug)


async def all_sites(conn: asyncpg.Connection) -> list[SiteRead]:
    return await reads.all_sites(conn)


# --- points ------------------------------------------------------------------------------------


def point_values(data: PointCreate | PointRead) -> dict[str, Any]:
    check_languages(data.texts)
    if not data.texts:
        raise InvalidInput("a point needs its texts in at least one language", code="texts_missing")
    check_coordinates(data.lat, data.lon, where="point")
    if data.radius_m <= 0:
        raise InvalidInput("radius_m must be greater than 0", code="invalid_radius")
    if data.polygon is not None:
        check_polygon(data.polygon, where="polygon")
    if data.model is not None and data.model not in model_assets():
        known = ", ".join(sorted(model_assets())) or "none"
        raise InvalidInput(f"there is no 3D model '{data.model}' (known: {known})", code="unknown_model")
    texts = _plain(data.texts)
    return {
        "slug": data.slug,
        "ord": data.ord,
        "lat": data.lat,
        "lon": data.lon,
        "radius_m": float(data.radius_m),
        "polygon": data.polygon,
        "dwell_seconds": data.dwell_seconds,
        "cooldown_seconds": data.cooldown_seconds,
        "play_once": data.play_once,
        "photos": list(data.photos),
        "model": data.model,
        "texts": texts,
        "search_name": fold_all(t["title"] for t in texts.values()),
        "search_body": fold_all(t.get("text", "") for t in texts.values()),
    }


async def create_point(conn: asyncpg.Connection, site_slug: str, data: PointCreate) -> PointRead:
    values = point_values(data)
    async with conn.transaction():
        site = await _site_or_404(conn, site_slug)
        if await reads.point_by_slug(conn, site.id, data.slug) is not None:
            raise Conflict(f"site '{site_slug}' already has a point '{data.slug}'", code="point_slug_taken")
        return await queries.upsert_point(conn, site.id, values)


async def update_point(conn: asyncpg.Connection, site_slug: str, point_slug: str, data: PointUpdate) -> PointRead:
    async with conn.transaction():
        site = await _site_or_404(conn, site_slug)
        point = await reads.point_by_slug(conn, site.id, point_slug)
        if point is None:
            raise NotFound(f"site '{site_slug}' has no point '{point_slug}'", code="point_not_found")
        changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET}
        merged = msgspec.structs.replace(point, **changes)
        return await queries.upsert_point(conn, site.id, point_values(merged))


# --- tours -------------------------------------------------------------------------------------


async def tour_values(conn: asyncpg.Connection, site: SiteRead, data: TourCreate | TourRead) -> dict[str, Any]:
    check_languages(data.texts)
    check_positions(data.route.coordinates, where="route.coordinates")
    known = await queries.point_ids_by_slug(conn, site.id, list(data.stops))
    unknown = [slug for slug in data.stops if slug not in known]
    if unknown:
        raise InvalidInput(
            f"tour stops that are not points of site '{site.slug}': {', '.join(unknown)}", code="unknown_stop"
        )
    distance = route_length_m(data.route.coordinates)
    return {
        "slug": data.slug,
        "mode": data.mode,
        "playback": data.playback,
        "texts": _plain(data.texts),
        "route": data.route.coordinates,
        "distance_m": round(distance, 1),
        "duration_s": estimated_duration_s(distance, data.mode),
        "stop_ids": [known[slug] for slug in data.stops],
    }


async def save_tour(conn: asyncpg.Connection, site: SiteRead, values: dict[str, Any]) -> TourRead:
    tour_id = await queries.upsert_tour(conn, site.id, values)
    await queries.replace_tour_stops(conn, tour_id, values["stop_ids"])
    tour = await reads.tour_by_slug(conn, site.id, values["slug"])
    assert tour is not None
    return tour


async def create_tour(conn: asyncpg.Connection, site_slug: str, data: TourCreate) -> TourRead:
    async with conn.transaction():
        site = await _site_or_404(conn, site_slug)
        if await reads.tour_by_slug(conn, site.id, data.slug) is not None:
            raise Conflict(f"site '{site_slug}' already has a tour '{data.slug}'", code="tour_slug_taken")
        return await save_tour(conn, site, await tour_values(conn, site, data))


async def update_tour(conn: asyncpg.Connection, site_slug: str, tour_slug: str, data: TourUpdate) -> TourRead:
    async with conn.transaction():
        site = await _site_or_404(conn, site_slug)
        tour = await reads.tour_by_slug(conn, site.id, tour_slug)
        if tour is None:
            raise NotFound(f"site '{site_slug}' has no tour '{tour_slug}'", code="tour_not_found")
        changes = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET}
        merged = msgspec.structs.replace(tour, **changes)
        return await save_tour(conn, site, await tour_values(conn, site, merged))
