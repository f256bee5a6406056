"""Reads of the daily scan rollup (scan_daily) for the statistics: never the raw scans table.

Counts are grouped by one dimension (product, batch, the producer's commune, product category) and a period
(day, week or month, named by its first day). Who may see which organizations is access.py's rule.
"""

import uuid
from datetime import date, timedelta
from typing import Literal

import asyncpg
import msgspec

from service.traceability.access import VISIBLE_ORGS
from service.traceability.registry.communes import commune

ScanDimension = Literal["product", "batch", "commune", "category", "phone_commune"]
UNKNOWN_COMMUNE = "unknown"  # the key of scans whose phone's commune is not known
_UNKNOWN_LABEL = {
    "vi": "Không rõ (không có vị trí hoặc ngoài tỉnh)",
    "en": "Unknown (no position, or outside the province)",
}

# (key, label) per dimension: constant SQL, never user data; $6 is the language of product names
_DIMENSIONS: dict[str, tuple[str, str]] = {
    "product": ("p.id::text", "coalesce(p.names ->> $6::text, p.names ->> 'vi')"),
    "batch": ("b.id::text", "coalesce(p.names ->> $6::text, p.names ->> 'vi') || ' · ' || b.lot"),
    "commune": ("coalesce(o.commune_code, '')", "coalesce(o.commune_name, '')"),
    "category": ("p.category", "p.category"),
}


class ScanCount(msgspec.Struct, frozen=True, kw_only=True):
    period: date
    key: str
    label: str
    scans: int


