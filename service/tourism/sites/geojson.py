"""Published sites, points (with their trigger zones) and tours as an RFC 7946 FeatureCollection."""

from typing import Any, Literal

import asyncpg
import msgspec

from service.tourism.languages import pick_language
from service.tourism.sites import queries

GEOJSON_MIME = "application/geo+json"


class Geometry(msgspec.Struct, kw_only=True):
    type: Literal["Point", "LineString", "Polygon"]
    coordinates: Any


class Feature(msgspec.Struct, kw_only=True):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: Geometry
    properties: dict[str, Any]


class FeatureCollection(msgspec.Struct, kw_only=True):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


def _name(texts: dict[str, Any], lang: str, key: str) -> tuple[str, str]:
    picked = pick_language(texts, lang)
    if picked is None:
        return lang, ""
    value = msgspec.to_builtins(picked[1])
    return picked[0], str(value.get(key, ""))


async def sites_feature_collection(conn: asyncpg.Connection, lang: str, base_url: str) -> FeatureCollection:
    """Three queries (sites, points, tours) for the whole province."""
    sites = await queries.published_sites(conn)
    site_ids = [s.id for s in sites]
    points = await queries.points_of_sites(conn, site_ids)
    tours = await queries.tours_of_sites(conn, site_ids)
    features: list[Feature] = []
    for site in sites:
        served, name = _name(site.texts, lang, "name")
        features.append(
            Feature(
                id=f"site/{site.slug}",
                geometry=Geometry(type="Point", coordinates=[site.lon, site.lat]),
                properties={
                    "kind": "site",
                    "slug": site.slug,
                    "name": name,
                    "lang": served,
                    "ranking": site.ranking,
                    "coordinates_status": site.coordinates_status,
                    "version": site.version,
                    "url": f"{base_url}/api/v1/sites/{site.slug}",
                },
            )
        )
        for point in points[site.id]:
            served, title = _name(point.texts, lang, "title")
            properties = {
                "kind": "point",
                "site": site.slug,
                "slug": point.slug,
                "name": title,
                "lang": served,
                "order": point.ord,
                "zone_radius_m": point.radius_m,
                "model": point.model,
            }
            features.append(
                Feature(
                    id=f"point/{site.slug}/{point.slug}",
                    geometry=Geometry(type="Point", coordinates=[point.lon, point.lat]),
                    properties=properties,
                )
            )
            if point.polygon is not None:
                features.append(
                    Feature(
                        id=f"zone/{site.slug}/{point.slug}",
                        geometry=Geometry(type="Polygon", coordinates=[point.polygon]),
                        properties={"kind": "zone", "site": site.slug, "point": point.slug},
                    )
                )
        for tour in tours[site.id]:
            served, title = _name(tour.texts, lang, "title")
            features.append(
                Feature(
                    id=f"tour/{site.slug}/{tour.slug}",
                    geometry=Geometry(type="LineString", coordinates=tour.route.coordinates),
                    properties={
                        "kind": "tour",
                        "site": site.slug,
                        "slug": tour.slug,
                        "name": title,
                        "lang": served,
                        "mode": tour.mode,
                        "playback": tour.playback,
                        "stops": tour.stops,
                        "distance_m": tour.distance_m,
                        "duration_s": tour.duration_s,
                    },
                )
            )
    return FeatureCollection(features=features)
