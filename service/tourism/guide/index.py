"""A site's points of interest held in memory for the guide: a coarse grid of zones plus the play order.

Built from three queries when a site is first asked for (or after a change notification dropped it),
then every position report is answered without the database.
"""

import math
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import msgspec

from service.tourism.geo import bbox_around
from service.tourism.guide import queries

CELL_DEGREES = 0.005  # about 550 m north-south: a visitor's cell lists every zone that reaches into it
# a zone's box is widened by this much (about 1 cm) before it is used to skip the exact test: float rounding and
# the box's flat-earth longitude span can never leave out a position the exact test would find inside
BOX_MARGIN_DEGREES = 1e-7


class Candidate(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slug: str
    ord: int
    lat: float
    lon: float
    radius_m: float
    polygon: list[list[float]] | None
    dwell_seconds: int
    cooldown_seconds: int
    play_once: bool
    texts: dict[str, Any]
    tracks: list[dict[str, Any]]


class SiteGuide(msgspec.Struct, kw_only=True):
    site_id: uuid.UUID
    slug: str
    version: int
    points: list[Candidate]  # in play order (ord, slug)
    tours: dict[str, list[str]]  # tour slug -> point slugs in stop order
    # per cell: the zones reaching into it, each with its bounding box (min_lat, max_lat, min_lon, max_lon)
    grid: dict[tuple[int, int], list[tuple[Candidate, float, float, float, float]]] = msgspec.field(
        default_factory=dict
    )
    by_slug: dict[str, int] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, point in enumerate(self.points):
            self.by_slug[point.slug] = index
            if point.polygon:
                lons = [p[0] for p in point.polygon]
                lats = [p[1] for p in point.polygon]
                box = (min(lats), max(lats), min(lons), max(lons))
            else:
                box = bbox_around(point.lat, point.lon, point.radius_m)
            m = BOX_MARGIN_DEGREES
            entry = (point, box[0] - m, box[1] + m, box[2] - m, box[3] + m)
            for cell in _cells(*box):
                self.grid.setdefault(cell, []).append(entry)

    def zones_near(self, lat: float, lon: float) -> Iterator[Candidate]:
        """Zones whose bounding box holds the visitor; the caller checks the exact shape.

        Four comparisons per zone in the visitor's cell, so the exact (trigonometric) test runs only for the
        one or two zones the visitor may be in, not for the thirty a dense cell lists.
        """
        for point, min_lat, max_lat, min_lon, max_lon in self.grid.get(_cell(lat, lon), ()):
            if min_lat <= lat <= max_lat and min_lon <= lon <= max_lon:
                yield point

    def next_stops(self, heard: set[str], tour: str | None, limit: int = 2) -> list[Candidate]:
        """The next unheard stops: in the tour's order when a tour is followed, else in the site's order."""
        order: Iterator[Candidate] = (
            (self.points[self.by_slug[s]] for s in self.tours.get(tour, []) if s in self.by_slug)
            if tour is not None
            else iter(self.points)
        )
        out: list[Candidate] = []
        for point in order:
            if point.slug not in heard:
                out.append(point)
                if len(out) == limit:
                    break
        return out


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / CELL_DEGREES), math.floor(lon / CELL_DEGREES)


def _cells(min_lat: float, max_lat: float, min_lon: float, max_lon: float) -> Iterator[tuple[int, int]]:
    lat0, lon0 = _cell(min_lat, min_lon)
    lat1, lon1 = _cell(max_lat, max_lon)
    for i in range(lat0, lat1 + 1):
        for j in range(lon0, lon1 + 1):
            yield i, j


async def load_site_guide(conn: asyncpg.Connection, slug: str) -> SiteGuide | None:
    """The published site's points (with their tracks, without cues) and tours; None when not published."""
    site = await queries.published_site_key(conn, slug)
    if site is None:
        return None
    points = await queries.guide_points(conn, site.id)
    tours: dict[str, list[str]] = {}
    for tour, point in await queries.tour_stops(conn, site.id):
        tours.setdefault(tour, []).append(point)
    return SiteGuide(
        site_id=site.id,
        slug=site.slug,
        version=site.version,
        points=msgspec.convert(points, list[Candidate], strict=False),
        tours=tours,
    )
