"""Scan signals are evidence for people: an alert to review, never a public counterfeit verdict by the system."""

from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.support.app import UserFactory, flush
from tests.support.factories import (
    AUTHORITY,
    GTIN,
    assert_problem,
    join_organization,
    stored_batch,
    stored_organization,
    stored_units,
)

PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
HANOI = "21.0285,105.8542"
HO_CHI_MINH_CITY = "10.7769,106.7009"


pytestmark = pytest.mark.redirects_not_followed  # a phone's scanner sees the 307 itself


async def two_cities(client: AsyncTestClient[Litestar], app: Litestar, db: asyncpg.Connection) -> dict[str, Any]:
    """The issue's scenario: two anonymous scans of a genuine unit, Hà Nội then Hồ Chí Minh City, seconds apart."""
    org = await stored_organization(db)
    batch = await stored_batch(db, org)
    (serial,) = await stored_units(db, batch["id"], 1)
    url = f"/01/{GTIN}/10/TC-2025%2F07/21/{serial}"
    assert (await client.get(url, headers={"User-Agent": PHONE, "X-Scan-Position": HANOI})).status_code == 307
    assert (
        await client.get(url, headers={"User-Agent": IPHONE, "X-Scan-Position": HO_CHI_MINH_CITY})
    ).status_code == 307
    await flush(app)
    return {"org": org, "batch": batch, "serial": serial, "page": f"/trace/{batch['code']}/{serial}"}


async def test_two_cities_raise_an_alert_for_review_not_a_public_verdict(
    client: AsyncTestClient[Litestar], app: Litestar, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    case = await two_cities(client, app, db)
    html = (await client.get(case["page"])).text
    assert 'id="counterfeit"' not in html and "hàng giả" not in html.lower()
    assert "Kiểm tra lần đầu ngày" in html and "đã kiểm tra 2 lần" in html
    body = (await client.get(case["page"], headers={"Accept": "application/json"})).json()
    assert body["unit"]["counterfeit"] is None and body["unit"]["scan_count"] == 2
    assert body["unit"]["claim"]["kind"] == "derived"
    assert await db.fetchval("select flagged_at from units where serial = $1", case["serial"]) is None

    inspector = await make_user("inspector")
    queue = (await client.get("/api/v1/inspections/queue", headers=inspector)).json()
    (alert,) = queue["alerts"]
    assert alert["serial"] == case["serial"] and alert["reason"] == "impossible_travel"
    assert alert["status"] == "open" and alert["details"]["km"] > 1000 and alert["reviews"] == []

    owner = await make_user("farmer")
    await join_organization(db, owner, case["org"])
    assert [a["id"] for a in (await client.get("/api/v1/scans/alerts", headers=owner)).json()] == [alert["id"]]
    stranger = await make_user("farmer")
    assert (await client.get("/api/v1/scans/alerts", headers=stranger)).json() == []
    assert_problem(await client.get("/api/v1/inspections/queue", headers=stranger), 403)


async def test_an_inspector_confirms_then_reverses_and_both_stay_in_the_trail(
    client: AsyncTestClient[Litestar], app: Litestar, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    case = await two_cities(client, app, db)
    alert_id = await db.fetchval("select id from scan_alerts")
    reviews = f"/api/v1/scans/alerts/{alert_id}/reviews"
    owner = await make_user("farmer")
    await join_organization(db, owner, case["org"])
    assert_problem(
        await client.post(reviews, json={"decision": "confirmed_counterfeit", "reason": "x"}, headers=owner),
        403,
        "inspectors_confirm",
    )
    stranger = await make_user("farmer")
    assert_problem(
        await client.post(reviews, json={"decision": "dismissed", "reason": "x"}, headers=stranger),
        404,
        "alert_not_found",
    )
    no_authority = await make_user("inspector", authority=None)
    assert_problem(
        await client.post(reviews, json={"decision": "confirmed_counterfeit", "reason": "x"}, headers=no_authority),
        403,
        "no_authority",
    )
    assert_problem(await client.post(reviews, json={"decision": "dismissed", "reason": ""}, headers=owner), 400)

    inspector = await make_user("inspector")
    confirmed = await client.post(
        reviews,
        json={"decision": "confirmed_counterfeit", "reason": "Tem in lại, mã trùng trên hai hộp ở hai chợ"},
        headers=inspector,
    )
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["authority_name"] == AUTHORITY
    html = (await client.get(case["page"])).text
    assert 'id="counterfeit"' in html and "HÀNG GIẢ" in html and AUTHORITY in html
    assert_problem(
        await client.post(reviews, json={"decision": "dismissed", "reason": "của tôi"}, headers=owner), 409, "confirmed"
    )

    dismissed = await client.post(
        reviews, json={"decision": "dismissed", "reason": "Nhầm: hai hộp có mã khác nhau"}, headers=inspector
    )
    assert dismissed.status_code == 201
    assert 'id="counterfeit"' not in (await client.get(case["page"])).text
    (alert,) = (await client.get("/api/v1/scans/alerts", headers=inspector)).json()
    assert alert["status"] == "dismissed"
    assert [r["decision"] for r in alert["reviews"]] == ["confirmed_counterfeit", "dismissed"]
    with pytest.raises(asyncpg.exceptions.RestrictViolationError):
        await db.execute("update scan_alert_reviews set reason = 'rewritten'")
    with pytest.raises(asyncpg.exceptions.RestrictViolationError):
        await db.execute("delete from scan_alert_reviews")


async def test_the_owner_may_dismiss_with_a_reason(
    client: AsyncTestClient[Litestar], app: Litestar, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    case = await two_cities(client, app, db)
    alert_id = await db.fetchval("select id from scan_alerts")
    owner = await make_user("farmer")
    await join_organization(db, owner, case["org"])
    done = await client.post(
        f"/api/v1/scans/alerts/{alert_id}/reviews",
        json={"decision": "dismissed", "reason": "Nhân viên thử tem ở hai chi nhánh"},
        headers=owner,
    )
    assert done.status_code == 201, done.text
    assert done.json()["authority_name"] is None
    inspector = await make_user("inspector")
    assert (await client.get("/api/v1/inspections/queue", headers=inspector)).json()["alerts"] == []
    assert (await client.get("/api/v1/scans/alerts?status=open", headers=owner)).json() == []
