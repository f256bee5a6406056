"""Scans by month: the conversion of an existing table, pruning, partitions ahead, and the archive of old months."""

import csv
import gzip
import hashlib
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest

from service.core import clock
from service.core.db import create_pool
from service.core.migrate import migrate
from service.jobs import JobContext, JobRunner
from service.schedule import scheduled_jobs
from service.settings import Settings
from service.storage import build_media_store
from service.traceability.scan import partitions
from tests.support.factories import stored_batch, stored_organization, stored_units
from tests.support.migrations import database_before

VN = clock.VN_TZ
COLUMNS = "id, batch_id, unit_id, scanned_at, lat, lon, ua_class, counted"


async def insert_scans(db: asyncpg.Connection, batch_id: uuid.UUID, unit_id: uuid.UUID, times: list[datetime]) -> None:
    await db.executemany(
        "insert into scans (batch_id, unit_id, scanned_at, lat, lon, ua_class, counted)"
        " values ($1, $2, $3, $4, $5, $6, $7)",
        [
            (
                batch_id,
                unit_id if i % 2 else None,
                at,
                21.59 if i % 3 else None,
                105.77 if i % 3 else None,
                "android",
                i % 4 != 0,
            )
            for i, at in enumerate(times)
        ],
    )


async def partition_of(db: asyncpg.Connection) -> dict[int, str]:
    rows = await db.fetch("select id, tableoid::regclass::text as part from scans")
    return {r["id"]: r["part"] for r in rows}


