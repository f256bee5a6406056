"""The audio guide's hot path: where is the visitor, what should play now, where to go next.

The server keeps no per-visitor state. The app sends what it knows: the points it has heard (and when),
and since when it has been inside each zone it was told it is in. One SQL round trip fetches the
candidate zones from an indexed bounding box plus the next unheard stops; haversine runs in Python.
"""

import math
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
from msgspec import Meta

from service.errors import NotFound
from service.tourism.geo import bbox_around, bearing_deg, haversine_m, point_in_ring
from service.tourism.langs import check_language, pick_language
from service.tourism.queries import TrackRow
from service.tourism.schemas import LangTag, Slug, TrackRef
from service.tourism.views import track_ref

MAX_RADIUS_M = 5000.0  # the schema's ceiling on a zone radius: the bounding box must cover any zone
POOR_ACCURACY_M = 100.0


class Heard(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    point: Slug
    at: datetime


class Inside(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    point: Slug
    since: datetime


class PositionReport(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    site: Slug
    lat: Annotated[float, Meta(ge=-90, le=90)]
    lon: Annotated[float, Meta(ge=-180, le=180)]
    accuracy_m: Annotated[float, Meta(ge=0, le=100_000)]
    heading: Annotated[float, Meta(ge=0, lt=360)] | None = None
    lang: LangTag = "vi"
    tour: Slug | None = None
    heard: Annotated[list[Heard], Meta(max_length=2000)] = []
    inside: Annotated[list[Inside], Meta(max_length=100, description="zones entered, as the app timed them")] = []
    at: datetime | None = None


class GuidePlay(msgspec.Struct, kw_only=True):
    point: str
    title: str
    text: str
    lang: str
    lang_fallback: bool
    track: TrackRef | None


class ZoneState(msgspec.Struct, kw_only=True):
    point: str
    distance_m: float
    status: Literal["play", "dwell", "cooldown", "already_heard", "poor_accuracy"]
    wait_s: float | None = None


class NextStop(msgspec.Struct, kw_only=True):
    point: str
    title: str
    lang: str
    lat: float
    lon: float
    distance_m: float
    bearing_deg: float


class GuideAnswer(msgspec.Struct, kw_only=True):
    site: str
    at: datetime
    action: Literal["play", "wait", "none"]
    reason: Literal["in_zone", "dwell", "cooldown", "already_heard", "poor_accuracy", "outside"]
    accuracy_ok: bool
    play: GuidePlay | None
    zone: ZoneState | None
    inside: list[str]
    next_stop: NextStop | None


class _Candidate(msgspec.Struct, kw_only=True):
    role: str
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


_GUIDE_SQL = """
with s as (select id from tourism_sites where slug = $1 and status = 'published'),
c as (
    (select 'zone' as role, p.id, p.slug, p.ord, p.lat, p.lon, p.radius_m, p.polygon, p.dwell_seconds,
            p.cooldown_seconds, p.play_once, p.texts
     from tourism_points p
     where p.site_id = (select id from s) and p.lat between $2 and $3 and p.lon between $4 and $5
       -- the index narrows to the widest possible zone; this keeps only circles that can contain the visitor
       and (p.polygon is not null or (abs(p.lat - $8) * 111320.0 <= p.radius_m + 1
                                      and abs(p.lon - $9) * $10 <= p.radius_m + 1)))
    union all
    (select 'next', p.id, p.slug, p.ord, p.lat, p.lon, p.radius_m, p.polygon, p.dwell_seconds,
            p.cooldown_seconds, p.play_once, p.texts
     from tourism_points p
     where $7::text is null and p.site_id = (select id from s) and p.slug <> all($6::text[])
     order by p.ord, p.slug limit 2)
    union all
    (select 'next', p.id, p.slug, p.ord, p.lat, p.lon, p.radius_m, p.polygon, p.dwell_seconds,
            p.cooldown_seconds, p.play_once, p.texts
     from tourism_tours tt
     join tourism_tour_stops ts on ts.tour_id = tt.id
     join tourism_points p on p.id = ts.point_id
     where tt.site_id = (select id from s) and tt.slug = $7 and p.slug <> all($6::text[])
     order by ts.position limit 2)
)
select s.id as site_id, c.role, c.id, c.slug, c.ord, c.lat, c.lon, c.radius_m, c.polygon, c.dwell_seconds,
    c.cooldown_seconds, c.play_once, c.texts,
    case when c.role = 'zone' then (
        select coalesce(jsonb_agg(jsonb_build_object(
            'id', t.id, 'point_id', t.point_id, 'point_slug', c.slug, 'lang', t.lang, 'media_id', t.media_id,
            'audio_ref', t.audio_ref, 'duration_s', t.duration_s, 'bytes', t.bytes, 'sha256', t.sha256,
            'mime', t.mime, 'narrator', t.narrator, 'origin', t.origin, 'cues', '[]'::jsonb)), '[]'::jsonb)
        from tourism_tracks t where t.point_id = c.id)
    else '[]'::jsonb end as tracks
from s left join c on true
"""


def _inside_zone(candidate: _Candidate, lat: float, lon: float, distance: float) -> bool:
    if candidate.polygon is not None:
        return point_in_ring(lat, lon, candidate.polygon)
    return distance <= candidate.radius_m


def _zone_state(
    candidate: _Candidate, distance: float, report: PositionReport, now: datetime, heard: dict[str, datetime]
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


def _play(candidate: _Candidate, lang: str, base_url: str) -> GuidePlay:
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


async def guide_position(conn: asyncpg.Connection, report: PositionReport, base_url: str) -> GuideAnswer:
    check_language(report.lang)
    now = report.at or datetime.now(UTC)
    heard: dict[str, datetime] = {}
    for item in report.heard:
        if item.point not in heard or item.at > heard[item.point]:
            heard[item.point] = item.at
    min_lat, max_lat, min_lon, max_lon = bbox_around(report.lat, report.lon, MAX_RADIUS_M)
    metres_per_lon_degree = 111320.0 * math.cos(math.radians(report.lat))
    rows = await conn.fetch(
        _GUIDE_SQL,
        report.site,
        min_lat,
        max_lat,
        min_lon,
        max_lon,
        list(heard),
        report.tour,
        report.lat,
        report.lon,
        metres_per_lon_degree,
    )
    if not rows:
        raise NotFound(f"there is no published site '{report.site}'", code="site_not_found")
    zones: list[tuple[float, _Candidate, float]] = []
    nexts: list[_Candidate] = []
    for row in rows:
        if row["role"] is None:
            continue
        candidate = msgspec.convert(dict(row), _Candidate, strict=False)
        if candidate.role == "next":
            nexts.append(candidate)
            continue
        distance = haversine_m(report.lat, report.lon, candidate.lat, candidate.lon)
        if _inside_zone(candidate, report.lat, report.lon, distance):
            zones.append((distance / candidate.radius_m, candidate, distance))
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
