"""Structs on the wire for heritage sites, points of interest, tracks and tours."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from service.core.text import VISIBLE
from service.tourism.ports import NearbyProducer

Slug = Annotated[str, Meta(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80, examples=["ho-nui-coc"])]
# Range checks on coordinates live in the service, so swapped lat/lon gets its own clear problem.
Lat = Annotated[float, Meta(description="WGS84 latitude, degrees (Thái Nguyên: about 21.3-22.8)")]
Lon = Annotated[float, Meta(description="WGS84 longitude, degrees (Thái Nguyên: about 105.4-106.3)")]
CommuneCode = Annotated[str, Meta(pattern=r"^[0-9]{5}$", description="GSO commune/ward code (2025)")]
LangTag = Annotated[str, Meta(min_length=2, max_length=35, examples=["vi", "en"])]
Position = Annotated[list[float], Meta(min_length=2, max_length=2, description="[lon, lat]")]
Name = Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=200)]
ShortText = Annotated[str, Meta(max_length=4000)]
LongText = Annotated[str, Meta(max_length=40_000)]
Ranking = Literal["special_national", "national", "provincial", "unranked"]
CoordinatesStatus = Literal["verified", "needs_checking"]
Mode = Literal["walk", "boat", "drive"]
Playback = Literal["sequential", "free"]
Origin = Literal["human", "machine"]
Status = Literal["draft", "published"]


class SiteText(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Everything about a site that is written in one language."""

    name: Name
    summary: ShortText = ""
    history: LongText = ""
    address: Annotated[str, Meta(max_length=500)] = ""
    opening_hours: ShortText = ""
    tickets: ShortText = ""
    ranking_note: ShortText = ""


