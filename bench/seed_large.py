"""A database of realistic size for the benchmark, built through the service's own functions.

10,000 batches (each with its commissioning event, through `create_batch`), 100,000 serialized units,
1,000,000 recorded scans with their daily rollup, and 10,000 generated points of interest.
Running it again on a seeded database reuses what is there.
"""

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.auth.service import create_user
from service.core.db import init_connection
from service.core.migrate import migrate
from service.seed import seed_demo
from service.settings import Settings
from service.storage import build_media_store
from service.traceability.batches.schemas import BatchCreate
from service.traceability.batches.service import create_batch
from service.traceability.identifiers.gs1 import gtin_check_digit, random_code
from service.traceability.registry import service as services
from service.traceability.registry.schemas import OrganizationCreate, PlotCreate, ProductCreate

BENCH_PHONE = "0399000001"
BENCH_PASSWORD = "bench-farmer-pass"
BATCHES = 10_000
UNIT_BATCHES, UNITS_PER_BATCH = 1_000, 100
SCANS = 1_000_000
HOT_BATCH_SCANS = 200_000  # the batch whose scans-per-day the producer reads


class Fixture(msgspec.Struct, kw_only=True):
    farmer_id: uuid.UUID
    product_id: uuid.UUID
    plot_id: uuid.UUID
    gtin: str
    gtin_lot: str
    gtin_batch_id: uuid.UUID
    code: str
    code_batch_id: uuid.UUID
    unit_code: str
    unit_serial: str
    hot_batch_id: uuid.UUID
    label_batch_id: uuid.UUID


def bench_gtin(item: int) -> str:
    body = f"89399902{item:04d}"
    return body + str(gtin_check_digit(body))


async def _ensure_farm(conn: asyncpg.Connection) -> tuple[CurrentUser, list[uuid.UUID], uuid.UUID]:
    farmer_id = await conn.fetchval("select id from users where phone = '+84399000001'")
    if farmer_id is None:
        user = await create_user(
            conn, phone=BENCH_PHONE, password=BENCH_PASSWORD, full_name="Bench farmer", role="farmer"
        )
        farmer_id = user.id
    farmer = CurrentUser(id=farmer_id, role="farmer")
    org_id = await conn.fetchval("select organization_id from users where id = $1", farmer_id)
    if org_id is None:
        await services.create_organization(
            conn,
            farmer,
            OrganizationCreate(
                name="Hộ chè benchmark (dữ liệu thử tải)",
                commune_code="05503",
                lat=21.5937,
                lon=105.7707,
            ),
        )
    products = [
        r["id"]
        for r in await conn.fetch(
            "select id from products where organization_id = (select organization_id from users where id = $1)"
            " order by gtin14 nulls last, id",
            farmer_id,
        )
    ]
    if not products:
        for i in range(20):
            product = await services.create_product(
                conn,
                farmer,
                ProductCreate(
                    names={"vi": f"Chè Tân Cương thử tải {i}", "en": f"Tan Cuong tea bench {i}"},
                    category="tea",
                    gtin=bench_gtin(i) if i < 10 else None,
                    ocop_stars=4,
                ),
            )
            products.append(product.id)
    plot_id = await conn.fetchval(
        "select id from plots where organization_id = (select organization_id from users where id = $1)", farmer_id
    )
    if plot_id is None:
        plot = await services.create_plot(
            conn,
            farmer,
            PlotCreate(
                name="Đồi chè thử tải", commune_code="05503", geometry={"type": "Point", "coordinates": [105.77, 21.59]}
            ),
        )
        plot_id = plot.id
    return farmer, products, plot_id


async def _batches(
    pool: asyncpg.Pool, farmer: CurrentUser, products: list[uuid.UUID], plot_id: uuid.UUID, base: str
) -> None:
    async with pool.acquire() as conn:
        have = await conn.fetchval("select count(*) from batches where created_by = $1", farmer.id)
    missing = BATCHES - have
    if missing <= 0:
        return
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(missing):
        queue.put_nowait(i)

    async def worker() -> None:
        async with pool.acquire() as conn:
            while not queue.empty():
                i = queue.get_nowait()
                data = BatchCreate(
                    product_id=products[i % len(products)],
                    quantity=Decimal(50 + i % 200),
                    unit="kg",
                    harvest_date=date(2026, 1, 1) + timedelta(days=i % 300),
                    plot_id=plot_id,
                    event_time=datetime(2026, 1, 1, 7, tzinfo=UTC) + timedelta(days=i % 300, minutes=i % 600),
                )
                await create_batch(conn, farmer, data, base, key=None)

    await asyncio.gather(*(worker() for _ in range(8)))


async def _units(conn: asyncpg.Connection, farmer: CurrentUser) -> None:
    """100 units on each of 1,000 batches, and one batch of 1,000 units for the label-sheet benchmark."""
    with_units = await conn.fetchval("select count(distinct batch_id) from units")
    has_big = await conn.fetchval("select exists (select 1 from units where seq = 1000)")
    wanted = max(0, UNIT_BATCHES - with_units) + (0 if has_big else 1)
    if wanted == 0:
        return
    batch_ids = [
        r["id"]
        for r in await conn.fetch(
            """
            select id from batches b
            where created_by = $1 and not exists (select 1 from units u where u.batch_id = b.id)
            order by created_at, id limit $2
            """,
            farmer.id,
            wanted,
        )
    ]
    sizes = {batch_id: UNITS_PER_BATCH for batch_id in batch_ids}
    if not has_big:
        sizes[batch_ids[-1]] = 1_000
    records = [(batch_id, random_code(13), seq) for batch_id, size in sizes.items() for seq in range(1, size + 1)]
    await conn.copy_records_to_table("units", records=records, columns=["batch_id", "serial", "seq"])


