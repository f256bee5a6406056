"""Which commune a scanning phone was in, approximately: the nearest commune centre, within a radius.

The 2025 communes and wards were published without boundaries, so a position cannot be placed inside a polygon.
commune_centres.csv holds each Thái Nguyên commune's centre point and area (from `vietnamadminunits` 1.0.4, MIT;
see the file's header). A position belongs to the commune whose centre is nearest, accepted only within
1.5 x the radius of a disc of the commune's area, plus 1 km for the rounding of scan positions (0.01 degree);
anything further (another province, or the province's edge far from every centre) is unknown. It is an estimate:
near a border the phone may have stood in the neighbouring commune.
"""

import csv
import functools
import math
from importlib import resources
from typing import NamedTuple

import msgspec

EARTH_RADIUS_KM = 6371.0
ROUNDING_KM = 1.0  # scan positions are rounded to 0.01 degree, about 1.1 km north-south
RADIUS_FACTOR = 1.5  # communes are not discs; the nearest centre already decides between neighbours


class CommuneCentre(msgspec.Struct, frozen=True, kw_only=True):
    code: str  # official 5-digit code, e.g. "05443"
    name: str  # as the source spells it; the service's names come from communes.py
    lat: float
    lon: float
    area_km2: float

    @property
    def reach_km(self) -> float:
        """How far from the centre a position may lie and still count as this commune."""
        return RADIUS_FACTOR * math.sqrt(self.area_km2 / math.pi) + ROUNDING_KM


@functools.cache
def commune_centres() -> tuple[CommuneCentre, ...]:
    """The 92 centres, in code order; read once per process."""
    text = resources.files(__package__).joinpath("commune_centres.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        CommuneCentre(
            code=row["code"],
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            area_km2=float(row["area_km2"]),
        )
        for row in rows
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: within a province (a few tens of km) it differs from great-circle by < 0.1%."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_KM * math.hypot(x, y)


class _Grid(NamedTuple):
    """The centres projected once (km east and north of 0,0 at the province's middle latitude), and the box
    outside which no position can be within any commune's reach."""

    shrink: float  # cos of the middle latitude
    points: tuple[tuple[float, float, float, str], ...]  # x km, y km, reach km, code
    box: tuple[float, float, float, float]  # lat min, lat max, lon min, lon max


@functools.cache
def _grid() -> _Grid:
    centres = commune_centres()
    lats = [c.lat for c in centres]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    km = math.radians(1) * EARTH_RADIUS_KM  # per degree of latitude
    reach = max(c.reach_km for c in centres) / km
    box = (
        min(lats) - reach,
        max(lats) + reach,
        min(c.lon for c in centres) - reach / shrink,
        max(c.lon for c in centres) + reach / shrink,
    )
    return _Grid(shrink, tuple((c.lon * shrink * km, c.lat * km, c.reach_km, c.code) for c in centres), box)


@functools.lru_cache(maxsize=32_768)
def commune_at(lat: float, lon: float) -> str | None:
    """The code of the commune whose centre is nearest the position, if within its reach; else None (unknown).

    One projection for the whole province (it spans 1.3 degrees of latitude: under 1% off the pairwise
    equirectangular distance). Positions outside the province's box are refused at once; the rest are cached:
    positions are rounded to 0.01 degree, so the box holds only about 15,000 distinct ones.
    """
    grid = _grid()
    lat_min, lat_max, lon_min, lon_max = grid.box
    if not (lat_min <= lat <= lat_max and lon_min <= lon <= lon_max):  # also false for NaN
        return None
    km = math.radians(1) * EARTH_RADIUS_KM
    x, y = lon * grid.shrink * km, lat * km
    best_d2, best = math.inf, grid.points[0]
    for point in grid.points:
        d2 = (point[0] - x) ** 2 + (point[1] - y) ** 2
        if d2 < best_d2:
            best_d2, best = d2, point
    return best[3] if math.sqrt(best_d2) <= best[2] else None
