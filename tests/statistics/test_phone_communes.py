"""Scans by the scanning phone's commune (estimated) and the first-scan map: each producer sees only its own,
positionless scans count as unknown, the CSV carries the same rows."""

import csv
import io
import re
import uuid
from datetime import timedelta

import asyncpg

from service.core import clock
from tests.support.app import UserFactory
from tests.support.factories import Client, farm, stored_batch
from tests.support.statistics import stored_commune_scans, stored_daily_scans

PHAN_DINH_PHUNG, TAN_CUONG, BA_BE = "05443", "05503", "01906"


async def two_producers(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> tuple[dict[str, str], dict[str, str]]:
    """Producer A: scans in Phan Đình Phùng and Tân Cương, some without a position; producer B: in Ba Bể."""
    a_headers, a_org = await farm(client, make_user)
    b_headers, b_org = await farm(client, make_user)
    a = await stored_batch(db, uuid.UUID(a_org["id"]), lot="A-1", product_name="Chè A")
    b = await stored_batch(db, uuid.UUID(b_org["id"]), gtin=None, lot="B-1", product_name="Chè B")
    today = clock.today()
    yesterday = today - timedelta(days=1)
    await stored_daily_scans(db, a["id"], {today: 9, yesterday: 4})
    await stored_commune_scans(
        db,
        a["id"],
        {
            (today, PHAN_DINH_PHUNG): (5, 3),
            (today, TAN_CUONG): (1, 1),
            (today, ""): (3, 2),
            (yesterday, TAN_CUONG): (4, 0),
        },
    )
    await stored_daily_scans(db, b["id"], {today: 50})
    await stored_commune_scans(db, b["id"], {(today, BA_BE): (50, 20)})
    return a_headers, b_headers


async def test_a_producer_sees_its_own_scans_by_phone_commune_and_unknown(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    a_headers, b_headers = await two_producers(client, db, make_user)

    answer = await client.get("/api/v1/statistics/scans?by=phone_commune", headers=a_headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["by"] == "phone_commune" and body["scope"] == "own"
    assert body["total"] == 13  # the same total as by product: unknown included
    today, yesterday = clock.today(), clock.today() - timedelta(days=1)
    assert sorted((r["period"], r["key"], r["label"], r["scans"]) for r in body["rows"]) == [
        (yesterday.isoformat(), TAN_CUONG, "Xã Tân Cương", 4),
        (today.isoformat(), PHAN_DINH_PHUNG, "Phường Phan Đình Phùng", 5),
        (today.isoformat(), TAN_CUONG, "Xã Tân Cương", 1),
        (today.isoformat(), "unknown", "Không rõ (không có vị trí hoặc ngoài tỉnh)", 3),
    ]
    by_product = await client.get("/api/v1/statistics/scans", headers=a_headers)
    assert by_product.json()["total"] == body["total"]

    theirs = (await client.get("/api/v1/statistics/scans?by=phone_commune", headers=b_headers)).json()
    assert [(r["key"], r["scans"]) for r in theirs["rows"]] == [(BA_BE, 50)]

    inspector = await make_user("inspector")
    province = (await client.get("/api/v1/statistics/scans?by=phone_commune", headers=inspector)).json()
    assert province["scope"] == "province" and province["total"] == 63


async def test_the_csv_export_has_the_phone_commune_rows(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    a_headers, _ = await two_producers(client, db, make_user)
    today = clock.today().isoformat()
    answer = await client.get(f"/api/v1/statistics/scans.csv?by=phone_commune&since={today}", headers=a_headers)
    assert answer.status_code == 200, answer.text
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["period", "key", "label", "scans"]
    assert sorted(rows[1:]) == sorted(
        [
            [today, PHAN_DINH_PHUNG, "Phường Phan Đình Phùng", "5"],
            [today, TAN_CUONG, "Xã Tân Cương", "1"],
            [today, "unknown", "Không rõ (không có vị trí hoặc ngoài tỉnh)", "3"],
        ]
    )


async def test_the_producer_page_shows_phone_communes_and_the_first_scan_map(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    a_headers, _ = await two_producers(client, db, make_user)
    page = await client.get("/stats/producer?days=7", headers=a_headers)
    assert page.status_code == 200, page.text
    html = page.text
    assert "Theo xã/phường nơi quét (ước tính)" in html
    assert "tâm gần nhất" in html  # says plainly that it is an estimate
    section = html.split("Bản đồ nơi sản phẩm được quét lần đầu", 1)[1]
    svg = re.search(r"<svg.*?</svg>", section, re.S)
    assert svg is not None
    faint = re.findall(r'<circle [^>]*r="2.2"', svg.group(0))
    assert len(faint) == 92  # every commune centre: the outline of the province
    marks = re.findall(r"<title>([^<]+)</title></circle>", svg.group(0))
    assert sorted(marks) == ["Phường Phan Đình Phùng: 3", "Xã Tân Cương: 1"]  # never producer B's Ba Bể
    assert "<td>Không rõ (không có vị trí hoặc ngoài tỉnh)</td><td>2</td>" in section
    assert "Xã Ba Bể" not in html

    english = (await client.get("/stats/producer?days=7&lang=en", headers=a_headers)).text
    assert "By commune of the scanning phone (estimated)" in english
    assert "Where products were first scanned" in english
    assert "<td>Unknown (no position, or outside the province)</td><td>2</td>" in english
