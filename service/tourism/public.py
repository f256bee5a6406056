"""What tourism offers other domains (through their own Protocols, wired in app.py)."""

from typing import Literal

import asyncpg
import msgspec

from service.tourism.geo import bbox_around, haversine_m
from service.tourism.langs import pick_language

NEAR_RADIUS_M = 50_000.0


class PlaceRef(msgspec.Struct, frozen=True, kw_only=True):
    """A published heritage site or point of interest near somewhere, nearest first."""

    kind: Literal["site", "point"]
    slug: str
    site: str
    name: str
    lang: str
    lat: float
    lon: float
    distance_m: float
    url: str


async def sites_near(
    conn: asyncpg.Connection, lat: float, lon: float, lang: str, limit: int, *, base_url: str = ""
) -> list[PlaceRef]:
    """Published sites and points within 50 km, nearest first, from one indexed bounding-box query."""
    min_lat, max_lat, min_lon, max_lon = bbox_around(lat, lon, NEAR_RADIUS_M)
    rows = await conn.fetch(
        """
        select 'site' as kind, s.slug, s.slug as site, s.texts, s.lat, s.lon
        from tourism_sites s
        where s.status = 'published' and s.lat between $1 and $2 and s.lon between $3 and $4
        union all
        select 'point', p.slug, s.slug, p.texts, p.lat, p.lon
        from tourism_points p join tourism_sites s on s.id = p.site_id
        where s.status = 'published' and p.lat between $1 and $2 and p.lon between $3 and $4
        """,
        min_lat,
        max_lat,
        min_lon,
        max_lon,
    )
    places: list[PlaceRef] = []
    for row in rows:
        distance = haversine_m(lat, lon, row["lat"], row["lon"])
        if distance > NEAR_RADIUS_M:
            continue
        picked = pick_language(row["texts"], lang)
        text = picked[1] if picked else {}
        is_site = row["kind"] == "site"
        url = f"{base_url}/api/v1/sites/{row['site']}"
        places.append(
            PlaceRef(
                kind="site" if is_site else "point",
                slug=row["slug"],
                site=row["site"],
                name=str(text.get("name" if is_site else "title", row["slug"])),
                lang=picked[0] if picked else lang,
                lat=row["lat"],
                lon=row["lon"],
                distance_m=round(distance, 1),
                url=url if is_site else f"{url}/points#{row['slug']}",
            )
        )
    places.sort(key=lambda place: (place.distance_m, place.kind != "site", place.slug))
    return places[: max(limit, 0)]
