"""Province overview over a year of rollups at the benchmark's scale (issue 17, item 5).

Seeds one year of `scan_daily` for the bench's batches (about 20 million counted scans: a batch is scanned on
roughly a third of the days, 1 to 30 scans a day) and of `guide_plays_daily` for the demo sites, then times
`GET /stats/province?days=365` as an inspector, one request at a time, against the no-I/O baseline route timed
the same way in the same run. Budget: every request within 1 s. The page reads rollups only, never `scans`:
the area summary (scan_area_daily, refreshed by a job) for complete days, scan_daily for today.
"""

import asyncio
import statistics
import time
import uuid

import asyncpg
import httpx

from bench.report import table_line
from service.auth.guards import build_jwt_auth
from service.core import clock
from service.settings import Settings
from service.traceability.scan.rollups import refresh_area_rollup

PAGE_BUDGET_S = 1.0
TARGET_SCANS = 20_000_000
REQUESTS = 10


async def seed_year(dsn: str) -> dict[str, int]:
    """A year of daily rollups ending today; returns the row and scan counts written."""
    conn = await asyncpg.connect(dsn)
    try:
        batches = await conn.fetchval("select count(*) from batches")
        # mean of 1 + (h % 30) is 15.5 scans on a third of the days: scale so the year holds about 20 M scans
        scale = max(TARGET_SCANS / max(batches * 365 / 3 * 15.5, 1), 0.01)
        await conn.execute(
            """
            insert into scan_daily (batch_id, day, scans)
            select b.id, d::date, greatest(1, round((1 + abs(hashtext(b.id::text || d::text)) % 30) * $1))::int
            from batches b
            cross join generate_series(current_date - 364, current_date, interval '1 day') as d
            where abs(hashtext(d::text || b.id::text)) % 3 = 0
            on conflict (batch_id, day) do update set scans = excluded.scans
            """,
            scale,
        )
        await conn.execute(
            """
            insert into guide_plays_daily (site_id, point_slug, lang, day, plays)
            select p.site_id, p.slug, l, d::date, 1 + abs(hashtext(p.id::text || d::text || l)) % 40
            from (select id, site_id, slug from tourism_points order by site_id, ord, slug limit 300) as p
            cross join (values ('vi'), ('en')) as langs(l)
            cross join generate_series(current_date - 364, current_date, interval '1 day') as d
            on conflict do nothing
            """
        )
        await refresh_area_rollup(conn, clock.today())  # what the scheduled job keeps up to date
        await conn.execute("analyze scan_daily")
        await conn.execute("analyze guide_plays_daily")
        rows = await conn.fetchval("select count(*) from scan_daily where day > current_date - 365")
        scans = await conn.fetchval("select coalesce(sum(scans), 0) from scan_daily where day > current_date - 365")
        plays = await conn.fetchval("select count(*) from guide_plays_daily")
        return {"scan_daily_rows": int(rows), "scans": int(scans), "guide_plays_daily_rows": int(plays)}
    finally:
        await conn.close()


async def official_id(dsn: str) -> uuid.UUID:
    conn = await asyncpg.connect(dsn)
    try:
        value: uuid.UUID = await conn.fetchval(
            """
            insert into users (phone, password_hash, full_name, role)
            values ('+84290000017', '!', 'Sở NN&MT', 'inspector')
            on conflict (phone) do update set role = excluded.role returning id
            """
        )
        return value
    finally:
        await conn.close()


