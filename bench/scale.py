"""Province scale: grow the bench database to 20 million scans and measure what grows with it.

Opt-in (`BENCH_SCALE=1 make bench`, or alone: `python -m bench.scale`), because growing takes minutes. Three
figures, each measured first on the database as seeded (1 million scans: the baseline) and again at 20
million, in the same run, so the ratio says what the size costs on whatever machine runs it:

- the producer's per-day query (`daily_scans`, 90 days of one batch from the rollup) and the per-day count
  read from the scans themselves (`counted_scans_on`, partition-pruned to one month);
- the scan-write throughput of the flusher's own transaction (`write_scans`: dedup keys, COPY into the
  month partition, rollup, units), 500 scans per flush as at a promotion peak;
- detaching and exporting one month (`archive_month`: COPY to gzip CSV, store, manifest, detach, drop),
  as rows per second: a small month (the baseline) against a month of the grown database.

Growth is one `INSERT ... SELECT` from generate_series per month, over every seeded batch, ordered by batch
and time (as scans arrive per batch) so the indexes fill in order.
"""

import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from service.core import clock
from service.core.db import init_connection
from service.storage.local import LocalStore
from service.traceability.scan.partitions import archive_month, month_start, monthly_partitions
from service.traceability.scan.scans import CounterfeitRules, Scan, daily_scans, write_scans

TARGET_SCANS = int(os.environ.get("BENCH_SCALE_SCANS", "20000000"))
GROWTH_MONTHS = 12  # the grown scans fill the twelve months before the seeded ones
BASELINE_MONTH = date(2019, 1, 1)  # a small month of its own, archived for the baseline figure
BASELINE_MONTH_ROWS = 200_000
FLUSH_SIZE = 500
FLUSH_SECONDS = float(os.environ.get("BENCH_SCALE_FLUSH_SECONDS", "5"))
QUERIES = 400

_GROW = """
insert into scans (batch_id, unit_id, scanned_at, lat, lon, ua_class, counted)
select b.id, null,
       $1::timestamptz + make_interval(secs => j * $2::double precision),
       null, null,
       (array['android', 'android', 'android', 'ios', 'desktop', 'app'])[1 + (j % 6)],
       j % 7 <> 0
from unnest($3::uuid[]) as b(id), generate_series(0, $4::int - 1) as j
order by b.id, j
"""
_ROLLUP = """
insert into scan_daily (batch_id, day, scans)
select batch_id, (scanned_at at time zone 'Asia/Ho_Chi_Minh')::date, count(*) filter (where counted)
from scans where scanned_at >= $1 and scanned_at < $2 group by 1, 2
on conflict (batch_id, day) do update set scans = scan_daily.scans + excluded.scans
"""
_COUNTED_ON_DAY = "select count(*) from scans where batch_id = $1 and scanned_at >= $2 and scanned_at < $3 and counted"


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=clock.VN_TZ)


