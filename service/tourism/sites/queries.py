"""SQL that reads heritage content: sites, points, tracks and tours; one typed function per query."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from service.tourism.sites.schemas import PointRead, SiteRead, TourRead


class TrackRow(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    point_id: uuid.UUID
    point_slug: str
    lang: str
    media_id: uuid.UUID | None
    audio_ref: str | None
    duration_s: float
    bytes: int
    sha256: str
    mime: str
    narrator: str
    origin: str
    cues: list[dict[str, Any]]


SITE_COLUMNS = """id, slug, status, version, texts, lat, lon, commune_code, ranking, photos, sources,
    coordinates_status, coordinates_note, needs_check, created_at, updated_at, published_at"""
POINT_COLUMNS = """id, slug, ord, lat, lon, radius_m, polygon, dwell_seconds, cooldown_seconds, play_once,
    photos, model_slug as model, texts"""
TRACK_COLUMNS = """t.id, t.point_id, p.slug as point_slug, t.lang, t.media_id, t.audio_ref, t.duration_s, t.bytes,
    t.sha256, t.mime, t.narrator, t.origin, t.cues"""


async def site_by_slug(conn: asyncpg.Connection, slug: str, *, published_only: bool) -> SiteRead | None:
    row = await conn.fetchrow(
        f"""
        select {SITE_COLUMNS} from tourism_sites
        where slug = $1 and (status = 'published' or not $2)
        """,  # noqa: S608 - constant column list
        slug,
        published_only,
    )
    return None if row is None else msgspec.convert(dict(row), SiteRead)


async def published_sites(conn: asyncpg.Connection) -> list[SiteRead]:
    rows = await conn.fetch(
        f"select {SITE_COLUMNS} from tourism_sites where status = 'published' order by slug"  # noqa: S608
    )
    return msgspec.convert([dict(r) for r in rows], list[SiteRead])


async def all_sites(conn: asyncpg.Connection) -> list[SiteRead]:
    rows = await conn.fetch(f"select {SITE_COLUMNS} from tourism_sites order by slug")  # noqa: S608
    return msgspec.convert([dict(r) for r in rows], list[SiteRead])


async def published_site_version(conn: asyncpg.Connection, slug: str) -> int | None:
    """The one-column lookup behind a cheap 304 on the offline pack."""
    value = await conn.fetchval("select version from tourism_sites where slug = $1 and status = 'published'", slug)
    return None if value is None else int(value)


async def points_of_sites(conn: asyncpg.Connection, site_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PointRead]]:
    rows = await conn.fetch(
        f"""
        select site_id, {POINT_COLUMNS} from tourism_points
        where site_id = any($1::uuid[]) order by site_id, ord, slug
        """,  # noqa: S608 - constant column list
        site_ids,
    )
    out: dict[uuid.UUID, list[PointRead]] = {site_id: [] for site_id in site_ids}
    for row in rows:
        data = dict(row)
        out[data.pop("site_id")].append(msgspec.convert(data, PointRead))
    return out


async def point_by_slug(conn: asyncpg.Connection, site_id: uuid.UUID, slug: str) -> PointRead | None:
    row = await conn.fetchrow(
        f"select {POINT_COLUMNS} from tourism_points where site_id = $1 and slug = $2",  # noqa: S608
        site_id,
        slug,
    )
    return None if row is None else msgspec.convert(dict(row), PointRead)


async def tracks_of_sites(conn: asyncpg.Connection, site_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, TrackRow]]:
    rows = await conn.fetch(
        f"""
        select p.site_id, {TRACK_COLUMNS}
        from tourism_tracks t join tourism_points p on p.id = t.point_id
        where p.site_id = any($1::uuid[]) order by p.ord, p.slug, t.lang
        """,  # noqa: S608 - constant column list
        site_ids,
    )
    out: list[tuple[uuid.UUID, TrackRow]] = []
    for row in rows:
        data = dict(row)
        site_id = data.pop("site_id")
        out.append((site_id, msgspec.convert(data, TrackRow)))
    return out


_TOUR_SELECT = """
    select t.site_id, t.id, t.slug, t.mode, t.playback, t.texts, t.distance_m, t.duration_s,
        jsonb_build_object('type', 'LineString', 'coordinates', t.route) as route,
        coalesce((select array_agg(p.slug order by s.position) from tourism_tour_stops s
                  join tourism_points p on p.id = s.point_id where s.tour_id = t.id), '{}') as stops
    from tourism_tours t