def _timed(client: httpx.Client, path: str, headers: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    return time.perf_counter() - started, response.status_code


def province_overview(dsn: str, base: str, jwt_secret: str) -> dict[str, object]:
    """Seed, then time the page; the result goes into bench/results/latest.json."""
    started = time.perf_counter()
    seeded = asyncio.run(seed_year(dsn))
    seed_s = time.perf_counter() - started
    user = asyncio.run(official_id(dsn))
    token = build_jwt_auth(Settings(jwt_secret=jwt_secret)).create_token(
        identifier=str(user), token_extras={"role": "inspector", "ver": 1}
    )
    auth = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
    with httpx.Client(base_url=base, timeout=60) as client:
        _timed(client, "/stats/province?days=365", auth)  # warm-up (connection, first render)
        page = [_timed(client, "/stats/province?days=365", auth) for _ in range(REQUESTS)]
        baseline = [_timed(client, "/health/live", {}) for _ in range(REQUESTS)]
    seconds = [s for s, _ in page]
    worst = max(seconds)
    median = statistics.median(seconds)
    outcome: dict[str, object] = {
        **seeded,
        "seed_seconds": round(seed_s, 1),
        "statuses": sorted({status for _, status in page}),
        "median_s": round(median, 3),
        "max_s": round(worst, 3),
        "baseline_median_s": round(statistics.median(s for s, _ in baseline), 4),
        "ratio_to_baseline": round(median / max(statistics.median(s for s, _ in baseline), 1e-6), 1),
        "budget_s": PAGE_BUDGET_S,
        "met": worst <= PAGE_BUDGET_S and {status for _, status in page} == {200},
    }
    print(f"province overview, a year of rollups: {outcome}", flush=True)
    return outcome


def table_row(outcome: dict[str, object]) -> str:
    """The line of the results table in bench/README.md."""
    verdict = "yes" if outcome.get("met") else "**no**"
    return table_line(
        f"province overview page, a year of rollups ({outcome.get('scans', 0):,} scans)",
        f"every request ≤ {PAGE_BUDGET_S:g} s",
        f"{verdict} (max {outcome.get('max_s')} s)",
        conns="1",
        p50=f"{float(str(outcome.get('median_s', 0))) * 1000:.0f}",
        live=f"{outcome.get('ratio_to_baseline')} × its time",
    )


# --- standalone: `python -m bench.statistics` (no wrk, no server process; the app in-process) ----------------


async def _seed_catalogue(dsn: str, batches: int) -> None:
    """Organizations in several communes, products in every category, and `batches` batches, by plain SQL."""
    from service.core.migrate import migrate

    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        communes = [("05503", "Xã Tân Cương"), ("05488", "Xã Phúc Xuân"), ("05443", "Phường Phan Đình Phùng")]
        categories = ["tea", "longan", "pomelo", "custard_apple", "cinnamon", "other"]
        for n in range(200):
            code, name = communes[n % len(communes)]
            org = await conn.fetchval(
                """
                insert into organizations (kind, name, province_code, province_name, commune_code, commune_name)
                values ('household', $1, 19, 'Thái Nguyên', $2, $3) returning id
                """,
                f"Hộ {n}",
                code,
                name,
            )
            product = await conn.fetchval(
                "insert into products (organization_id, names, category) values ($1, $2::jsonb, $3) returning id",
                org,
                f'{{"vi": "Sản phẩm {n}"}}',
                categories[n % len(categories)],
            )
            await conn.execute(
                """
                insert into batches (product_id, organization_id, lot, code, quantity, quantity_available, unit)
                select $1, $2::uuid, 'L' || k,
                       translate(upper(substr(md5($2::uuid::text || k), 1, 13)), '01', '23'), 1, 1, 'kg'
                from generate_series(1, $3) as k
                """,
                product,
                org,
                batches // 200,
            )
    finally:
        await conn.close()


def main() -> int:
    import tempfile
    from pathlib import Path

    from litestar.testing import TestClient

    from service.app import create_app
    from service.core.db import EmbeddedPostgres

    secret = "bench-statistics-secret-0123456789-abcdef"
    with tempfile.TemporaryDirectory() as tmp:
        database = EmbeddedPostgres(Path(tmp) / "pg")
        dsn = database.start()
        try:
            asyncio.run(_seed_catalogue(dsn, 10_000))
            started = time.perf_counter()
            seeded = asyncio.run(seed_year(dsn))
            print(f"seeded {seeded} in {time.perf_counter() - started:.0f} s", flush=True)
            user = asyncio.run(official_id(dsn))
            settings = Settings(
                env="test",
                database_url=dsn,
                jwt_secret=secret,
                media_dir=str(Path(tmp) / "media"),
                jobs_in_server=False,
            )
            token = build_jwt_auth(settings).create_token(
                identifier=str(user), token_extras={"role": "inspector", "ver": 1}
            )
            auth = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
            with TestClient(create_app(settings)) as client:
                client.get("/stats/province?days=365", headers=auth)
                page = []
                for _ in range(REQUESTS):
                    t0 = time.perf_counter()
                    status = client.get("/stats/province?days=365", headers=auth).status_code
                    page.append((time.perf_counter() - t0, status))
                baseline = []
                for _ in range(REQUESTS):
                    t0 = time.perf_counter()
                    client.get("/health/live")
                    baseline.append(time.perf_counter() - t0)
            median = statistics.median(s for s, _ in page)
            print(
                f"province overview, {seeded['scans']:,} scans in {seeded['scan_daily_rows']:,} rollup rows: "
                f"median {median:.3f} s, max {max(s for s, _ in page):.3f} s (budget {PAGE_BUDGET_S} s), "
                f"statuses {sorted({st for _, st in page})}, "
                f"{median / statistics.median(baseline):.0f} × the baseline route's time",
                flush=True,
            )
        finally:
            database.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
