"""The aggregated statistics as open data: daily CSVs (CC-BY-4.0) with small counts suppressed.

Each dataset is described here once, in the open-data register's terms (service/core/catalog.py): its columns
with a Table Schema type, constraints and vi/en descriptions, which the catalogue, the Frictionless data package
and the DCAT catalogue all read. A count of 1 to 4 is published as an empty cell
with `suppressed` = true, so no single buyer or visitor can be picked out of a day's numbers.
"""

from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from service.core import clock
from service.core.catalog import Column, Dataset, FieldType, LastUpdated
from service.statistics.service import SUPPRESS_BELOW, csv_bytes, suppressed
from service.tourism import public as tourism
from service.traceability import public as traceability

PUBLISHED_DAYS = 365


def _column(name: str, type_: FieldType, vi: str, en: str, *, required: bool = True, **constraints: Any) -> Column:
    return Column(name, {"vi": vi, "en": en}, type_, required=required, **constraints)


_DAY = _column("day", "date", "ngày (giờ Việt Nam)", "local day (Vietnam time)")
_SUPPRESSED = _column(
    "suppressed",
    "boolean",
    f"đúng khi số đếm nhỏ hơn {SUPPRESS_BELOW} và được để trống để không lộ một cá nhân",
    f"true when the count was below {SUPPRESS_BELOW} and is left empty so no single person can be picked out",
)


def _count(name: str, vi: str, en: str) -> Column:
    return _column(
        name,
        "integer",
        f"{vi}; để trống khi nhỏ hơn {SUPPRESS_BELOW}",
        f"{en}; empty when below {SUPPRESS_BELOW}",
        required=False,
        minimum=SUPPRESS_BELOW,
    )


CATEGORIES = ["tea", "longan", "pomelo", "custard_apple", "cinnamon", "other"]

SCANS_BY_CATEGORY_COLUMNS = [
    _DAY,
    _column("category", "string", "loại sản phẩm", "product category", enum=tuple(CATEGORIES)),
    _count("scans", "số lượt quét mã được tính", "counted QR scans"),
    _SUPPRESSED,
]
SCANS_BY_COMMUNE_COLUMNS = [
    _DAY,
    _column(
        "commune_code",
        "string",
        "mã xã/phường của cơ sở sản xuất (2025)",
        "official 2025 commune/ward code of the producer",
        required=False,
    ),
    _column("commune_name", "string", "tên xã/phường", "commune or ward", required=False),
    _count("scans", "số lượt quét mã được tính", "counted QR scans"),
    _SUPPRESSED,
]
GUIDE_PLAYS_COLUMNS = [
    _DAY,
    _column("site", "string", "mã di tích (slug)", "site slug"),
    _column("point", "string", "mã điểm thuyết minh", "narrated point slug"),
    _column("lang", "string", "ngôn ngữ được phát", "language played (BCP 47)"),
    _count("plays", "số lần hướng dẫn bắt đầu phát", "guide answers that started a track"),
    _SUPPRESSED,
]
OFFLINE_DOWNLOADS_COLUMNS = [
    _DAY,
    _column("site", "string", "mã di tích (slug)", "site slug"),
    _count("downloads", "số lần tải gói ngoại tuyến", "offline packs downloaded"),
    _SUPPRESSED,
]


def _dataset(id_: str, path: str, vi: str, en: str, dvi: str, den: str, columns: list[Column]) -> Dataset:
    return Dataset(
        id=id_,
        title={"vi": vi, "en": en},
        description={"vi": dvi, "en": den},
        path=path,
        media_type="text/csv",
        columns=columns,
        frequency="daily",
        issued=date(2026, 11, 30),
    )


_WINDOW_VI = f"365 ngày gần nhất; số nhỏ hơn {SUPPRESS_BELOW} để trống. Không có dữ liệu cá nhân."
_WINDOW_EN = f"Last 365 days; counts below {SUPPRESS_BELOW} left empty. No personal data."