async def _fill_month(conn: asyncpg.Connection, month: date, batch_ids: list[uuid.UUID], rows: int) -> int:
    """About `rows` scans spread evenly over the month's batches and seconds, and their daily rollup."""
    await conn.execute("select ensure_scans_partition($1::date)", month)
    start, end = _local_midnight(month), _local_midnight(month_start(month, 1))
    per_batch = max(1, rows // len(batch_ids))
    step = (end - start).total_seconds() / per_batch
    status = await conn.execute(_GROW, start, step, batch_ids, per_batch)
    await conn.execute(_ROLLUP, start, end)
    return int(status.split()[-1])


async def _timed_ms(calls: list[Any]) -> float:
    """Median milliseconds of the awaitables made by `calls` (zero-argument callables), run one after another."""
    times = []
    for call in calls:
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


async def _reads(conn: asyncpg.Connection, hot_batch: uuid.UUID, batch_ids: list[uuid.UUID]) -> dict[str, float]:
    rng = random.Random(7)
    until = clock.today()
    since = until - timedelta(days=89)

    def per_day(batch: uuid.UUID) -> Any:
        return lambda: daily_scans(conn, batch, since, until)

    def one_day(batch: uuid.UUID) -> Any:
        day = _local_midnight(until - timedelta(days=rng.randrange(1, 300)))
        return lambda: conn.fetchval(_COUNTED_ON_DAY, batch, day, day + timedelta(days=1))

    return {
        "per_day_hot_ms": await _timed_ms([per_day(hot_batch) for _ in range(QUERIES)]),
        "per_day_any_ms": await _timed_ms([per_day(rng.choice(batch_ids)) for _ in range(QUERIES)]),
        "raw_day_count_ms": await _timed_ms([one_day(rng.choice(batch_ids)) for _ in range(QUERIES)]),
    }


async def _flush_rate(conn: asyncpg.Connection, batch_ids: list[uuid.UUID]) -> float:
    """Scans per second the flusher's transaction sustains, FLUSH_SIZE scans per flush, for FLUSH_SECONDS."""
    rules = CounterfeitRules()
    written = 0
    started = time.perf_counter()
    while time.perf_counter() - started < FLUSH_SECONDS:
        now = datetime.now(UTC)
        flush = [
            Scan(random.choice(batch_ids), None, now, None, None, "android", True, os.urandom(16))
            for _ in range(FLUSH_SIZE)
        ]
        async with conn.transaction():
            await write_scans(conn, flush, rules)
        written += FLUSH_SIZE
    return round(written / (time.perf_counter() - started))


async def _archive_rate(conn: asyncpg.Connection, store: LocalStore, month: date) -> dict[str, float]:
    table = (await monthly_partitions(conn))[month]
    started = time.perf_counter()
    manifest = await archive_month(conn, store, month, table)
    seconds = time.perf_counter() - started
    return {"rows": manifest.rows, "seconds": round(seconds, 2), "rows_per_s": round(manifest.rows / seconds)}


async def grow_and_measure(dsn: str, media_dir: Path) -> dict[str, Any]:
    """Measure on the database as it is, grow it to TARGET_SCANS, measure again; the figures and ratios."""
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    try:
        await conn.execute("set synchronous_commit = off")  # seeding only; the flushes below commit as served
        batch_ids: list[uuid.UUID] = [r["id"] for r in await conn.fetch("select id from batches order by id")]
        hot_batch: uuid.UUID = await conn.fetchval(
            "select batch_id from scan_daily group by 1 order by sum(scans) desc limit 1"
        )
        store = LocalStore(root=media_dir, base_url="http://bench.invalid", signing_secret="bench")  # noqa: S106  # never signs anything
        scans_before: int = await conn.fetchval("select count(*) from scans")

        baseline = await _reads(conn, hot_batch, batch_ids)
        baseline["flush_scans_per_s"] = await _flush_rate(conn, batch_ids)
        await _fill_month(conn, BASELINE_MONTH, batch_ids[:1000], BASELINE_MONTH_ROWS)
        baseline_archive = await _archive_rate(conn, store, BASELINE_MONTH)

        started = time.perf_counter()
        first_seeded = month_start((await conn.fetchval("select min(scanned_at) from scans")).date())
        missing = max(0, TARGET_SCANS - await conn.fetchval("select count(*) from scans"))
        grown = 0
        for k in range(GROWTH_MONTHS, 0, -1):
            month = month_start(first_seeded, -k)
            grown += await _fill_month(conn, month, batch_ids, missing // GROWTH_MONTHS)
            print(f"scale: {month:%Y-%m} filled, {grown:,} scans added", flush=True)
        await conn.execute("analyze scans, scan_daily")
        grow_seconds = time.perf_counter() - started
        scans_after: int = await conn.fetchval("select count(*) from scans")

        scale = await _reads(conn, hot_batch, batch_ids)
        scale["flush_scans_per_s"] = await _flush_rate(conn, batch_ids)
        scale_archive = await _archive_rate(conn, store, month_start(first_seeded, -GROWTH_MONTHS))
    finally:
        await conn.close()

    def ratio(key: str) -> float:
        return round(scale[key] / baseline[key], 2) if baseline[key] else 0.0

    return {
        "scans_before": scans_before,
        "scans_after": scans_after,
        "grow_seconds": round(grow_seconds),
        "grow_rows_per_s": round(grown / grow_seconds) if grow_seconds else 0,
        "baseline": baseline,
        "scale": scale,
        "ratios": {key: ratio(key) for key in baseline},
        "archive_baseline": baseline_archive,
        "archive_scale": archive_scale_ratio(baseline_archive, scale_archive),
    }


def archive_scale_ratio(baseline: dict[str, float], scale: dict[str, float]) -> dict[str, float]:
    return {**scale, "ratio_rows_per_s": round(scale["rows_per_s"] / baseline["rows_per_s"], 2)}


def table(figures: object) -> list[str]:
    """Markdown rows for bench/README.md (none when the scale run was not asked for)."""
    if not isinstance(figures, dict):
        return []
    b, s, r = figures["baseline"], figures["scale"], figures["ratios"]
    ab, asc = figures["archive_baseline"], figures["archive_scale"]
    before, after = f"{figures['scans_before'] / 1e6:.1f} M", f"{figures['scans_after'] / 1e6:.1f} M"
    return [
        "",
        f"Scale ({before} scans → {after}, grown in {figures['grow_seconds']} s, "
        f"{figures['grow_rows_per_s']:,} rows/s; ratio = at scale ÷ baseline, same run):",
        "",
        f"| measure | baseline ({before} scans) | at {after} scans | ratio |",
        "|---|---|---|---|",
        f"| producer per-day query, hot batch (90 days, ms) | {b['per_day_hot_ms']} | {s['per_day_hot_ms']} | "
        f"{r['per_day_hot_ms']} |",
        f"| producer per-day query, any batch (ms) | {b['per_day_any_ms']} | {s['per_day_any_ms']} | "
        f"{r['per_day_any_ms']} |",
        f"| one day counted from raw scans, pruned (ms) | {b['raw_day_count_ms']} | {s['raw_day_count_ms']} | "
        f"{r['raw_day_count_ms']} |",
        f"| flusher write throughput (scans/s, {FLUSH_SIZE} per flush) | {b['flush_scans_per_s']:,} | "
        f"{s['flush_scans_per_s']:,} | {r['flush_scans_per_s']} |",
        f"| detach + export one month (rows/s) | {ab['rows_per_s']:,} ({ab['rows']:,} rows, {ab['seconds']} s) | "
        f"{asc['rows_per_s']:,} ({asc['rows']:,} rows, {asc['seconds']} s) | {asc['ratio_rows_per_s']} |",
    ]


def main() -> int:
    """Alone: the bench database (seeded as `make bench` seeds it) grown and measured, without the HTTP runs."""
    from bench.run import DATA, JWT_SECRET
    from bench.seed_large import seed_large
    from service.core.db import EmbeddedPostgres
    from service.settings import Settings

    DATA.mkdir(parents=True, exist_ok=True)
    database = EmbeddedPostgres(DATA / "pg")
    dsn = database.start()
    try:
        settings = Settings(
            env="production",
            database_url=dsn,
            jwt_secret=JWT_SECRET,
            public_base_url="http://127.0.0.1:8000",
            media_dir=str(DATA / "media"),
        )
        asyncio.run(seed_large(dsn, settings))
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as media:
            figures = asyncio.run(grow_and_measure(dsn, Path(media)))
    finally:
        database.stop()
    print("\n".join(table(figures)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
