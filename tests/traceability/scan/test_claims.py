"""Who said it: a producer's words never read as an inspector's, and a household's home stays private."""

import json
import re
from typing import Any
from urllib.parse import quote

from service.core.db import init_connection
from service.traceability import public
from tests.support import factories as f
from tests.support.app import UserFactory

HOME = {"lat": 21.563812, "lon": 105.762634}  # a household farm: somebody's house


async def test_a_farmers_custom_inspection_step_is_labelled_as_the_producers_own_note(
    client: f.Client, make_user: UserFactory
) -> None:
    farmer, org = await f.farm(client, make_user)
    lot = await f.batch(client, farmer, (await f.product(client, farmer))["id"])
    f.assert_problem(
        await client.post(f"/api/v1/batches/{lot['id']}/events", json={"biz_step": "inspecting"}, headers=farmer),
        422,
        "use_inspections",
    )
    await f.event(client, farmer, lot["id"], biz_step="urn:x:inspecting")
    await f.event(
        client, farmer, lot["id"], biz_step=f"https://farm.example.vn/steps/{quote('Được_Sở_NN_kiểm_định_đạt')}"
    )
    page = f"/trace/{lot['code']}"
    html = (await client.get(page)).text
    assert "Kiểm tra chất lượng" not in html
    assert "Ghi chú của nhà sản xuất: “inspecting”" in html
    assert "Ghi chú của nhà sản xuất: “Được Sở NN kiểm định đạt”" in html
    assert 'id="verified"' not in html  # nothing on this page was verified by anyone
    english = (await client.get(page + "?lang=en")).text
    assert "Producer&#x27;s note: “inspecting”" in english and "Quality inspected" not in english
    body = (await client.get(page, headers={"Accept": "application/json"})).json()
    custom = [e for e in body["events"] if e["biz_step"] == "urn:x:inspecting"]
    assert custom[0]["claim"] == {"kind": "declared", "by": org["name"], "at": custom[0]["claim"]["at"]}

    inspector = await make_user("inspector")
    done = await client.post(
        f"/api/v1/batches/{lot['id']}/inspections", json={"result": "conformant"}, headers=inspector
    )
    assert done.status_code == 201, done.text
    assert done.json()["details"]["authority"]["name"] == f.AUTHORITY
    html = (await client.get(page)).text
    verified = html[html.index('id="verified"') : html.index('id="declared"')]
    declared = html[html.index('id="declared"') :]
    assert "Kiểm tra chất lượng" in verified and f"✓ {f.AUTHORITY} xác nhận" in verified
    assert "Kiểm tra chất lượng" not in declared and "Ghi chú của nhà sản xuất" in declared
    derived = html[html.index('id="derived"') :]
    assert "còn nguyên vẹn" in derived and "Hệ thống tự tính" in derived  # chain validity, a derived claim
    public_epcis = (await client.get(f"/trace/{lot['code']}/epcis")).json()
    steps = {e["bizStep"]: e["tt:claimedBy"]["tt:kind"] for e in public_epcis["epcisBody"]["eventList"]}
    assert steps["urn:x:inspecting"] == "declared" and steps["inspecting"] == "verified"


async def test_household_coordinates_are_rounded_on_every_public_surface(
    client: f.Client, make_user: UserFactory, db: Any
) -> None:
    farmer, org = await f.farm(client, make_user)
    await client.patch(f"/api/v1/organizations/{org['id']}", json=HOME, headers=farmer)
    prod = await f.product(client, farmer, names={"vi": "Chè búp Hồng Thái"})
    lot = await f.batch(client, farmer, prod["id"])
    own = (await client.get(f"/api/v1/organizations/{org['id']}", headers=farmer)).json()
    assert (own["lat"], own["lon"]) == (HOME["lat"], HOME["lon"])  # the owner sees the exact point

    producer = (await client.get(f"/api/v1/producers/{org['id']}")).json()
    assert (producer["lat"], producer["lon"]) == (21.56, 105.76)
    page = (await client.get(f"/trace/{lot['code']}", headers={"Accept": "application/json"})).json()
    assert (page["producer"]["lat"], page["producer"]["lon"]) == (21.56, 105.76)
    html = (await client.get(f"/trace/{lot['code']}")).text
    assert "mlat=21.56&amp;mlon=105.76" in html and "21.5638" not in html and "105.7626" not in html
    await init_connection(db)
    (near,) = await public.producers_near(db, 21.57, 105.76, 5, "vi", 10)
    assert (near.lat, near.lon) == (21.56, 105.76)
    (hit,) = await public.search_products(db, "hong thai", "vi", 10)
    assert (hit.lat, hit.lon) == (21.56, 105.76)
    csv_text = (await client.get("/open-data/producers.csv")).content.decode("utf-8-sig")
    assert "21.56," in csv_text and "21.5638" not in csv_text

    # and no phone number, anywhere a stranger can look
    for surface in (json.dumps(producer), json.dumps(page), html, csv_text):
        assert "+84912345678" not in surface and "0912" not in surface
    assert not re.search(r"\+84\d{9}", html)


async def test_a_cooperatives_address_is_not_rounded(client: f.Client, make_user: UserFactory) -> None:
    coop, org = await f.farm(client, make_user, role="cooperative")
    await client.patch(f"/api/v1/organizations/{org['id']}", json=HOME, headers=coop)
    producer = (await client.get(f"/api/v1/producers/{org['id']}")).json()
    assert (producer["lat"], producer["lon"]) == (HOME["lat"], HOME["lon"])  # a business address is public