"""


async def tours_of_sites(conn: asyncpg.Connection, site_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[TourRead]]:
    rows = await conn.fetch(_TOUR_SELECT + " where t.site_id = any($1::uuid[]) order by t.slug", site_ids)
    out: dict[uuid.UUID, list[TourRead]] = {site_id: [] for site_id in site_ids}
    for row in rows:
        data = dict(row)
        out[data.pop("site_id")].append(msgspec.convert(data, TourRead))
    return out


async def tour_by_slug(conn: asyncpg.Connection, site_id: uuid.UUID, slug: str) -> TourRead | None:
    row = await conn.fetchrow(_TOUR_SELECT + " where t.site_id = $1 and t.slug = $2", site_id, slug)
    if row is None:
        return None
    data = dict(row)
    data.pop("site_id")
    return msgspec.convert(data, TourRead)


async def published_sites_last_updated(conn: asyncpg.Connection) -> datetime | None:
    """The newest change to published content, for the open-data catalogue."""
    value: datetime | None = await conn.fetchval("select max(updated_at) from tourism_sites where status = 'published'")
    return value


class PlaceRow(msgspec.Struct, kw_only=True):
    """A published site or point with its texts in every language (search and nearby lookups)."""

    kind: str  # "site" | "point"
    slug: str
    site_slug: str
    texts: dict[str, Any]
    lat: float
    lon: float


class NearbyRow(PlaceRow, kw_only=True):
    distance_m: float  # measured by the query (_NEAREST_SQL)


_NEAREST_SQL = """
select kind, slug, site_slug, texts, lat, lon, distance_m from (
    select boxed.*, 2 * $3 * asin(least(1.0, sqrt(
        power(sin(radians(lat - $1) / 2), 2)
        + cos(radians($1)) * cos(radians(lat)) * power(sin(radians(lon - $2) / 2), 2)
    ))) as distance_m  -- great-circle metres from ($1, $2): the formula of geo.haversine_m
    from (
        select 'site' as kind, s.slug, s.slug as site_slug, s.texts, s.lat, s.lon
        from tourism_sites s
        where s.status = 'published' and s.lat between $5 and $6 and s.lon between $7 and $8
        union all
        select 'point', p.slug, s.slug, p.texts, p.lat, p.lon
        from tourism_points p join tourism_sites s on s.id = p.site_id
        where s.status = 'published' and p.lat between $5 and $6 and p.lon between $7 and $8
    ) boxed
) measured
where distance_m <= $4
order by distance_m, kind <> 'site', slug
limit $9
"""


async def published_places_nearest(
    conn: asyncpg.Connection,
    lat: float,
    lon: float,
    *,
    radius_m: float,
    box: tuple[float, float, float, float],
    limit: int,
    earth_radius_m: float,
) -> list[NearbyRow]:
    """The `limit` published sites and points nearest to (lat, lon) within radius_m, nearest first (sites before
    points at equal distance). The box (min_lat, max_lat, min_lon, max_lon) holding the circle takes the indexes;
    distances, order and limit are the database's, so a site with ten thousand points sends back `limit` rows,
    not ten thousand (a shopper page asks on every cache miss)."""
    rows = await conn.fetch(_NEAREST_SQL, lat, lon, earth_radius_m, radius_m, *box, max(limit, 0))
    return msgspec.convert([dict(r) for r in rows], list[NearbyRow])


class PlaceMatch(PlaceRow, kw_only=True):
    score: float


_SEARCH_SQL = """
with q as (select to_tsquery('simple', $1) as query)
select kind, slug, site_slug, texts, lat, lon, score from (
    select 'site' as kind, s.slug, s.slug as site_slug, s.texts, s.lat, s.lon,
        ts_rank(s.search_vector, q.query) + case when s.search_name like '%' || $2 || '%' then 1 else 0 end
            + 0.1 as score
    from tourism_sites s, q
    where s.status = 'published' and s.search_vector @@ q.query
    union all
    select 'point', p.slug, s.slug, p.texts, p.lat, p.lon,
        ts_rank(p.search_vector, q.query) + case when p.search_name like '%' || $2 || '%' then 1 else 0 end
    from tourism_points p join tourism_sites s on s.id = p.site_id, q
    where s.status = 'published' and p.search_vector @@ q.query
) hits
order by score desc, kind desc, slug
limit $3
"""


async def search_published_places(conn: asyncpg.Connection, tsquery: str, folded: str, limit: int) -> list[PlaceMatch]:
    """Sites and points matching a folded tsquery, best first (a whole-phrase match in a name counts most)."""
    rows = await conn.fetch(_SEARCH_SQL, tsquery, folded, limit)
    return msgspec.convert([dict(r) for r in rows], list[PlaceMatch])