SCANS_BY_CATEGORY = _dataset(
    "statistics-scans-by-category-daily",
    "/open-data/statistics/scans-by-category-daily.csv",
    "Lượt quét mã truy xuất theo loại sản phẩm, theo ngày",
    "Traceability QR scans per product category and day",
    "Lượt quét được tính (không tính máy và quét lặp). " + _WINDOW_VI,
    "Counted scans (no bots, no repeats). " + _WINDOW_EN,
    SCANS_BY_CATEGORY_COLUMNS,
)
SCANS_BY_COMMUNE = _dataset(
    "statistics-scans-by-commune-daily",
    "/open-data/statistics/scans-by-commune-daily.csv",
    "Lượt quét mã truy xuất theo xã/phường của cơ sở sản xuất, theo ngày",
    "Traceability QR scans per producer's commune and day",
    "Xã/phường là nơi của cơ sở sản xuất, không phải của người quét. " + _WINDOW_VI,
    "The commune is the producer's, not the scanning phone's. " + _WINDOW_EN,
    SCANS_BY_COMMUNE_COLUMNS,
)
GUIDE_PLAYS = _dataset(
    "statistics-guide-plays-daily",
    "/open-data/statistics/guide-plays-daily.csv",
    "Lượt nghe thuyết minh theo điểm, ngôn ngữ và ngày",
    "Audio guide plays per point, language and day",
    "Các di tích đã xuất bản; không lưu thông tin khách. " + _WINDOW_VI,
    "Published sites; nothing about visitors is stored. " + _WINDOW_EN,
    GUIDE_PLAYS_COLUMNS,
)
OFFLINE_DOWNLOADS = _dataset(
    "statistics-offline-downloads-daily",
    "/open-data/statistics/offline-downloads-daily.csv",
    "Lượt tải gói ngoại tuyến theo di tích và ngày",
    "Offline pack downloads per site and day",
    "Các di tích đã xuất bản. " + _WINDOW_VI,
    "Published sites. " + _WINDOW_EN,
    OFFLINE_DOWNLOADS_COLUMNS,
)


def published_window() -> tuple[date, date]:
    until = clock.today()
    return until - timedelta(days=PUBLISHED_DAYS - 1), until


def _public(count: int) -> tuple[int | None, bool]:
    value = suppressed(count)
    return value, value is None


async def scans_by_category_csv(conn: asyncpg.Connection) -> bytes:
    since, until = published_window()
    counts = await traceability.scans_by_period(
        conn, org_ids=None, product_id=None, since=since, until=until, bucket="day", by="category"
    )
    return csv_bytes(
        [c.name for c in SCANS_BY_CATEGORY_COLUMNS], [(r.period, r.key, *_public(r.scans)) for r in counts]
    )


async def scans_by_commune_csv(conn: asyncpg.Connection) -> bytes:
    since, until = published_window()
    counts = await traceability.scans_by_period(
        conn, org_ids=None, product_id=None, since=since, until=until, bucket="day", by="commune"
    )
    return csv_bytes(
        [c.name for c in SCANS_BY_COMMUNE_COLUMNS],
        [(r.period, r.key or None, r.label or None, *_public(r.scans)) for r in counts],
    )


async def _published_site_ids(conn: asyncpg.Connection) -> list[Any]:
    return [s.id for s in await tourism.sites_for(conn, None, "vi") if s.published]


async def guide_plays_csv(conn: asyncpg.Connection) -> bytes:
    since, until = published_window()
    counts = await tourism.plays_by_period(conn, await _published_site_ids(conn), since, until, "day")
    return csv_bytes(
        [c.name for c in GUIDE_PLAYS_COLUMNS], [(r.period, r.site, r.point, r.lang, *_public(r.plays)) for r in counts]
    )


async def offline_downloads_csv(conn: asyncpg.Connection) -> bytes:
    since, until = published_window()
    counts = await tourism.downloads_by_period(conn, await _published_site_ids(conn), since, until, "day")
    return csv_bytes(
        [c.name for c in OFFLINE_DOWNLOADS_COLUMNS], [(r.period, r.site, *_public(r.downloads)) for r in counts]
    )


async def scans_last_updated(conn: asyncpg.Connection) -> datetime | None:
    """The start of the newest day in the rollup (it grows during that day)."""
    day = await traceability.last_rollup_day(conn)
    return None if day is None else datetime.combine(day, time(), tzinfo=clock.VN_TZ)


async def no_last_updated(conn: asyncpg.Connection) -> Any:
    """The guide counts move every minute of opening hours: no single "last change" worth a query."""
    return None


OPEN_DATASETS: list[tuple[Dataset, LastUpdated]] = [
    (SCANS_BY_CATEGORY, scans_last_updated),
    (SCANS_BY_COMMUNE, scans_last_updated),
    (GUIDE_PLAYS, no_last_updated),
    (OFFLINE_DOWNLOADS, no_last_updated),
]
