"""Scans counted by the commune the scanning phone was in (nearest commune centre), and units' first scans:
kept by the flusher in the same transaction as scan_daily, counts only."""

from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.core import clock
from service.core.migrate import migrate
from tests.support.app import flush
from tests.support.factories import stored_batch, stored_organization, stored_units
from tests.support.migrations import database_before

PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"
PHAN_DINH_PHUNG = ("05443", "21.5887,105.834")  # a position near the ward's centre (rounded when recorded)
TAN_CUONG = ("05503", "21.5194,105.787")
HA_NOI = "21.0285,105.8542"


pytestmark = pytest.mark.redirects_not_followed  # a phone's scanner sees the 307 itself


async def test_scans_with_positions_count_in_their_communes_and_without_as_unknown(
    client: AsyncTestClient[Litestar], app: Litestar, db: Any
) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    first, second = await stored_units(db, batch["id"], 2)
    code = batch["code"]

    async def scan(path: str, phone: int, position: str | None = None, agent: str = PHONE) -> None:
        headers = {"User-Agent": f"{agent} #{phone}"}
        if position is not None:
            headers["X-Scan-Position"] = position
        response = await client.get(path, headers=headers)
        assert response.status_code == 307, response.text

    await scan(f"/q/{code}/{first}", 1, PHAN_DINH_PHUNG[1])  # the unit's first scan, in Phan Đình Phùng
    await scan(f"/q/{code}/{first}", 1, PHAN_DINH_PHUNG[1])  # the same phone again: not counted
    await scan(f"/q/{code}/{first}", 2, TAN_CUONG[1])  # counted, but not the unit's first
    await scan(f"/q/{code}/{second}", 3)  # the second unit's first scan, no position
    response = await client.get(f"/q/{code}?lat=21.52&lon=105.79", headers={"User-Agent": f"{PHONE} #4"})
    assert response.status_code == 307  # the batch code with ?lat=&lon=, in Tân Cương
    await scan(f"/q/{code}", 5, HA_NOI)  # outside the province: unknown
    await scan(f"/q/{code}", 6, TAN_CUONG[1], agent="Googlebot/2.1 (+http://www.google.com/bot.html)")  # not counted
    await flush(app)

    rows = await db.fetch(
        "select day, commune_code, scans, first_scans from scan_commune_daily where batch_id = $1", batch["id"]
    )
    today = clock.today()
    assert {row["day"] for row in rows} == {today}
    assert {(row["commune_code"], row["scans"], row["first_scans"]) for row in rows} == {
        (PHAN_DINH_PHUNG[0], 1, 1),
        (TAN_CUONG[0], 2, 0),
        ("", 2, 1),
    }
    # the same counted scans as the daily rollup, never a position
    assert await db.fetchval("select scans from scan_daily where batch_id = $1", batch["id"]) == 5
    columns = {
        row["column_name"]
        for row in await db.fetch(
            "select column_name from information_schema.columns where table_name = 'scan_commune_daily'"
        )
    }
    assert columns == {"batch_id", "day", "commune_code", "scans", "first_scans"}


async def test_more_scans_from_the_same_commune_add_up_across_flushes(
    client: AsyncTestClient[Litestar], app: Litestar, db: Any
) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    for phone in range(3):
        await client.get(
            f"/q/{batch['code']}", headers={"User-Agent": f"{PHONE} #{phone}", "X-Scan-Position": TAN_CUONG[1]}
        )
        await flush(app)
    assert (
        await db.fetchval(
            "select scans from scan_commune_daily where batch_id = $1 and commune_code = $2", batch["id"], TAN_CUONG[0]
        )
        == 3
    )


@pytest.fixture
async def database_before_0275(postgres_server: str, tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A database migrated only up to the migrations before the phone-commune rollup."""
    async with database_before(postgres_server, tmp_path, 275) as made:
        yield made


async def test_counts_from_before_the_rollup_are_kept_as_unknown(database_before_0275: tuple[str, Path]) -> None:
    dsn, before = database_before_0275
    db = await asyncpg.connect(dsn)
    try:
        await migrate(db, before)
        batch = await stored_batch(db, await stored_organization(db))
        await db.executemany(
            "insert into scan_daily (batch_id, day, scans) values ($1, $2, $3)",
            [(batch["id"], date(2026, 3, 1), 7), (batch["id"], date(2026, 3, 2), 2)],
        )
        first, second, _never = await stored_units(db, batch["id"], 3)
        # 23:30 UTC on 1 March is 06:30 on 2 March in Vietnam: the local day counts
        await db.execute(
            "update units set first_scanned_at = $2 where serial = $1",
            first,
            datetime.fromisoformat("2026-03-01T23:30Z"),
        )
        await db.execute(
            "update units set first_scanned_at = $2 where serial = $1",
            second,
            datetime.fromisoformat("2026-03-02T08:00Z"),
        )

        assert "0275_scan_commune_daily.sql" in await migrate(db)

        rows = await db.fetch(
            "select day, commune_code, scans, first_scans from scan_commune_daily where batch_id = $1 order by day",
            batch["id"],
        )
        assert [tuple(r) for r in rows] == [(date(2026, 3, 1), "", 7, 0), (date(2026, 3, 2), "", 2, 2)]
    finally:
        await db.close()
