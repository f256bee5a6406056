"""Structs on the wire for the audio guide: the app's position report, the guide's answer, the offline pack."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.tourism.sites.schemas import LangTag, SitePublic, Slug, TrackRef


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


class OfflineFile(msgspec.Struct, kw_only=True):
    kind: Literal["audio", "captions", "model"]
    url: str
    bytes: int
    sha256: str
    mime: str
    point: str | None = None
    lang: str | None = None


class OfflineManifest(msgspec.Struct, kw_only=True):
    format: int
    site: str
    version: int
    lang: str
    etag: str
    content: SitePublic
    files: list[OfflineFile]
    total_bytes: int