async def _scans(conn: asyncpg.Connection, farmer: CurrentUser, hot_batch: uuid.UUID) -> None:
    if await conn.fetchval("select count(*) from scans") >= SCANS:
        return
    rng = random.Random(42)
    batch_ids = [r["id"] for r in await conn.fetch("select id from batches where created_by = $1", farmer.id)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    classes = ["android", "android", "android", "ios", "desktop", "app"]
    chunk: list[tuple[object, ...]] = []
    for i in range(SCANS):
        batch_id = hot_batch if i < HOT_BATCH_SCANS else rng.choice(batch_ids)
        when = start + timedelta(seconds=rng.randrange(0, 330 * 86400))
        lat, lon = (round(21.0 + rng.random(), 2), round(105.5 + rng.random(), 2)) if i % 3 == 0 else (None, None)
        chunk.append((batch_id, when, lat, lon, classes[i % len(classes)], i % 7 != 0))
        if len(chunk) == 100_000:
            await conn.copy_records_to_table(
                "scans", records=chunk, columns=["batch_id", "scanned_at", "lat", "lon", "ua_class", "counted"]
            )
            chunk.clear()
    if chunk:
        await conn.copy_records_to_table(
            "scans", records=chunk, columns=["batch_id", "scanned_at", "lat", "lon", "ua_class", "counted"]
        )
    await conn.execute(
        """
        insert into scan_daily (batch_id, day, scans)
        select batch_id, (scanned_at at time zone 'Asia/Ho_Chi_Minh')::date, count(*) filter (where counted)
        from scans group by 1, 2
        on conflict (batch_id, day) do update set scans = excluded.scans
        """
    )
    await conn.execute("analyze")


async def seed_large(dsn: str, settings: Settings) -> Fixture:
    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    try:
        await migrate(conn)
        async with build_media_store(settings) as store:
            await seed_demo(conn, settings, store)
        farmer, products, plot_id = await _ensure_farm(conn)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8, init=init_connection)
    try:
        await _batches(pool, farmer, products, plot_id, settings.base_url)
        async with pool.acquire() as conn:
            gtin_batch = await conn.fetchrow(
                """
                select b.id, b.lot, p.gtin14 from batches b join products p on p.id = b.product_id
                where b.created_by = $1 and p.gtin14 is not null order by b.created_at limit 1
                """,
                farmer.id,
            )
            code_batch = await conn.fetchrow(
                """
                select b.id, b.code from batches b join products p on p.id = b.product_id
                where b.created_by = $1 and p.gtin14 is null order by b.created_at limit 1
                """,
                farmer.id,
            )
            hot_batch = code_batch["id"]
            await _units(conn, farmer)
            unit = await conn.fetchrow(
                "select u.serial, b.code from units u join batches b on b.id = u.batch_id order by u.seq limit 1"
            )
            label_batch = await conn.fetchval("select batch_id from units where seq = 1000 limit 1")
            await _scans(conn, farmer, hot_batch)
            extra = await _tourism_points(conn)
    finally:
        await pool.close()
    del extra
    return Fixture(
        farmer_id=farmer.id,
        product_id=products[0],
        plot_id=plot_id,
        gtin=gtin_batch["gtin14"],
        gtin_lot=gtin_batch["lot"],
        gtin_batch_id=gtin_batch["id"],
        code=code_batch["code"],
        code_batch_id=code_batch["id"],
        unit_code=unit["code"],
        unit_serial=unit["serial"],
        hot_batch_id=hot_batch,
        label_batch_id=label_batch,
    )


GUIDE_SITE = "bench-guide-ho-nui-coc"
GUIDE_POINTS = 10_000


async def _tourism_points(conn: asyncpg.Connection) -> int:
    """A published copy of Hồ Núi Cốc holding 10,000 generated points (zones of 20-80 m) around the lake."""
    site_id = await conn.fetchval("select id from tourism_sites where slug = $1", GUIDE_SITE)
    if site_id is None:
        site_id = await conn.fetchval(
            """
            insert into tourism_sites (slug, status, texts, lat, lon, commune_code, ranking, coordinates_note,
                                       search_name, search_body, published_at)
            select $1, 'published', texts, lat, lon, commune_code, ranking, 'benchmark data', '', '', now()
            from tourism_sites where slug = 'ho-nui-coc'
            returning id
            """,
            GUIDE_SITE,
        )
    have = await conn.fetchval("select count(*) from tourism_points where site_id = $1", site_id)
    if have >= GUIDE_POINTS:
        return int(have)
    rng = random.Random(7)
    texts = {
        "vi": {"name": "Điểm thử tải", "text": "Nội dung thử tải cho bài đo hiệu năng."},
        "en": {"name": "Bench point", "text": "Benchmark narration text."},
    }
    records = [
        (
            site_id,
            f"bench-{i}",
            i,
            21.56 + rng.random() * 0.12,  # about 13 km north-south around the lake
            105.62 + rng.random() * 0.14,
            float(rng.randint(20, 80)),
            rng.choice([0, 0, 5, 10]),
            rng.choice([0, 60, 300]),
            rng.random() < 0.2,
            texts,
        )
        for i in range(int(have), GUIDE_POINTS)
    ]
    await conn.executemany(
        """
        insert into tourism_points (site_id, slug, ord, lat, lon, radius_m, dwell_seconds, cooldown_seconds,
                                    play_once, texts)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        records,
    )
    await conn.execute("analyze tourism_points")
    return GUIDE_POINTS
