"""The audio guide's hot path: where is the visitor, what should play now, where to go next.

The server keeps no per-visitor state. The app sends what it knows: the points it has heard (and when),
and since when it has been inside each zone it was told it is in. The site's zones come from an in-memory
grid (guide/index.py, dropped on any change to the site); haversine and the zone rules run in Python.
"""

from datetime import UTC, datetime
from typing import Any

import msgspec

from service.core.cache import InvalidatedCache
from service.core.db import AnyPool, borrow
from service.core.errors import NotFound
from service.tourism.geo import bearing_deg, haversine_m, point_in_ring
from service.tourism.guide.index import Candidate, SiteGuide, load_site_guide
from service.tourism.guide.schemas import GuideAnswer, GuidePlay, NextStop, PositionReport, ZoneState
from service.tourism.languages import check_language, pick_language
from service.tourism.sites.queries import TrackRow
from service.tourism.sites.service import track_ref

POOR_ACCURACY_M = 100.0


def _inside_zone(candidate: Candidate, lat: float, lon: float, distance: float) -> bool:
    if candidate.polygon is not None:
        return point_in_ring(lat, lon, candidate.polygon)
    return distance <= candidate.radius_m


def _zone_state(
    candidate: Candidate, distance: float, report: PositionReport, now: datetime, heard: dict[str, datetime]
) -> ZoneState:
    def state(status: Any, wait: float | None = None) -> ZoneState:
        return ZoneState(
            point=candidate.slug,
            distance_m=round(distance, 1),
            status=status,
            wait_s=None if wait is None else round(wait, 1),
        )

    if report.accuracy_m > POOR_ACCURACY_M or report.accuracy_m > candidate.radius_m:
        return state("poor_accuracy")
    last_heard = heard.get(candidate.slug)
    if last_heard is not None:
        if candidate.play_once:
            return state("already_heard")
        since_heard = (now - last_heard).total_seconds()
        if since_heard < candidate.cooldown_seconds:
            return state("cooldown", candidate.cooldown_seconds - since_heard)
    if candidate.dwell_seconds > 0:
        entered = next((z.since for z in report.inside if z.point == candidate.slug), None)
        dwelt = 0.0 if entered is None else (now - entered).total_seconds()
        if dwelt < candidate.dwell_seconds:
            return state("dwell", candidate.dwell_seconds - max(dwelt, 0.0))
    return state("play")


def _play(candidate: Candidate, lang: str, base_url: str) -> GuidePlay:
    tracks = {t["lang"]: t for t in candidate.tracks}
    picked_track = pick_language(tracks, lang)
    picked_text = pick_language(candidate.texts, lang)
    track = None
    served = lang
    if picked_track is not None:
        served = picked_track[0]
        track = track_ref(msgspec.convert(picked_track[1], TrackRow), base_url, served)
    text = candidate.texts.get(served) if served in candidate.texts else (picked_text[1] if picked_text else None)
    text = text or {}
    if track is None and picked_text is not None:
        served = picked_text[0]
    return GuidePlay(
        point=candidate.slug,
        title=str(text.get("title", candidate.slug)),
        text=str(text.get("text", "")),
        lang=served,
        lang_fallback=served != lang,
        track=track,
    )


def guide_answer(guide: SiteGuide, report: PositionReport, base_url: str) -> GuideAnswer:
    """What to play and where to go next, from the site's in-memory index: no database on this path."""
    check_language(report.lang)
    now = report.at or datetime.now(UTC)
    heard: dict[str, datetime] = {}
    for item in report.heard:
        if item.point not in heard or item.at > heard[item.point]:
            heard[item.point] = item.at
    zones: list[tuple[float, Candidate, float]] = []
    for candidate in guide.zones_near(report.lat, report.lon):
        distance = haversine_m(report.lat, report.lon, candidate.lat, candidate.lon)
        if _inside_zone(candidate, report.lat, report.lon, distance):
            zones.append((distance / candidate.radius_m, candidate, distance))
    nexts = guide.next_stops(set(heard), report.tour, limit=2)
    zones.sort(key=lambda z: (z[0], z[1].ord, z[1].slug))
    states = [(candidate, _zone_state(candidate, distance, report, now, heard)) for _, candidate, distance in zones]
    playing = next(((c, s) for c, s in states if s.status == "play"), None)
    accuracy_ok = report.accuracy_m <= POOR_ACCURACY_M
    play: GuidePlay | None = None
    zone: ZoneState | None = None
    if playing is not None:
        play = _play(playing[0], report.lang, base_url)
        zone = playing[1]
        action, reason = "play", "in_zone"
    elif states:
        zone = states[0][1]
        action = "wait" if zone.status in ("dwell", "cooldown") else "none"
        reason = zone.status
    else:
        action, reason = "none", "poor_accuracy" if not accuracy_ok else "outside"
    skip = {play.point} if play is not None else set()
    upcoming = next((c for c in nexts if c.slug not in skip), None)
    next_stop = None
    if upcoming is not None:
        picked = pick_language(upcoming.texts, report.lang)
        next_stop = NextStop(
            point=upcoming.slug,
            title=str(picked[1].get("title", upcoming.slug)) if picked else upcoming.slug,
            lang=picked[0] if picked else report.lang,
            lat=upcoming.lat,
            lon=upcoming.lon,
            distance_m=round(haversine_m(report.lat, report.lon, upcoming.lat, upcoming.lon), 1),
            bearing_deg=round(bearing_deg(report.lat, report.lon, upcoming.lat, upcoming.lon), 1),
        )
    return GuideAnswer(
        site=report.site,
        at=now,
        action=action,  # type: ignore[arg-type]
        reason=reason,  # type: ignore[arg-type]
        accuracy_ok=accuracy_ok and (zone is None or zone.status != "poor_accuracy"),
        play=play,
        zone=zone,
        inside=[c.slug for c, _ in states],
        next_stop=next_stop,
    )


async def guide_position(
    pool: AnyPool, cache: InvalidatedCache[str, SiteGuide], report: PositionReport, base_url: str
) -> GuideAnswer:
    """Answer from the cached index of the site; the database is read only when the cache has no index."""

    async def load() -> SiteGuide | None:
        async with borrow(pool) as conn:
            return await load_site_guide(conn, report.site)

    guide = await cache.get_or_load(report.site, load)
    if guide is None:
        raise NotFound(f"there is no published site '{report.site}'", code="site_not_found")
    return guide_answer(guide, report, base_url)
