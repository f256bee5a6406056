"""Geometry on the WGS84 sphere: distances, bearings, the province's bounds and zone polygons."""

import itertools
import math
from collections.abc import Sequence
from typing import Final

from service.core.errors import InvalidInput

EARTH_RADIUS_M: Final = 6_371_008.8
# Thái Nguyên after the 2025 merger with Bắc Kạn, with a small margin.
PROVINCE_LAT: Final = (21.3, 22.8)
PROVINCE_LON: Final = (105.4, 106.3)
# Average speeds used to estimate a tour's duration, in metres per second.
MODE_SPEED_MPS: Final = {"walk": 1.1, "boat": 4.0, "drive": 8.3}

Position = Sequence[float]  # GeoJSON order: [lon, lat]


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from the first point to the second, degrees clockwise from north in [0, 360)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dlmb = math.radians(lon2 - lon1)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    return (math.degrees(math.atan2(y, x)) + 360.0) % 360.0


def bbox_around(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box that contains the circle of radius_m."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = math.degrees(radius_m / (EARTH_RADIUS_M * coslat))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def in_province(lat: float, lon: float) -> bool:
    return PROVINCE_LAT[0] <= lat <= PROVINCE_LAT[1] and PROVINCE_LON[0] <= lon <= PROVINCE_LON[1]


def check_coordinates(lat: float, lon: float, *, where: str = "coordinates") -> None:
    """Refuse out-of-range, swapped, or outside-the-province coordinates with a problem that says which."""
    if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        if in_province(lon, lat):
            raise InvalidInput(
                f"{where}: lat {lat}, lon {lon} look swapped (latitude is north-south, about 21-23 here)",
                code="coordinates_swapped",
            )
        raise InvalidInput(f"{where}: lat {lat}, lon {lon} are not WGS84 coordinates", code="coordinates_out_of_range")
    if in_province(lat, lon):
        return
    if in_province(lon, lat):
        raise InvalidInput(
            f"{where}: lat {lat}, lon {lon} look swapped (latitude is north-south, about 21-23 here)",
            code="coordinates_swapped",
        )
    raise InvalidInput(
        f"{where}: lat {lat}, lon {lon} is outside Thái Nguyên province "
        f"(lat {PROVINCE_LAT[0]}-{PROVINCE_LAT[1]}, lon {PROVINCE_LON[0]}-{PROVINCE_LON[1]})",
        code="outside_province",
    )


def check_positions(positions: Sequence[Position], *, where: str) -> None:
    """GeoJSON positions are [lon, lat]; each must be inside the province."""
    for index, position in enumerate(positions):
        if len(position) != 2:
            raise InvalidInput(f"{where}[{index}]: a position is [lon, lat]", code="invalid_geometry")
        lon, lat = position[0], position[1]
        check_coordinates(lat, lon, where=f"{where}[{index}]")


def route_length_m(route: Sequence[Position]) -> float:
    return sum(haversine_m(a[1], a[0], b[1], b[0]) for a, b in itertools.pairwise(route))


def estimated_duration_s(distance_m: float, mode: str) -> int:
    return round(distance_m / MODE_SPEED_MPS[mode])


def _orientation(p: Position, q: Position, r: Position) -> int:
    value = (q[1] - p[1]) * (r[0] - q[0]) - (q[0] - p[0]) * (r[1] - q[1])
    if abs(value) < 1e-15:
        return 0
    return 1 if value > 0 else 2


def _on_segment(p: Position, q: Position, r: Position) -> bool:
    """q lies on segment pr, given the three are collinear."""
    return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])


def segments_intersect(p1: Position, p2: Position, q1: Position, q2: Position) -> bool:
    """Classic orientation test, collinear overlaps included."""
    o1, o2 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    o3, o4 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4:
        return True
    return (
        (o1 == 0 and _on_segment(p1, q1, p2))
        or (o2 == 0 and _on_segment(p1, q2, p2))
        or (o3 == 0 and _on_segment(q1, p1, q2))
        or (o4 == 0 and _on_segment(q1, p2, q2))
    )


def check_polygon(ring: Sequence[Position], *, where: str = "polygon") -> None:
    """A zone polygon is one closed linear ring ([lon, lat], first == last, >= 4 positions) that never crosses itself.

    Zones have tens of vertices, so the O(n²) pairwise test is cheaper than a dependency on shapely.
    """
    if len(ring) < 4:
        raise InvalidInput(
            f"{where}: a ring needs at least 4 positions (3 corners and the first again)", code="invalid_polygon"
        )
    check_positions(ring, where=where)
    if list(ring[0]) != list(ring[-1]):
        raise InvalidInput(
            f"{where}: the ring is not closed (the last position must equal the first)", code="polygon_not_closed"
        )
    n = len(ring) - 1  # edges
    corners = [tuple(p) for p in ring[:-1]]
    if len(set(corners)) != n:
        raise InvalidInput(f"{where}: the ring visits a corner twice", code="polygon_self_intersecting")
    for i in range(n):
        a1, a2 = ring[i], ring[i + 1]
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # neighbours share a corner by construction
            if segments_intersect(a1, a2, ring[j], ring[j + 1]):
                raise InvalidInput(
                    f"{where}: edges {i + 1} and {j + 1} cross; zone outlines must not intersect themselves",
                    code="polygon_self_intersecting",
                )
    area2 = sum(ring[k][0] * ring[k + 1][1] - ring[k + 1][0] * ring[k][1] for k in range(n))
    if abs(area2) < 1e-14:
        raise InvalidInput(f"{where}: the ring has no area", code="invalid_polygon")


def point_in_ring(lat: float, lon: float, ring: Sequence[Position]) -> bool:
    """Ray casting on [lon, lat] positions; fine at the scale of a heritage site."""
    inside = False
    n = len(ring) - 1
    for k in range(n):
        x1, y1 = ring[k][0], ring[k][1]
        x2, y2 = ring[k + 1][0], ring[k + 1][1]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside
