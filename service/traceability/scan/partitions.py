"""Scans by month: partitions made ahead of time, and old months archived to the media store, then dropped.

`scans` is range-partitioned on scanned_at by local month (migrations/0160): scans_YYYY_MM, plus a default
partition that only ever holds rows whose month was not made in time (ensure_scans_partition moves them).

Archived months are gzip CSV with a manifest (rows, sha256, columns) under `archive/scans/`. They are NOT
in the open-data catalogue: every row carries the unit scanned, the minute and a ~1 km position, so the scans
of one unit trace one buyer's movements (pseudonymous personal data under Decree 13/2023/ND-CP). The public
figure is the per-day rollup (scan_daily), which outlives the archive and stays in the database.
"""

import asyncio
import gzip
import hashlib
import logging
import re
import tempfile
import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path

import asyncpg
import msgspec

from service.core import clock
from service.storage import MediaStore

log = logging.getLogger("service.traceability.partitions")

ARCHIVE_PREFIX = "archive/scans/"
COLUMNS = ("id", "batch_id", "unit_id", "scanned_at", "lat", "lon", "ua_class", "counted")
_PARTITION = re.compile(r"^scans_(\d{4})_(\d{2})$")


def month_start(day: date, months: int = 0) -> date:
    """The first day of the month `months` after (or before) the one holding `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


async def ensure_partitions(conn: asyncpg.Connection, *, today: date, ahead: int) -> int:
    """This month's partition and the next `ahead` ones; returns how many were created."""
    created = 0
    for k in range(ahead + 1):
        made: bool = await conn.fetchval("select ensure_scans_partition($1)", month_start(today, k))
        created += int(made)
    return created


async def monthly_partitions(conn: asyncpg.Connection) -> dict[date, str]:
    """The month partitions attached to scans, by their first day."""
    rows = await conn.fetch(
        """
        select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'scans'::regclass
        """
    )
    months: dict[date, str] = {}
    for row in rows:
        match = _PARTITION.match(row["relname"])
        if match:
            months[date(int(match.group(1)), int(match.group(2)), 1)] = row["relname"]
    return months


class ArchiveManifest(msgspec.Struct, frozen=True, kw_only=True):
    """What an archived month holds, so a reader can check the file before trusting it."""

    table: str
    month: str  # YYYY-MM, local months (Asia/Ho_Chi_Minh)
    rows: int
    sha256: str  # of the .csv.gz object
    size: int
    columns: list[str]
    media_type: str = "text/csv"
    encoding: str = "gzip"
    archived_at: datetime
    personal_data: bool = True
    note: str = (
        "Not open data: a unit's scans (minute, ~1 km position) trace one buyer's movements. "
        "Per-day counts stay public in the database (scan_daily)."
    )


def archive_key(month: date) -> str:
    return f"{ARCHIVE_PREFIX}{month:%Y-%m}.csv.gz"


def manifest_key(month: date) -> str:
    return f"{ARCHIVE_PREFIX}{month:%Y-%m}.manifest.json"


async def _export(conn: asyncpg.Connection, table: str, target: Path) -> tuple[int, str, int]:
    """COPY the partition to a gzip CSV file, streamed (a month can be gigabytes); (rows, sha256, size)."""
    raw = target.with_suffix(".csv")
    query = f"select {', '.join(COLUMNS)} from {table} order by id"  # noqa: S608  # table: a name we made
    status = await conn.copy_from_query(query, output=raw, format="csv", header=True)
    rows = int(status.split()[-1])

    def compress() -> tuple[str, int]:
        digest = hashlib.sha256()
        with raw.open("rb") as source, target.open("wb") as out, gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as sink:
            while chunk := source.read(1 << 20):
                sink.write(chunk)
        with target.open("rb") as packed:
            while chunk := packed.read(1 << 20):
                digest.update(chunk)
        raw.unlink()
        return digest.hexdigest(), target.stat().st_size

    sha, size = await asyncio.to_thread(compress)
    return rows, sha, size


async def archive_month(conn: asyncpg.Connection, store: MediaStore, month: date, table: str) -> ArchiveManifest:
    """Export one month, store it with its manifest, then detach and drop it in one transaction.

    Safe to retry: until the drop commits the rows stay in the database, and a second export of a month no
    longer written to is the same file.
    """
    with tempfile.TemporaryDirectory(prefix="scans-archive-") as folder:
        target = Path(folder) / f"{uuid.uuid4().hex}.csv.gz"
        async with conn.transaction(isolation="repeatable_read"):
            rows, sha, size = await _export(conn, table, target)
        await store.put_file(archive_key(month), target, "application/gzip")
    manifest = ArchiveManifest(
        table=table,
        month=f"{month:%Y-%m}",
        rows=rows,
        sha256=sha,
        size=size,
        columns=list(COLUMNS),
        archived_at=clock.now(),
    )
    await store.put_bytes(manifest_key(month), msgspec.json.encode(manifest), "application/json")
    stored = await store.stat(archive_key(month))
    if stored is None or stored.size != size:
        raise RuntimeError(f"archive of {table} did not arrive whole; the partition is kept")
    async with conn.transaction():
        # the count under a lock that stops writes: nothing arrived since the export
        await conn.execute(f"lock table {table} in access exclusive mode")
        now_rows = await conn.fetchval(f"select count(*) from {table}")  # noqa: S608
        if now_rows != rows:
            raise RuntimeError(f"{table} changed while it was archived ({rows} -> {now_rows}); kept for next run")
        await conn.execute(f"alter table scans detach partition {table}")
        await conn.execute(f"drop table {table}")
    log.info("archived %s: %d scans", table, rows)
    return manifest


async def archive_old_months(
    conn: asyncpg.Connection, store: MediaStore, *, today: date, keep_months: int
) -> list[ArchiveManifest]:
    """Archive every month partition older than the last `keep_months` months (this one included)."""
    oldest_kept = month_start(today, -(keep_months - 1))
    done = []
    for month, table in sorted((await monthly_partitions(conn)).items()):
        if month < oldest_kept:
            done.append(await archive_month(conn, store, month, table))
    return done


async def counted_scans_on(conn: asyncpg.Connection, batch_id: uuid.UUID, day: date) -> int:
    """Counted scans of a batch on one local day, from the scans themselves (reads one partition).

    Bounds are instants, not a cast of scanned_at, so the planner prunes to the day's month.
    """
    start = datetime.combine(day, time(), clock.VN_TZ)
    value: int = await conn.fetchval(
        COUNTED_ON_DAY,
        batch_id,
        start,
        start + timedelta(days=1),
    )
    return value


COUNTED_ON_DAY = """
    select count(*) from scans
    where batch_id = $1 and scanned_at >= $2 and scanned_at < $3 and counted
"""