class Source(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    claim: Annotated[
        str, Meta(min_length=1, pattern=VISIBLE, max_length=1000, description="the fact or coordinate this backs")
    ]
    source: Annotated[str, Meta(min_length=1, pattern=VISIBLE, max_length=1000)]
    url: Annotated[str, Meta(max_length=2000)] | None = None


class SiteCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slug: Slug
    texts: dict[LangTag, SiteText]
    lat: Lat
    lon: Lon
    commune_code: CommuneCode | None = None
    ranking: Ranking = "unranked"
    photos: list[uuid.UUID] = []
    sources: list[Source] = []
    coordinates_status: CoordinatesStatus = "needs_checking"
    coordinates_note: ShortText = ""
    needs_check: list[ShortText] = []


class SiteUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    texts: dict[LangTag, SiteText] | UnsetType = UNSET
    lat: Lat | UnsetType = UNSET
    lon: Lon | UnsetType = UNSET
    commune_code: CommuneCode | UnsetType | None = UNSET
    ranking: Ranking | UnsetType = UNSET
    photos: list[uuid.UUID] | UnsetType = UNSET
    sources: list[Source] | UnsetType = UNSET
    coordinates_status: CoordinatesStatus | UnsetType = UNSET
    coordinates_note: ShortText | UnsetType = UNSET
    needs_check: list[ShortText] | UnsetType = UNSET


class SiteRead(msgspec.Struct, kw_only=True):
    """The editor's view of a site: every language, drafts included."""

    id: uuid.UUID
    slug: str
    status: Status
    version: int
    texts: dict[str, SiteText]
    lat: float
    lon: float
    commune_code: str | None
    ranking: Ranking
    photos: list[uuid.UUID]
    sources: list[Source]
    coordinates_status: CoordinatesStatus
    coordinates_note: str
    needs_check: list[str]
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class PointText(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Name
    text: LongText = ""


class PointCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slug: Slug
    ord: Annotated[int, Meta(ge=0, le=100_000)] = 0
    lat: Lat
    lon: Lon
    radius_m: Annotated[float, Meta(gt=0, le=5000, description="trigger circle, metres")]
    polygon: Annotated[list[Position], Meta(max_length=500)] | None = None
    dwell_seconds: Annotated[int, Meta(ge=0, le=3600)] = 0
    cooldown_seconds: Annotated[int, Meta(ge=0, le=86400)] = 0
    play_once: bool = False
    photos: list[uuid.UUID] = []
    model: Slug | None = None
    texts: dict[LangTag, PointText]


class PointUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ord: Annotated[int, Meta(ge=0, le=100_000)] | UnsetType = UNSET
    lat: Lat | UnsetType = UNSET
    lon: Lon | UnsetType = UNSET
    radius_m: Annotated[float, Meta(gt=0, le=5000)] | UnsetType = UNSET
    polygon: Annotated[list[Position], Meta(max_length=500)] | UnsetType | None = UNSET
    dwell_seconds: Annotated[int, Meta(ge=0, le=3600)] | UnsetType = UNSET
    cooldown_seconds: Annotated[int, Meta(ge=0, le=86400)] | UnsetType = UNSET
    play_once: bool | UnsetType = UNSET
    photos: list[uuid.UUID] | UnsetType = UNSET
    model: Slug | UnsetType | None = UNSET
    texts: dict[LangTag, PointText] | UnsetType = UNSET


class PointRead(msgspec.Struct, kw_only=True):
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
    photos: list[uuid.UUID]
    model: str | None
    texts: dict[str, PointText]


class Cue(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    start: Annotated[float, Meta(ge=0)]
    end: Annotated[float, Meta(gt=0)]
    text: Annotated[str, Meta(min_length=1, max_length=2000)]


class TrackUpload(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A point's narration in one language: a media id from the upload flow (`POST /api/v1/media`, purpose
    audio_track, completed), or small files inline as base64. Either way the bytes are sniffed, not trusted."""

    media_id: Annotated[uuid.UUID, Meta(description="a ready audio media item you uploaded")] | None = None
    audio_base64: Annotated[str, Meta(min_length=4, max_length=10_000_000)] | None = None
    narrator: Annotated[str, Meta(max_length=200)] = ""
    origin: Origin = "human"
    cues: list[Cue] = []
    duration_s: Annotated[float, Meta(gt=0, le=7200, description="needed for audio other than Ogg/Opus")] | None = None


class TrackRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    lang: str
    url: str
    vtt_url: str
    duration_s: float
    bytes: int
    sha256: str
    mime: str
    narrator: str
    origin: Origin
    machine_generated: bool
    label: str


class ModelLink(msgspec.Struct, kw_only=True):
    slug: str
    url: str
    bytes: int
    sha256: str
    title: str


class PointPublic(msgspec.Struct, kw_only=True):
    slug: str
    ord: int
    lat: float
    lon: float
    radius_m: float
    polygon: list[list[float]] | None
    dwell_seconds: int
    cooldown_seconds: int
    play_once: bool
    photos: list[uuid.UUID]
    model: ModelLink | None
    lang: str
    title: str
    text: str
    tracks: list[TrackRef]


class LineString(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    type: Literal["LineString"]
    coordinates: Annotated[list[Position], Meta(min_length=2, max_length=10_000)]


class TourText(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Name
    description: ShortText = ""


class TourCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    slug: Slug
    mode: Mode
    playback: Playback = "sequential"
    stops: Annotated[list[Slug], Meta(min_length=1, max_length=500, description="point slugs, in order")]
    route: LineString
    texts: dict[LangTag, TourText] = {}


class TourUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mode: Mode | UnsetType = UNSET
    playback: Playback | UnsetType = UNSET
    stops: Annotated[list[Slug], Meta(min_length=1, max_length=500)] | UnsetType = UNSET
    route: LineString | UnsetType = UNSET
    texts: dict[LangTag, TourText] | UnsetType = UNSET


class TourRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slug: str
    mode: Mode
    playback: Playback
    stops: list[str]
    route: LineString
    distance_m: float
    duration_s: int
    texts: dict[str, TourText]


class TourPublic(msgspec.Struct, kw_only=True):
    slug: str
    mode: Mode
    playback: Playback
    stops: list[str]
    route: LineString
    distance_m: float
    duration_s: int
    lang: str
    title: str
    description: str


class SiteSummary(msgspec.Struct, kw_only=True):
    slug: str
    lang: str
    name: str
    summary: str
    lat: float
    lon: float
    ranking: Ranking
    version: int
    coordinates_status: CoordinatesStatus
    url: str


class SitePublic(msgspec.Struct, kw_only=True):
    slug: str
    version: int
    lang: str
    languages: list[str]
    name: str
    summary: str
    history: str
    address: str
    commune_code: str | None
    opening_hours: str
    tickets: str
    ranking: Ranking
    ranking_note: str
    photos: list[uuid.UUID]
    sources: list[Source]
    coordinates_status: CoordinatesStatus
    coordinates_note: str
    needs_check: list[str]
    lat: float
    lon: float
    points: list[PointPublic]
    tours: list[TourPublic]
    nearby_producers: list[NearbyProducer]
    offline_url: str
