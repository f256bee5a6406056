"""The aggregated statistics as open data: daily CSVs (CC-BY-4.0) with small counts suppressed.

Each dataset is described here once: its columns with a Table Schema type, constraints and vi/en descriptions
(`StatColumn`), which the open-data catalogue (service/core/catalog.py) lists and a data package can turn into
a Frictionless Table Schema field as it is (`table_schema`). A count of 1 to 4 is published as an empty cell
with `suppressed` = true, so no single buyer or visitor can be picked out of a day's numbers.
"""

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

import asyncpg
import msgspec

from service.core import clock
from service.core.catalog import Column, Dataset, LastUpdated
from service.statistics.service import SUPPRESS_BELOW, csv_bytes, suppressed
from service.tourism import public as tourism
from service.traceability import public as traceability

PUBLISHED_DAYS = 365
FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime"]


class StatColumn(msgspec.Struct, frozen=True, kw_only=True):
    """One CSV column: what a Table Schema field needs (name, type, description vi/en, constraints)."""

    name: str
    type: FieldType
    vi: str
    en: str
    required: bool = True
    minimum: int | None = None
    enum: list[str] | None = None


def table_schema(columns: Sequence[StatColumn]) -> dict[str, Any]:
    """Frictionless Table Schema of the columns (descriptions "vi / en"; empty cells are missing values)."""
    fields: list[dict[str, Any]] = []
    for c in columns:
        constraints: dict[str, Any] = {"required": c.required}
        if c.minimum is not None:
            constraints["minimum"] = c.minimum
        if c.enum is not None:
            constraints["enum"] = c.enum
        fields.append({"name": c.name, "type": c.type, "description": f"{c.vi} / {c.en}", "constraints": constraints})
    return {"fields": fields, "missingValues": [""]}


def _catalog_columns(columns: Sequence[StatColumn]) -> list[Column]:
    return [Column(c.name, f"{c.vi} / {c.en}", c.type) for c in columns]


_DAY = StatColumn(name="day", type="date", vi="ngày (giờ Việt Nam)", en="local day (Vietnam time)")
_SUPPRESSED = StatColumn(
    name="suppressed",
    type="boolean",
    vi=f"đúng khi số đếm nhỏ hơn {SUPPRESS_BELOW} và được để trống để không lộ một cá nhân",
    en=f"true when the count was below {SUPPRESS_BELOW} and is left empty so no single person can be picked out",
)


def _count(name: str, vi: str, en: str) -> StatColumn:
    return StatColumn(
        name=name,
        type="integer",
        vi=f"{vi}; để trống khi nhỏ hơn {SUPPRESS_BELOW}",
        en=f"{en}; empty when below {SUPPRESS_BELOW}",
        required=False,
        minimum=SUPPRESS_BELOW,
    )


CATEGORIES = ["tea", "longan", "pomelo", "custard_apple", "cinnamon", "other"]

SCANS_BY_CATEGORY_COLUMNS = [
    _DAY,
    StatColumn(name="category", type="string", vi="loại sản phẩm", en="product category", enum=CATEGORIES),
    _count("scans", "số lượt quét mã được tính", "counted QR scans"),
    _SUPPRESSED,
]
SCANS_BY_COMMUNE_COLUMNS = [
    _DAY,
    StatColumn(
        name="commune_code",
        type="string",
        vi="mã xã/phường của cơ sở sản xuất (2025)",
        en="official 2025 commune/ward code of the producer",
        required=False,
    ),
    StatColumn(name="commune_name", type="string", vi="tên xã/phường", en="commune or ward", required=False),
    _count("scans", "số lượt quét mã được tính", "counted QR scans"),
    _SUPPRESSED,
]
GUIDE_PLAYS_COLUMNS = [
    _DAY,
    StatColumn(name="site", type="string", vi="mã di tích (slug)", en="site slug"),
    StatColumn(name="point", type="string", vi="mã điểm thuyết minh", en="narrated point slug"),
    StatColumn(name="lang", type="string", vi="ngôn ngữ được phát", en="language played (BCP 47)"),
    _count("plays", "số lần hướng dẫn bắt đầu phát", "guide answers that started a track"),
    _SUPPRESSED,
]
OFFLINE_DOWNLOADS_COLUMNS = [
    _DAY,
    StatColumn(name="site", type="string", vi="mã di tích (slug)", en="site slug"),
    _count("downloads", "số lần tải gói ngoại tuyến", "offline packs downloaded"),
    _SUPPRESSED,
]


def _dataset(id_: str, path: str, vi: str, en: str, dvi: str, den: str, columns: list[StatColumn]) -> Dataset:
    return Dataset(
        id=id_,
        title={"vi": vi, "en": en},
        description={"vi": dvi, "en": den},
        path=path,
        media_type="text/csv",
        columns=_catalog_columns(columns),
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

# dataset id -> its columns, for a data package's Table Schemas
TABLE_COLUMNS: dict[str, list[StatColumn]] = {
    SCANS_BY_CATEGORY.id: SCANS_BY_CATEGORY_COLUMNS,
    SCANS_BY_COMMUNE.id: SCANS_BY_COMMUNE_COLUMNS,
    GUIDE_PLAYS.id: GUIDE_PLAYS_COLUMNS,
    OFFLINE_DOWNLOADS.id: OFFLINE_DOWNLOADS_COLUMNS,
}


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
