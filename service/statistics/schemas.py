"""Wire Structs of the statistics API: counts per period, with the range and bucket they answer."""

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Bucket = Literal["day", "week", "month"]
# commune: the producer's; phone_commune: where the scanning phone was, estimated by the nearest commune centre to
# its rounded position ("unknown" when no position was sent or it lies outside the province)
ScanBy = Literal["product", "batch", "commune", "category", "phone_commune"]


class ScanRow(msgspec.Struct, frozen=True, kw_only=True):
    period: Annotated[date, Meta(description="first day of the day, ISO week (Monday) or month")]
    key: str
    label: str
    scans: int


class ScanStats(msgspec.Struct, kw_only=True):
    scope: Literal["own", "province"]
    since: date
    until: date
    bucket: Bucket
    by: ScanBy
    total: int
    rows: list[ScanRow]


class PlayRow(msgspec.Struct, frozen=True, kw_only=True):
    period: date
    site: str
    point: str
    lang: str
    plays: int


class PlayStats(msgspec.Struct, kw_only=True):
    since: date
    until: date
    bucket: Bucket
    sites: list[str]
    total: int
    rows: list[PlayRow]
    site_names: dict[str, str] = {}  # slug -> name in the asked language, for people reading the numbers


class DownloadRow(msgspec.Struct, frozen=True, kw_only=True):
    period: date
    site: str
    downloads: int


class DownloadStats(msgspec.Struct, kw_only=True):
    since: date
    until: date
    bucket: Bucket
    sites: list[str]
    total: int
    rows: list[DownloadRow]