async def visible_organizations(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[uuid.UUID]:
    """The organizations this user manages: their own and, for a cooperative, its member farms."""
    return [row["id"] for row in await conn.fetch(VISIBLE_ORGS, user_id)]


async def product_organization(conn: asyncpg.Connection, product_id: uuid.UUID) -> uuid.UUID | None:
    value: uuid.UUID | None = await conn.fetchval("select organization_id from products where id = $1", product_id)
    return value


async def scans_by_period(
    conn: asyncpg.Connection,
    *,
    org_ids: list[uuid.UUID] | None,
    product_id: uuid.UUID | None,
    since: date,
    until: date,
    bucket: str,
    by: ScanDimension,
    lang: str = "vi",
) -> list[ScanCount]:
    """Counted scans per period and dimension; org_ids None means every organization (the province)."""
    if by == "phone_commune":
        return await scans_by_phone_commune(
            conn, org_ids=org_ids, product_id=product_id, since=since, until=until, bucket=bucket, lang=lang
        )
    if org_ids is None and product_id is None and (by == "category" or by == "commune"):
        return await province_scans_by_period(conn, since=since, until=until, bucket=bucket, by=by)
    key, label = _DIMENSIONS[by]
    names = [lang] if "$6" in label else []  # PostgreSQL refuses a parameter the statement never uses
    rows = await conn.fetch(
        f"""
        select date_trunc($4::text, d.day::timestamp)::date as period, {key} as key, {label} as label,
               sum(d.scans)::bigint as scans
        from scan_daily d
        join batches b on b.id = d.batch_id
        join products p on p.id = b.product_id
        join organizations o on o.id = b.organization_id
        where d.day between $2 and $3
          and ($1::uuid[] is null or b.organization_id = any($1::uuid[]))
          and ($5::uuid is null or p.id = $5)
        group by 1, 2, 3
        order by 1, 2
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        org_ids,
        since,
        until,
        bucket,
        product_id,
        *names,
    )
    return msgspec.convert([dict(r) for r in rows], list[ScanCount])


# the province-wide rows of a date range: the summary for complete days ($1..$2), scan_daily after them ($3..$4);
# plain date parameters, so both parts are index range scans
_AREA_ROWS = """
    select a.day, a.category, a.commune_code, a.commune_name, a.scans
    from scan_area_daily a
    where a.day between $1 and $2
    union all
    select d.day, p.category, coalesce(o.commune_code, ''), coalesce(o.commune_name, ''), d.scans
    from scan_daily d
    join batches b on b.id = d.batch_id
    join products p on p.id = b.product_id
    join organizations o on o.id = b.organization_id
    where d.day between $3 and $4
"""
_AREA_KEYS = {"category": ("category", "category"), "commune": ("commune_code", "commune_name")}


async def province_scans_by_period(
    conn: asyncpg.Connection, *, since: date, until: date, bucket: str, by: Literal["category", "commune"]
) -> list[ScanCount]:
    """Province-wide counts per category or producer's commune, from the area summary (scan_area_daily)."""
    key, label = _AREA_KEYS[by]
    through: date | None = await conn.fetchval("select complete_through from scan_area_daily_state")
    summarised_until = min(until, through) if through is not None else since - timedelta(days=1)
    live_since = max(since, through + timedelta(days=1)) if through is not None else since
    rows = await conn.fetch(
        f"""
        select date_trunc($5::text, r.day::timestamp)::date as period, r.{key} as key, max(r.{label}) as label,
               sum(r.scans)::bigint as scans
        from ({_AREA_ROWS}) as r (day, category, commune_code, commune_name, scans)
        group by 1, 2
        order by 1, 2
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        since,
        summarised_until,
        live_since,
        until,
        bucket,
    )
    return msgspec.convert([dict(r) for r in rows], list[ScanCount])


async def refresh_area_rollup(conn: asyncpg.Connection, today: date, overlap_days: int = 3) -> int:
    """Recompute the summary from the last complete day minus an overlap up to yesterday; returns rows written."""
    async with conn.transaction():
        through: date | None = await conn.fetchval("select complete_through from scan_area_daily_state for update")
        start = through - timedelta(days=overlap_days) if through is not None else date.min
        yesterday = today - timedelta(days=1)
        await conn.execute("delete from scan_area_daily where day > $1", start)
        status = await conn.execute(
            """
            insert into scan_area_daily (day, category, commune_code, commune_name, scans)
            select d.day, p.category, coalesce(o.commune_code, ''), max(coalesce(o.commune_name, '')), sum(d.scans)
            from scan_daily d
            join batches b on b.id = d.batch_id
            join products p on p.id = b.product_id
            join organizations o on o.id = b.organization_id
            where d.day > $1 and d.day <= $2
            group by 1, 2, 3
            """,
            start,
            yesterday,
        )
        await conn.execute("update scan_area_daily_state set complete_through = $1", yesterday)
        return int(status.split()[-1])


async def last_rollup_day(conn: asyncpg.Connection) -> date | None:
    value: date | None = await conn.fetchval("select max(day) from scan_daily")
    return value


# --- where the scanning phones were (scan_commune_daily, migration 0275) ---------------------------------------


class CommuneCount(msgspec.Struct, frozen=True, kw_only=True):
    key: str  # the commune's official code, or "unknown"
    label: str
    count: int


def _phone_commune_label(code: str, lang: str) -> tuple[str, str]:
    found = commune(code) if code else None
    if found is None:
        return UNKNOWN_COMMUNE, _UNKNOWN_LABEL.get(lang, _UNKNOWN_LABEL["vi"])
    return found.code, found.name


_PHONE_COMMUNE_ROWS = """
    select date_trunc($4::text, c.day::timestamp)::date as period, c.commune_code, sum(c.scans)::bigint as scans
    from scan_commune_daily c
    join batches b on b.id = c.batch_id
    where c.day between $2 and $3
      and ($1::uuid[] is null or b.organization_id = any($1::uuid[]))
      and ($5::uuid is null or b.product_id = $5)
    group by 1, 2
    order by 1, 2
"""


async def scans_by_phone_commune(
    conn: asyncpg.Connection,
    *,
    org_ids: list[uuid.UUID] | None,
    product_id: uuid.UUID | None,
    since: date,
    until: date,
    bucket: str,
    lang: str = "vi",
) -> list[ScanCount]:
    """Counted scans per period and the scanning phone's commune (estimated; "unknown" without a position)."""
    rows = await conn.fetch(_PHONE_COMMUNE_ROWS, org_ids, since, until, bucket, product_id)
    counts: list[ScanCount] = []
    for row in rows:
        if row["scans"]:
            key, label = _phone_commune_label(row["commune_code"], lang)
            counts.append(ScanCount(period=row["period"], key=key, label=label, scans=row["scans"]))
    return counts


async def first_scans_by_commune(
    conn: asyncpg.Connection,
    *,
    org_ids: list[uuid.UUID] | None,
    product_id: uuid.UUID | None = None,
    since: date,
    until: date,
    lang: str = "vi",
) -> list[CommuneCount]:
    """Serialized units first scanned in the range, per commune of the phone that scanned them first; most first."""
    rows = await conn.fetch(
        """
        select c.commune_code, sum(c.first_scans)::bigint as first_scans
        from scan_commune_daily c
        join batches b on b.id = c.batch_id
        where c.day between $2 and $3
          and ($1::uuid[] is null or b.organization_id = any($1::uuid[]))
          and ($4::uuid is null or b.product_id = $4)
        group by 1
        """,
        org_ids,
        since,
        until,
        product_id,
    )
    summed: dict[tuple[str, str], int] = {}
    for row in rows:
        labelled = _phone_commune_label(row["commune_code"], lang)
        summed[labelled] = summed.get(labelled, 0) + row["first_scans"]
    counts = [CommuneCount(key=key, label=label, count=n) for (key, label), n in summed.items() if n]
    return sorted(counts, key=lambda c: (-c.count, c.label))
