"""SQL of the tourism domain: one typed function per query, plain text with $n parameters."""

import uuid
from typing import Any

import asyncpg
import msgspec

from service.tourism.schemas import PointRead, SiteRead, TourRead


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


class TrackForServing(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    lang: str
    media_id: uuid.UUID | None
    audio_ref: str | None
    bytes: int
    sha256: str
    mime: str
    cues: list[dict[str, Any]]
    storage_key: str | None


_SITE_COLUMNS = """id, slug, status, version, texts, lat, lon, commune_code, ranking, photos, sources,
    coordinates_status, coordinates_note, needs_check, created_at, updated_at, published_at"""
_POINT_COLUMNS = """id, slug, ord, lat, lon, radius_m, polygon, dwell_seconds, cooldown_seconds, play_once,
    photos, model_slug as model, texts"""
_TRACK_COLUMNS = """t.id, t.point_id, p.slug as point_slug, t.lang, t.media_id, t.audio_ref, t.duration_s, t.bytes,
    t.sha256, t.mime, t.narrator, t.origin, t.cues"""


async def insert_site(conn: asyncpg.Connection, values: dict[str, Any]) -> SiteRead | None:
    row = await conn.fetchrow(
        f"""
        insert into tourism_sites (slug, texts, lat, lon, commune_code, ranking, photos, sources,
            coordinates_status, coordinates_note, needs_check, search_name, search_body, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        on conflict (slug) do nothing
        returning {_SITE_COLUMNS}
        """,  # noqa: S608 - constant column list
        values["slug"],
        values["texts"],
        values["lat"],
        values["lon"],
        values["commune_code"],
        values["ranking"],
        values["photos"],
        values["sources"],
        values["coordinates_status"],
        values["coordinates_note"],
        values["needs_check"],
        values["search_name"],
        values["search_body"],
        values.get("created_by"),
    )
    return None if row is None else msgspec.convert(dict(row), SiteRead)


async def update_site(conn: asyncpg.Connection, site_id: uuid.UUID, values: dict[str, Any]) -> SiteRead:
    row = await conn.fetchrow(
        f"""
        update tourism_sites set texts = $2, lat = $3, lon = $4, commune_code = $5, ranking = $6, photos = $7,
            sources = $8, coordinates_status = $9, coordinates_note = $10, needs_check = $11,
            search_name = $12, search_body = $13
        where id = $1
        returning {_SITE_COLUMNS}
        """,  # noqa: S608 - constant column list
        site_id,
        values["texts"],
        values["lat"],
        values["lon"],
        values["commune_code"],
        values["ranking"],
        values["photos"],
        values["sources"],
        values["coordinates_status"],
        values["coordinates_note"],
        values["needs_check"],
        values["search_name"],
        values["search_body"],
    )
    assert row is not None, "the caller found the site in this transaction"
    return msgspec.convert(dict(row), SiteRead)


async def set_site_status(conn: asyncpg.Connection, site_id: uuid.UUID, status: str) -> SiteRead:
    row = await conn.fetchrow(
        f"""
        update tourism_sites set status = $2,
            published_at = case when $2 = 'published' then coalesce(published_at, now()) else published_at end
        where id = $1
        returning {_SITE_COLUMNS}
        """,  # noqa: S608 - constant column list
        site_id,
        status,
    )
    assert row is not None, "the caller found the site in this transaction"
    return msgspec.convert(dict(row), SiteRead)


async def site_by_slug(conn: asyncpg.Connection, slug: str, *, published_only: bool) -> SiteRead | None:
    row = await conn.fetchrow(
        f"""
        select {_SITE_COLUMNS} from tourism_sites
        where slug = $1 and (status = 'published' or not $2)
        """,  # noqa: S608 - constant column list
        slug,
        published_only,
    )
    return None if row is None else msgspec.convert(dict(row), SiteRead)


async def published_sites(conn: asyncpg.Connection) -> list[SiteRead]:
    rows = await conn.fetch(
        f"select {_SITE_COLUMNS} from tourism_sites where status = 'published' order by slug"  # noqa: S608
    )
    return msgspec.convert([dict(r) for r in rows], list[SiteRead])


async def all_sites(conn: asyncpg.Connection) -> list[SiteRead]:
    rows = await conn.fetch(f"select {_SITE_COLUMNS} from tourism_sites order by slug")  # noqa: S608
    return msgspec.convert([dict(r) for r in rows], list[SiteRead])


async def published_site_version(conn: asyncpg.Connection, slug: str) -> int | None:
    """The one-column lookup behind a cheap 304 on the offline pack."""
    value = await conn.fetchval("select version from tourism_sites where slug = $1 and status = 'published'", slug)
    return None if value is None else int(value)


async def points_of_sites(conn: asyncpg.Connection, site_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PointRead]]:
    rows = await conn.fetch(
        f"""
        select site_id, {_POINT_COLUMNS} from tourism_points
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
        f"select {_POINT_COLUMNS} from tourism_points where site_id = $1 and slug = $2",  # noqa: S608
        site_id,
        slug,
    )
    return None if row is None else msgspec.convert(dict(row), PointRead)


async def point_ids_by_slug(conn: asyncpg.Connection, site_id: uuid.UUID, slugs: list[str]) -> dict[str, uuid.UUID]:
    rows = await conn.fetch(
        "select slug, id from tourism_points where site_id = $1 and slug = any($2::text[])", site_id, slugs
    )
    return {row["slug"]: row["id"] for row in rows}


async def upsert_point(conn: asyncpg.Connection, site_id: uuid.UUID, values: dict[str, Any]) -> PointRead:
    """Insert or replace a point by (site, slug); an unchanged row is not rewritten (the version stays)."""
    row = await conn.fetchrow(
        f"""
        insert into tourism_points as p (site_id, slug, ord, lat, lon, radius_m, polygon, dwell_seconds,
            cooldown_seconds, play_once, photos, model_slug, texts, search_name, search_body)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        on conflict (site_id, slug) do update set ord = excluded.ord, lat = excluded.lat, lon = excluded.lon,
            radius_m = excluded.radius_m, polygon = excluded.polygon, dwell_seconds = excluded.dwell_seconds,
            cooldown_seconds = excluded.cooldown_seconds, play_once = excluded.play_once, photos = excluded.photos,
            model_slug = excluded.model_slug, texts = excluded.texts, search_name = excluded.search_name,
            search_body = excluded.search_body, updated_at = now()
        where (p.ord, p.lat, p.lon, p.radius_m, p.polygon, p.dwell_seconds, p.cooldown_seconds, p.play_once,
               p.photos, p.model_slug, p.texts)
            is distinct from (excluded.ord, excluded.lat, excluded.lon, excluded.radius_m, excluded.polygon,
               excluded.dwell_seconds, excluded.cooldown_seconds, excluded.play_once, excluded.photos,
               excluded.model_slug, excluded.texts)
        returning {_POINT_COLUMNS}
        """,  # noqa: S608 - constant column list
        site_id,
        values["slug"],
        values["ord"],
        values["lat"],
        values["lon"],
        values["radius_m"],
        values["polygon"],
        values["dwell_seconds"],
        values["cooldown_seconds"],
        values["play_once"],
        values["photos"],
        values["model"],
        values["texts"],
        values["search_name"],
        values["search_body"],
    )
    if row is None:  # unchanged
        found = await point_by_slug(conn, site_id, values["slug"])
        assert found is not None
        return found
    return msgspec.convert(dict(row), PointRead)


async def tracks_of_sites(conn: asyncpg.Connection, site_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, TrackRow]]:
    rows = await conn.fetch(
        f"""
        select p.site_id, {_TRACK_COLUMNS}
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


async def track_langs(conn: asyncpg.Connection, point_id: uuid.UUID) -> set[str]:
    rows = await conn.fetch("select lang from tourism_tracks where point_id = $1", point_id)
    return {row["lang"] for row in rows}


async def upsert_track(conn: asyncpg.Connection, point_id: uuid.UUID, values: dict[str, Any]) -> TrackRow:
    row = await conn.fetchrow(
        """
        with saved as (
            insert into tourism_tracks as t (point_id, lang, media_id, audio_ref, duration_s, bytes, sha256, mime,
                narrator, origin, cues)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            on conflict (point_id, lang) do update set media_id = excluded.media_id, audio_ref = excluded.audio_ref,
                duration_s = excluded.duration_s, bytes = excluded.bytes, sha256 = excluded.sha256,
                mime = excluded.mime, narrator = excluded.narrator, origin = excluded.origin, cues = excluded.cues,
                updated_at = now()
            where (t.media_id, t.audio_ref, t.duration_s, t.bytes, t.sha256, t.mime, t.narrator, t.origin, t.cues)
                is distinct from (excluded.media_id, excluded.audio_ref, excluded.duration_s, excluded.bytes,
                excluded.sha256, excluded.mime, excluded.narrator, excluded.origin, excluded.cues)
            returning t.id
        )
        select id from saved
        union all
        select id from tourism_tracks where point_id = $1 and lang = $2 and not exists (select 1 from saved)
        """,
        point_id,
        values["lang"],
        values.get("media_id"),
        values.get("audio_ref"),
        values["duration_s"],
        values["bytes"],
        values["sha256"],
        values["mime"],
        values["narrator"],
        values["origin"],
        values["cues"],
    )
    assert row is not None, "the insert or the fallback select returns the row"
    track = await conn.fetchrow(
        f"""
        select {_TRACK_COLUMNS} from tourism_tracks t join tourism_points p on p.id = t.point_id where t.id = $1
        """,  # noqa: S608 - constant column list
        row["id"],
    )
    assert track is not None
    return msgspec.convert(dict(track), TrackRow)


async def published_track(conn: asyncpg.Connection, track_id: uuid.UUID) -> TrackForServing | None:
    """A track of a published site, with the media row's storage key when it has one."""
    row = await conn.fetchrow(
        """
        select t.id, t.lang, t.media_id, t.audio_ref, t.bytes, t.sha256, t.mime, t.cues, m.storage_key
        from tourism_tracks t
        join tourism_points p on p.id = t.point_id
        join tourism_sites s on s.id = p.site_id
        left join media m on m.id = t.media_id
        where t.id = $1 and s.status = 'published'
        """,
        track_id,
    )
    return None if row is None else msgspec.convert(dict(row), TrackForServing)


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


async def upsert_tour(conn: asyncpg.Connection, site_id: uuid.UUID, values: dict[str, Any]) -> uuid.UUID:
    tour_id: uuid.UUID = await conn.fetchval(
        """
        insert into tourism_tours as t (site_id, slug, mode, playback, texts, route, distance_m, duration_s)
        values ($1, $2, $3, $4, $5, $6, $7, $8)
        on conflict (site_id, slug) do update set mode = excluded.mode, playback = excluded.playback,
            texts = excluded.texts, route = excluded.route, distance_m = excluded.distance_m,
            duration_s = excluded.duration_s, updated_at = now()
        where (t.mode, t.playback, t.texts, t.route, t.distance_m, t.duration_s)
            is distinct from (excluded.mode, excluded.playback, excluded.texts, excluded.route,
                              excluded.distance_m, excluded.duration_s)
        returning id
        """,
        site_id,
        values["slug"],
        values["mode"],
        values["playback"],
        values["texts"],
        values["route"],
        values["distance_m"],
        values["duration_s"],
    )
    if tour_id is None:
        tour_id = await conn.fetchval(
            "select id from tourism_tours where site_id = $1 and slug = $2", site_id, values["slug"]
        )
    return tour_id


async def replace_tour_stops(conn: asyncpg.Connection, tour_id: uuid.UUID, point_ids: list[uuid.UUID]) -> None:
    """Rewrite the stops only when they differ, so an unchanged tour leaves the site version alone."""
    current = await conn.fetch("select point_id from tourism_tour_stops where tour_id = $1 order by position", tour_id)
    if [row["point_id"] for row in current] == point_ids:
        return
    await conn.execute("delete from tourism_tour_stops where tour_id = $1", tour_id)
    await conn.executemany(
        "insert into tourism_tour_stops (tour_id, position, point_id) values ($1, $2, $3)",
        [(tour_id, position, point_id) for position, point_id in enumerate(point_ids)],
    )
