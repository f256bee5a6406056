"""What tourism offers other domains; service/crosslinks.py adapts it to the Protocols they declare."""

from typing import Literal

import asyncpg
import msgspec

from service.tourism.geo import EARTH_RADIUS_M, bbox_around
from service.tourism.guide.counts import (
    DownloadCount,
    PlayCount,
    SiteRef,
    downloads_by_period,
    plays_by_period,
    sites_for,
)
from service.tourism.languages import pick_language
from service.tourism.sites import queries

# the anonymous guide counts are offered to service/statistics as they are
__all__ = [
    "DownloadCount",
    "NearbyPlace",
    "PlayCount",
    "SiteRef",
    "downloads_by_period",
    "plays_by_period",
    "sites_for",
    "sites_near",
]

NEAR_RADIUS_M = 50_000.0


class NearbyPlace(msgspec.Struct, frozen=True, kw_only=True):
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
) -> list[NearbyPlace]:
    """The published sites and points nearest to a place within 50 km, nearest first: one indexed query."""
    rows = await queries.published_places_nearest(
        conn,
        lat,
        lon,
        radius_m=NEAR_RADIUS_M,
        box=bbox_around(lat, lon, NEAR_RADIUS_M),
        limit=limit,
        earth_radius_m=EARTH_RADIUS_M,
    )
    places: list[NearbyPlace] = []
    for row in rows:
        picked = pick_language(row.texts, lang)
        text = picked[1] if picked else {}
        is_site = row.kind == "site"
        # the pages people read (/g/...), not the JSON API: this is where the other domain's links lead
        url = f"{base_url}/g/{row.site_slug}"
        places.append(
            NearbyPlace(
                kind="site" if is_site else "point",
                slug=row.slug,
                site=row.site_slug,
                name=str(text.get("name" if is_site else "title", row.slug)),
                lang=picked[0] if picked else lang,
                lat=row.lat,
                lon=row.lon,
                distance_m=round(row.distance_m, 1),
                url=url if is_site else f"{url}/{row.slug}",
            )
        )
    places.sort(key=lambda place: (place.distance_m, place.kind != "site", place.slug))
    return places
