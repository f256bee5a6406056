"""Scan statistics from the daily rollup: each role sees its own scope, buckets, ranges and the CSV export."""

import csv
import io
import uuid
from datetime import date, timedelta

import asyncpg

from service.core import clock
from tests.support.app import UserFactory
from tests.support.factories import Client, assert_problem, farm, stored_batch
from tests.support.statistics import stored_daily_scans, stored_household


async def test_a_producer_sees_only_its_own_scans(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    a_headers, a_org = await farm(client, make_user)
    b_headers, b_org = await farm(client, make_user)
    a = await stored_batch(db, uuid.UUID(a_org["id"]), lot="A-1", product_name="Chè A")
    b = await stored_batch(db, uuid.UUID(b_org["id"]), gtin=None, lot="B-1", product_name="Chè B")
    today = clock.today()
    await stored_daily_scans(db, a["id"], {today: 7, today - timedelta(days=1): 3})
    await stored_daily_scans(db, b["id"], {today: 50})

    mine = await client.get("/api/v1/statistics/scans", headers=a_headers)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["scope"] == "own"
    assert body["total"] == 10
    assert {row["label"] for row in body["rows"]} == {"Chè A"}
    assert {row["key"] for row in body["rows"]} == {str(a["product_id"])}

    theirs = await client.get(f"/api/v1/statistics/scans?product_id={b['product_id']}", headers=a_headers)
    assert_problem(theirs, 404, "product_not_found")
    assert_problem(
        await client.get(f"/api/v1/statistics/scans.csv?product_id={b['product_id']}", headers=a_headers),
        404,
        "product_not_found",
    )
    assert (await client.get("/api/v1/statistics/scans", headers=b_headers)).json()["total"] == 50

    editor = await make_user("editor")
    assert_problem(await client.get("/api/v1/statistics/scans", headers=editor), 403, "statistics_forbidden")
    assert_problem(await client.get("/api/v1/statistics/guide-plays", headers=a_headers), 403, "statistics_forbidden")
    assert_problem(await client.get("/stats/province", headers=a_headers), 403, "statistics_forbidden")
    assert (await client.get("/api/v1/statistics/scans")).status_code == 401


async def test_a_cooperative_sees_its_members_by_commune(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    coop_headers, coop = await farm(client, make_user, role="cooperative")
    member = await stored_household(db, uuid.UUID(coop["id"]), "Hộ bà Hoa", ("05488", "Xã Phúc Xuân"))
    outsider = await stored_household(db, None, "Hộ khác", ("05503", "Xã Tân Cương"))
    member_batch = await stored_batch(db, member, lot="M-1", product_name="Chè Hoa")
    outsider_batch = await stored_batch(db, outsider, gtin=None, lot="O-1", product_name="Chè khác")
    today = clock.today()
    await stored_daily_scans(db, member_batch["id"], {today: 12})
    await stored_daily_scans(db, outsider_batch["id"], {today: 40})

    answer = await client.get("/api/v1/statistics/scans?by=commune", headers=coop_headers)
    assert answer.status_code == 200, answer.text
    assert [(r["key"], r["label"], r["scans"]) for r in answer.json()["rows"]] == [("05488", "Xã Phúc Xuân", 12)]
    by_batch = (await client.get("/api/v1/statistics/scans?by=batch", headers=coop_headers)).json()
    assert [r["label"] for r in by_batch["rows"]] == ["Chè Hoa · M-1"]

    inspector = await make_user("inspector")
    province = (await client.get("/api/v1/statistics/scans?by=commune", headers=inspector)).json()
    assert province["scope"] == "province"
    assert {(r["key"], r["scans"]) for r in province["rows"]} == {("05488", 12), ("05503", 40)}
    by_category = (await client.get("/api/v1/statistics/scans?by=category", headers=inspector)).json()
    assert [(r["key"], r["scans"]) for r in by_category["rows"]] == [("tea", 52)]


async def test_weeks_and_months_and_ranges(client: Client, db: asyncpg.Connection, make_user: UserFactory) -> None:
    headers, org = await farm(client, make_user)
    batch = await stored_batch(db, uuid.UUID(org["id"]))
    await stored_daily_scans(
        db,
        batch["id"],
        {date(2026, 3, 2): 5, date(2026, 3, 4): 6, date(2026, 3, 10): 7, date(2026, 4, 1): 8, date(2026, 5, 1): 100},
    )
    range_ = "since=2026-03-01&until=2026-04-30"

    async def periods(bucket: str) -> list[tuple[str, int]]:
        answer = await client.get(f"/api/v1/statistics/scans?{range_}&bucket={bucket}", headers=headers)
        assert answer.status_code == 200, answer.text
        return [(r["period"], r["scans"]) for r in answer.json()["rows"]]

    assert await periods("day") == [("2026-03-02", 5), ("2026-03-04", 6), ("2026-03-10", 7), ("2026-04-01", 8)]
    assert await periods("week") == [("2026-03-02", 11), ("2026-03-09", 7), ("2026-03-30", 8)]  # from Monday
    assert await periods("month") == [("2026-03-01", 18), ("2026-04-01", 8)]

    backwards = await client.get("/api/v1/statistics/scans?since=2026-04-30&until=2026-03-01", headers=headers)
    assert_problem(backwards, 422, "invalid_range")
    assert_problem(
        await client.get("/api/v1/statistics/scans?since=2000-01-01&until=2026-01-01", headers=headers),
        422,
        "invalid_range",
    )
    assert_problem(await client.get("/api/v1/statistics/scans?bucket=year", headers=headers), 400)
    early = await client.get("/api/v1/statistics/scans?until=0001-01-05", headers=headers)
    assert_problem(early, 422, "invalid_range")
    assert_problem(await client.get("/api/v1/statistics/scans?since=yesterday", headers=headers), 400)


async def test_csv_export_matches_the_json_and_is_safe_in_a_spreadsheet(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    headers, org = await farm(client, make_user)
    batch = await stored_batch(db, uuid.UUID(org["id"]), product_name='=HYPERLINK("http://x")')
    today = clock.today()
    await stored_daily_scans(db, batch["id"], {today: 9})

    answer = await client.get("/api/v1/statistics/scans.csv?bucket=month", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows == [
        ["period", "key", "label", "scans"],
        [today.replace(day=1).isoformat(), str(batch["product_id"]), '\'=HYPERLINK("http://x")', "9"],
    ]


async def test_the_province_reads_the_area_summary_and_the_newest_days_live(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    from service.traceability.scan.rollups import refresh_area_rollup

    _, org = await farm(client, make_user)
    batch = await stored_batch(db, uuid.UUID(org["id"]))
    today = clock.today()
    yesterday = today - timedelta(days=1)
    await stored_daily_scans(db, batch["id"], {today - timedelta(days=2): 4, yesterday: 6, today: 9})
    inspector = await make_user("inspector")
    url = "/api/v1/statistics/scans?by=category"

    async def province() -> list[tuple[str, int]]:
        return [(r["period"], r["scans"]) for r in (await client.get(url, headers=inspector)).json()["rows"]]

    expected = [((today - timedelta(days=2)).isoformat(), 4), (yesterday.isoformat(), 6), (today.isoformat(), 9)]
    assert await province() == expected  # nothing summarised yet: all from scan_daily
    assert await refresh_area_rollup(db, today) == 2  # complete days only
    assert await db.fetchval("select complete_through from scan_area_daily_state") == yesterday
    await db.execute("update scan_daily set scans = scans + 1 where day = $1", today)
    expected[-1] = (today.isoformat(), 10)
    assert await province() == expected  # summary up to yesterday, today live
    # a late scan of yesterday (a spool replayed after midnight) is picked up by the next refresh's overlap
    await db.execute("update scan_daily set scans = scans + 2 where day = $1", yesterday)
    await refresh_area_rollup(db, today)
    expected[1] = (yesterday.isoformat(), 8)
    assert await province() == expected