@pytest.fixture
async def old_database(postgres_server: str, tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A database migrated only up to the migrations before the partitioned scans."""
    async with database_before(postgres_server, tmp_path, 160) as made:
        yield made


async def test_migrating_an_existing_scans_table_keeps_every_row(old_database: tuple[str, Path]) -> None:
    dsn, before = old_database
    db = await asyncpg.connect(dsn)
    try:
        await migrate(db, before)
        batch = await stored_batch(db, await stored_organization(db))
        unit_id = (
            await db.fetchrow("select id from units where serial = $1", (await stored_units(db, batch["id"], 1))[0])
        )["id"]
        times = [
            datetime(2025, 12, 31, 23, 59, 59, tzinfo=VN),  # last second of December, local time
            datetime(2026, 1, 1, 0, 0, 0, tzinfo=VN),  # first of January, local (still Dec 31 in UTC)
            *(datetime(2026, 3, 14, 9, tzinfo=VN) + timedelta(minutes=k) for k in range(40)),
            datetime(2024, 6, 1, 12, tzinfo=VN),
        ]
        await insert_scans(db, batch["id"], unit_id, times)
        await db.execute("delete from scans where id = 3")  # ids with a gap, as deletes leave them
        rows_before = [dict(r) for r in await db.fetch(f"select {COLUMNS} from scans order by id")]
        assert await db.fetchval("select relkind from pg_class where relname = 'scans'") == b"r"

        applied = await migrate(db)

        assert "0160_scans_partitioned_by_month.sql" in applied
        assert await db.fetchval("select relkind from pg_class where relname = 'scans'") == b"p"
        rows_after = [dict(r) for r in await db.fetch(f"select {COLUMNS} from scans order by id")]
        assert rows_after == rows_before
        parts = await partition_of(db)
        assert parts[1] == "scans_2025_12" and parts[2] == "scans_2026_01"
        assert parts[4] == "scans_2026_03" and parts[max(parts)] == "scans_2024_06"
        assert await db.fetchval("select count(*) from scans_default") == 0
        month = clock.today().replace(day=1)
        assert await db.fetchval("select to_regclass($1) is not null", f"scans_{month:%Y_%m}")
        # new scans continue the ids and the old table is gone
        await insert_scans(db, batch["id"], unit_id, [clock.now()])
        assert await db.fetchval("select max(id) from scans") == max(r["id"] for r in rows_before) + 1
        assert await db.fetchval("select to_regclass('scans_unpartitioned')") is None
    finally:
        await db.close()


async def plan_relations(db: asyncpg.Connection, sql: str, *args: Any) -> set[str]:
    plan = json.loads(await db.fetchval(f"explain (format json) {sql}", *args))

    def walk(node: dict[str, Any]) -> set[str]:
        found = {node["Relation Name"]} if "Relation Name" in node else set()
        for child in node.get("Plans", []):
            found |= walk(child)
        return found

    return walk(plan[0]["Plan"])


async def test_the_per_day_query_reads_only_that_days_partition(db: asyncpg.Connection) -> None:
    await partitions.ensure_partitions(db, today=date(2026, 1, 20), ahead=2)
    batch = await stored_batch(db, await stored_organization(db))
    sql = partitions.COUNTED_ON_DAY
    for day, expected in (
        (date(2026, 2, 1), "scans_2026_02"),
        (date(2026, 1, 31), "scans_2026_01"),  # local day ending at 17:00 UTC: still one partition
        (date(2026, 3, 31), "scans_2026_03"),
    ):
        start = datetime(day.year, day.month, day.day, tzinfo=VN)
        assert await plan_relations(db, sql, batch["id"], start, start + timedelta(days=1)) == {expected}
    unit_id = await db.fetchval("select id from units limit 1")
    await insert_scans(db, batch["id"], unit_id, [datetime(2026, 2, 1, 0, 5, tzinfo=VN)] * 4)
    assert await partitions.counted_scans_on(db, batch["id"], date(2026, 2, 1)) == 3  # every fourth is uncounted
    assert await partitions.counted_scans_on(db, batch["id"], date(2026, 1, 31)) == 0


async def test_a_scan_before_its_partition_exists_is_kept_and_moved_in_later(db: asyncpg.Connection) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    await insert_scans(db, batch["id"], uuid.uuid4(), [datetime(2031, 5, 2, 8, tzinfo=VN)])
    assert set((await partition_of(db)).values()) == {"scans_default"}
    made = await partitions.ensure_partitions(db, today=date(2031, 5, 2), ahead=1)
    assert made == 2
    assert set((await partition_of(db)).values()) == {"scans_2031_05"}
    assert await partitions.ensure_partitions(db, today=date(2031, 5, 2), ahead=1) == 0  # retry-safe


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=0, max_size=4)
    yield pool
    await pool.close()


async def test_old_months_are_archived_to_the_store_with_a_manifest_then_dropped(
    pool: asyncpg.Pool, db: asyncpg.Connection, s3_settings: Settings, tmp_path: Path
) -> None:
    this_month = partitions.month_start(clock.today())
    old, kept = partitions.month_start(this_month, -3), partitions.month_start(this_month, -1)
    for month in (old, kept):
        await db.execute("select ensure_scans_partition($1)", month)
    batch = await stored_batch(db, await stored_organization(db))
    unit_id = await db.fetchval("select id from units limit 1")
    old_times = [datetime(old.year, old.month, 1, tzinfo=VN) + timedelta(hours=k) for k in range(30)]
    await insert_scans(db, batch["id"], unit_id, old_times)
    await insert_scans(db, batch["id"], unit_id, [datetime(kept.year, kept.month, 2, tzinfo=VN)] * 5)
    await db.execute("insert into scan_daily (batch_id, day, scans) values ($1, $2, 22)", batch["id"], old)
    old_rows = await db.fetch(
        f"select {COLUMNS} from scans where scanned_at < $1 order by id", old_times[-1] + timedelta(days=1)
    )
    settings = msgspec.structs.replace(s3_settings, scan_retention_months=2)

    async with build_media_store(settings) as store:
        runner = JobRunner(JobContext(pool, store, settings), scheduled_jobs())
        await runner.step()
        await runner.close()
        result = await db.fetchrow(
            "select outcome, rows_affected from job_runs where job = 'traceability.archive_scan_months'"
        )
        assert dict(result) == {"outcome": "succeeded", "rows_affected": 30}
        blob_path = tmp_path / "month.csv.gz"
        await store.get_file(partitions.archive_key(old), blob_path)
        manifest_path = blob_path.with_name("manifest.json")
        await store.get_file(partitions.manifest_key(old), manifest_path)

    blob = blob_path.read_bytes()
    manifest = json.loads(manifest_path.read_text())
    assert manifest["rows"] == 30 and manifest["month"] == f"{old:%Y-%m}" and manifest["personal_data"] is True
    assert manifest["sha256"] == hashlib.sha256(blob).hexdigest() and manifest["size"] == len(blob)
    assert manifest["columns"] == COLUMNS.split(", ")
    exported = list(csv.DictReader(io.StringIO(gzip.decompress(blob).decode())))
    assert [int(r["id"]) for r in exported] == [r["id"] for r in old_rows]
    assert [datetime.fromisoformat(r["scanned_at"]) for r in exported] == [r["scanned_at"] for r in old_rows]
    assert [r["unit_id"] or None for r in exported] == [str(r["unit_id"]) if r["unit_id"] else None for r in old_rows]
    # the month is gone from the database, the newer one stays, and the per-day counts outlive the archive
    assert await db.fetchval("select to_regclass($1)", f"scans_{old:%Y_%m}") is None
    assert await db.fetchval("select count(*) from scans") == 5
    assert await db.fetchval("select scans from scan_daily where day = $1", old) == 22


async def test_archives_are_not_in_the_open_data_catalogue(client: Any) -> None:
    catalogue = (await client.get("/open-data/catalog.json")).json()
    # the archives hold pseudonymous rows; only the statistics' aggregated, suppressed counts are published
    assert not [d for d in catalogue["datasets"] if "archive" in d["url"]]
    assert [d["id"] for d in catalogue["datasets"] if "scans" in d["id"]] == [
        "statistics-scans-by-category-daily",
        "statistics-scans-by-commune-daily",
    ]
