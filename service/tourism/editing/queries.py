"""SQL that writes heritage content: sites, points, tracks and tours; unchanged rows are never rewritten."""

import uuid
from typing import Any

import asyncpg
import msgspec

from service.tourism.sites.queries import POINT_COLUMNS, SITE_COLUMNS, TRACK_COLUMNS, TrackRow, point_by_slug
from service.tourism.sites.schemas import PointRead, SiteRead


async def insert_site(conn: asyncpg.Connection, values: dict[str, Any]) -> SiteRead | None:
    row = await conn.fetchrow(
        f"""
        insert into tourism_sites (slug, texts, lat, lon, commune_code, ranking, photos, sources,
            coordinates_status, coordinates_note, needs_check, search_name, search_body, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        on conflict (slug) do nothing
        returning {SITE_COLUMNS}
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
        returning {SITE_COLUMNS}
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
        returning {SITE_COLUMNS}
        """,  # noqa: S608 - constant column list
        site_id,
        status,
    )
    assert row is not None, "the caller found the site in this transaction"
    return msgspec.convert(dict(row), SiteRead)


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
        returning {POINT_COLUMNS}
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
        select {TRACK_COLUMNS} from tourism_tracks t join tourism_points p on p.id = t.point_id where t.id = $1
        """,  # noqa: S608 - constant column list
        row["id"],
    )
    assert track is not None
    return msgspec.convert(dict(track), TrackRow)


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
