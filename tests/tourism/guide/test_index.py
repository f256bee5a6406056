"""The guide's in-memory index finds every zone a visitor is in, on a dense site, right up to a zone's edge."""

import math
import random
import uuid

from service.tourism.geo import EARTH_RADIUS_M, haversine_m, point_in_ring
from service.tourism.guide.index import Candidate, SiteGuide
from service.tourism.guide.schemas import PositionReport
from service.tourism.guide.service import guide_answer

TEXTS = {"vi": {"title": "Điểm", "text": "Lời kể."}}


def _point(i: int, lat: float, lon: float, radius_m: float, polygon: list[list[float]] | None = None) -> Candidate:
    return Candidate(
        id=uuid.uuid4(),
        slug=f"p-{i}",
        ord=i,
        lat=lat,
        lon=lon,
        radius_m=radius_m,
        polygon=polygon,
        dwell_seconds=0,
        cooldown_seconds=0,
        play_once=False,
        texts=TEXTS,
        tracks=[],
    )


def _moved(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    """The position `metres` away on a great circle, at `bearing` degrees (the exact inverse of haversine)."""
    d, theta = metres / EARTH_RADIUS_M, math.radians(bearing)
    phi1, lmb1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(phi2), math.degrees(lmb2)


def _dense_site(rng: random.Random) -> SiteGuide:
    """3,000 circles of 20-80 m and 200 small polygons over about 4 x 4 km of Hồ Núi Cốc."""
    points = [
        _point(i, 21.56 + rng.random() * 0.04, 105.62 + rng.random() * 0.04, float(rng.randint(20, 80)))
        for i in range(3000)
    ]
    for i in range(3000, 3200):
        lat, lon = 21.56 + rng.random() * 0.04, 105.62 + rng.random() * 0.04
        ring = [[lon, lat], [lon + 0.0007, lat], [lon + 0.0004, lat + 0.0006], [lon, lat]]
        points.append(_point(i, lat + 0.0002, lon + 0.0003, 60.0, ring))
    return SiteGuide(site_id=uuid.uuid4(), slug="ho-nui-coc", version=1, points=points, tours={})


def _inside_by_brute_force(guide: SiteGuide, lat: float, lon: float) -> set[str]:
    return {
        p.slug
        for p in guide.points
        if (point_in_ring(lat, lon, p.polygon) if p.polygon else haversine_m(lat, lon, p.lat, p.lon) <= p.radius_m)
    }


def _inside(guide: SiteGuide, lat: float, lon: float) -> set[str]:
    report = PositionReport(site=guide.slug, lat=lat, lon=lon, accuracy_m=5, lang="vi")
    return set(guide_answer(guide, report, "https://trace.example.vn").inside)


def test_every_zone_the_visitor_is_in_is_found_anywhere_on_a_dense_site() -> None:
    rng = random.Random(2025)
    guide = _dense_site(rng)
    found_some = 0
    for _ in range(1500):
        lat, lon = 21.56 + rng.random() * 0.04, 105.62 + rng.random() * 0.04
        expected = _inside_by_brute_force(guide, lat, lon)
        assert _inside(guide, lat, lon) == expected, (lat, lon)
        found_some += bool(expected)
    assert found_some > 300  # the positions did land in zones, not only between them


def test_a_visitor_on_the_edge_of_a_circle_is_inside_and_a_step_beyond_is_not() -> None:
    rng = random.Random(915)
    guide = _dense_site(rng)
    for point in rng.sample([p for p in guide.points if p.polygon is None], 200):
        bearing = rng.random() * 360
        lat, lon = _moved(point.lat, point.lon, point.radius_m * (1 - 1e-9), bearing)
        assert point.slug in _inside(guide, lat, lon), (point.slug, bearing)
        lat, lon = _moved(point.lat, point.lon, point.radius_m + 0.05, bearing)
        assert point.slug not in _inside(guide, lat, lon), (point.slug, bearing)
