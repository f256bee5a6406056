"""SQL behind the guide's in-memory index of a site: three reads when a site is first asked for."""

import uuid
from typing import Any

import asyncpg
import msgspec


class SiteKey(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slug: str
    version: int


async def published_site_key(conn: asyncpg.Connection, slug: str) -> SiteKey | None:
    row = await conn.fetchrow(
        "select id, slug, version from tourism_sites where slug = $1 and status = 'published'", slug
    )
    return None if row is None else msgspec.convert(dict(row), SiteKey)


async def guide_points(conn: asyncpg.Connection, site_id: uuid.UUID) -> list[dict[str, Any]]:
    """A site's points in play order, each with its tracks (cues left out: the guide does not need them)."""
    rows = await conn.fetch(
        """
        select p.id, p.slug, p.ord, p.lat, p.lon, p.radius_m, p.polygon, p.dwell_seconds, p.cooldown_seconds,
               p.play_once, p.texts,
               coalesce((select jsonb_agg(jsonb_build_object(
                    'id', t.id, 'point_id', t.point_id, 'point_slug', p.slug, 'lang', t.lang, 'media_id', t.media_id,
                    'audio_ref', t.audio_ref, 'duration_s', t.duration_s, 'bytes', t.bytes, 'sha256', t.sha256,
                    'mime', t.mime, 'narrator', t.narrator, 'origin', t.origin, 'cues', '[]'::jsonb))
                 from tourism_tracks t where t.point_id = p.id), '[]'::jsonb) as tracks
        from tourism_points p
        where p.site_id = $1
        order by p.ord, p.slug
        """,
        site_id,
    )
    return [dict(r) for r in rows]


async def tour_stops(conn: asyncpg.Connection, site_id: uuid.UUID) -> list[tuple[str, str]]:
    """(tour slug, point slug) for every stop of the site's tours, in stop order."""
    rows = await conn.fetch(
        """
        select tt.slug as tour, p.slug as point
        from tourism_tours tt
        join tourism_tour_stops ts on ts.tour_id = tt.id
        join tourism_points p on p.id = ts.point_id
        where tt.site_id = $1
        order by tt.slug, ts.position
        """,
        site_id,
    )
    return [(row["tour"], row["point"]) for row in rows]
