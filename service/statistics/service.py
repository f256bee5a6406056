"""The statistics' rules: who sees which counts (the same rules for the API, the CSV export and the pages),
date ranges and buckets, small-count suppression for public outputs, CSV rendering.

Role scopes: a farmer or cooperative sees its own organizations (a cooperative: with its member farms); inspectors
and admins see the province; editors see the guide counts of the sites they created (admins and inspectors: all
sites). Anything else is 403; a product or site outside the caller's scope is 404, like one that does not exist.
Counts come from the daily rollups only (scan_daily, scan_commune_daily, guide_plays_daily, offline_downloads_daily).
"""

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core import clock
from service.core.errors import Forbidden, InvalidInput, NotFound
from service.statistics.schemas import (
    Bucket,
    DownloadRow,
    DownloadStats,
    PlayRow,
    PlayStats,
    ScanBy,
    ScanRow,
    ScanStats,
)
from service.tourism import public as tourism
from service.traceability import public as traceability

# A count below this is never published as such: an open-data cell of 1-4 scans of one product in one commune
# on one day (or plays of one point in one language) could point at a single buyer or visitor.
SUPPRESS_BELOW = 5
MAX_RANGE_DAYS = 3660
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)  # no count is older; arithmetic on them never overflows
DEFAULT_DAYS = 30
PRODUCER_ROLES = ("farmer", "cooperative")
PROVINCE_ROLES = ("inspector", "admin")
SITE_ROLES = ("editor", "inspector", "admin")


def suppressed(count: int) -> int | None:
    """None for a count that could single someone out (1 to SUPPRESS_BELOW - 1)."""
    return None if 0 < count < SUPPRESS_BELOW else count


def date_range(since: date | None, until: date | None) -> tuple[date, date]:
    """By default the last 30 days up to today (Vietnam); at most ten years."""
    for given in (since, until):
        if given is not None and not EARLIEST <= given <= LATEST:
            raise InvalidInput(f"dates must lie between {EARLIEST} and {LATEST}", code="invalid_range")
    until = until or clock.today()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until or (until - since).days > MAX_RANGE_DAYS:
        raise InvalidInput("since must not be after until, at most ten years apart", code="invalid_range")
    return since, until


async def scan_scope(conn: asyncpg.Connection, user: CurrentUser) -> list[uuid.UUID] | None:
    """The organizations whose scans the caller may count; None for the whole province."""
    if user.role in PROVINCE_ROLES:
        return None
    if user.role in PRODUCER_ROLES:
        return await traceability.visible_organizations(conn, user.id)
    raise Forbidden("scan statistics are for producers, cooperatives and officials", code="statistics_forbidden")


async def scan_stats(
    conn: asyncpg.Connection,
    user: CurrentUser,
    *,
    since: date | None,
    until: date | None,
    bucket: Bucket,
    by: ScanBy,
    product_id: uuid.UUID | None = None,
    lang: str = "vi",
) -> ScanStats:
    since, until = date_range(since, until)
    org_ids = await scan_scope(conn, user)
    if product_id is not None:
        owner = await traceability.product_organization(conn, product_id)
        if owner is None or (org_ids is not None and owner not in org_ids):
            raise NotFound("no product with this id", code="product_not_found")
    counts = await traceability.scans_by_period(
        conn, org_ids=org_ids, product_id=product_id, since=since, until=until, bucket=bucket, by=by, lang=lang
    )
    rows = msgspec.convert(counts, list[ScanRow], from_attributes=True)
    return ScanStats(
        scope="own" if org_ids is not None else "province",
        since=since,
        until=until,
        bucket=bucket,
        by=by,
        total=sum(r.scans for r in rows),
        rows=rows,
    )


async def first_scan_communes(
    conn: asyncpg.Connection, user: CurrentUser, *, since: date | None, until: date | None, lang: str = "vi"
) -> list[traceability.CommuneCount]:
    """Serialized units in the caller's scope first scanned in the range, per commune of the first scanning phone."""
    since, until = date_range(since, until)
    org_ids = await scan_scope(conn, user)
    return await traceability.first_scans_by_commune(conn, org_ids=org_ids, since=since, until=until, lang=lang)


async def site_scope(
    conn: asyncpg.Connection, user: CurrentUser, site: str | None, lang: str = "vi"
) -> list[tourism.SiteRef]:
    """The sites whose guide counts the caller may see, narrowed to one when asked."""
    if user.role not in SITE_ROLES:
        raise Forbidden("guide statistics are for site editors and officials", code="statistics_forbidden")
    sites = await tourism.sites_for(conn, user.id if user.role == "editor" else None, lang)
    if site is not None:
        sites = [s for s in sites if s.slug == site]
        if not sites:
            raise NotFound("no site with this slug", code="site_not_found")
    return sites


async def play_stats(
    conn: asyncpg.Connection,
    user: CurrentUser,
    *,
    since: date | None,
    until: date | None,
    bucket: Bucket,
    site: str | None = None,
    lang: str = "vi",
) -> PlayStats:
    since, until = date_range(since, until)
    sites = await site_scope(conn, user, site, lang)
    counts = await tourism.plays_by_period(conn, [s.id for s in sites], since, until, bucket)
    rows = msgspec.convert(counts, list[PlayRow], from_attributes=True)
    return PlayStats(
        since=since,
        until=until,
        bucket=bucket,
        sites=[s.slug for s in sites],
        total=sum(r.plays for r in rows),
        rows=rows,
        site_names={s.slug: s.name for s in sites},
    )


async def download_stats(
    conn: asyncpg.Connection,
    user: CurrentUser,
    *,
    since: date | None,
    until: date | None,
    bucket: Bucket,
    site: str | None = None,
) -> DownloadStats:
    since, until = date_range(since, until)
    sites = await site_scope(conn, user, site)
    counts = await tourism.downloads_by_period(conn, [s.id for s in sites], since, until, bucket)
    rows = msgspec.convert(counts, list[DownloadRow], from_attributes=True)
    return DownloadStats(
        since=since,
        until=until,
        bucket=bucket,
        sites=[s.slug for s in sites],
        total=sum(r.downloads for r in rows),
        rows=rows,
    )


# --- CSV ---------------------------------------------------------------------------------------------

BOM = "\ufeff"  # Excel on Windows reads UTF-8 only with it (see traceability/registry/datasets.py)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM, CRLF; a cell a spreadsheet would run as a formula gets a leading quote (CSV injection)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | date):
        return str(value) if not isinstance(value, date) else value.isoformat()
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def scans_csv(stats: ScanStats) -> bytes:
    return csv_bytes(["period", "key", "label", "scans"], [(r.period, r.key, r.label, r.scans) for r in stats.rows])


def plays_csv(stats: PlayStats) -> bytes:
    return csv_bytes(
        ["period", "site", "point", "lang", "plays"], [(r.period, r.site, r.point, r.lang, r.plays) for r in stats.rows]
    )


def downloads_csv(stats: DownloadStats) -> bytes:
    return csv_bytes(["period", "site", "downloads"], [(r.period, r.site, r.downloads) for r in stats.rows])
