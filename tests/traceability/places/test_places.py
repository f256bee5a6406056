"""Named places: what the shopper reads instead of an address of the API."""

import re
from typing import Any

from tests.support import factories as f

SHOP = {"vi": "Cửa hàng chè <Hoàng Văn Thụ>", "en": "Hoàng Văn Thụ tea shop"}
WORKS = {"vi": "Xưởng chè HTX Tân Cương", "en": "Tân Cương co-op tea works"}


async def place(client: f.Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"names": WORKS, "kind": "packhouse", "commune_code": f.TAN_CUONG, "lat": 21.56518, "lon": 105.76312}
    response = await client.post("/api/v1/places", json=body | overrides, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_the_journey_names_the_places_never_an_address(client: f.Client, make_user: Any) -> None:
    headers, _org = await f.farm(client, make_user)
    works = await place(client, headers)
    shop = await place(client, headers, names=SHOP, kind="shop")
    product = await f.product(client, headers)
    batch = await f.batch(client, headers, product["id"])
    batch_id = batch["id"]
    packed = await f.event(client, headers, batch_id, biz_step="packing", place_id=works["id"])
    await f.event(client, headers, batch_id, biz_step="retail_selling", place_id=shop["id"])
    assert packed["biz_location"] == f"{f.BASE}/api/v1/places/{works['id']}"  # EPCIS keeps a URI

    page = await client.get(f"/trace/{batch['code']}")
    assert page.status_code == 200
    html = page.text
    assert "Đóng gói tại <strong>Xưởng chè HTX Tân Cương" in html
    assert "Bày bán tại <strong>Cửa hàng chè &lt;Hoàng Văn Thụ&gt;" in html  # escaped, and in "where to buy"
    assert html.count("Cửa hàng chè &lt;Hoàng Văn Thụ&gt;") == 2
    assert "<Hoàng" not in html
    visible = re.sub(r"<script.*?</script>|<[^>]+>", "", html)
    assert "http" not in visible and "/api/v1/" not in html  # no raw address anywhere a person reads
    english = (await client.get(f"/trace/{batch['code']}?lang=en")).text
    assert "Packed at <strong>Tân Cương co-op tea works" in english
    assert "On sale at <strong>Hoàng Văn Thụ tea shop" in english
    data = (await client.get(f"/trace/{batch['code']}", headers={"Accept": "application/json"})).json()
    assert data["where_to_buy"][0]["names"] == SHOP and data["where_to_buy"][0]["kind"] == "shop"

    # renaming the place shows on the next view (the cached page's version includes places)
    renamed = await client.patch(
        f"/api/v1/places/{works['id']}", json={"names": {"vi": "Xưởng mới", "en": "New works"}}, headers=headers
    )
    assert renamed.status_code == 200, renamed.text
    assert "Đóng gói tại <strong>Xưởng mới" in (await client.get(f"/trace/{batch['code']}")).text
    # a place events name cannot be deleted: the history keeps its words
    f.assert_problem(await client.delete(f"/api/v1/places/{works['id']}", headers=headers), 409, "place_in_use")


async def test_places_are_checked_and_belong_to_their_organization(client: f.Client, make_user: Any) -> None:
    headers, _org = await f.farm(client, make_user)
    works = await place(client, headers, gln="8935049500018")
    assert (works["lat"], works["lon"]) == (21.565, 105.763)  # coarse: about 100 m
    assert works["commune_name"].endswith("Tân Cương")
    public = await client.get(f"/api/v1/places/{works['id']}")
    assert public.status_code == 200 and public.json()["names"] == WORKS

    bad = {"names": WORKS, "kind": "packhouse", "commune_code": f.TAN_CUONG}
    f.assert_problem(await client.post("/api/v1/places", json=bad | {"commune_code": "99999"}, headers=headers), 422)
    f.assert_problem(
        await client.post("/api/v1/places", json=bad | {"gln": "8935049500017"}, headers=headers), 422, "invalid_gln"
    )
    f.assert_problem(
        await client.post("/api/v1/places", json=bad | {"gln": "8935049500018"}, headers=headers), 409, "gln_taken"
    )
    f.assert_problem(
        await client.post("/api/v1/places", json=bad | {"names": {"en": "No Vietnamese"}}, headers=headers), 422
    )
    f.assert_problem(await client.post("/api/v1/places", json=bad | {"lat": 21.5}, headers=headers), 422)

    other, _ = await f.farm(client, make_user)
    product = await f.product(client, other)
    batch = await f.batch(client, other, product["id"])
    refused = await client.post(
        f"/api/v1/batches/{batch['id']}/events",
        json={"biz_step": "packing", "place_id": works["id"]},
        headers=other,
    )
    f.assert_problem(refused, 422, "place_not_yours")
    f.assert_problem(
        await client.patch(f"/api/v1/places/{works['id']}", json={"kind": "shop"}, headers=other),
        404,
        "place_not_found",
    )
    assert [p["id"] for p in (await client.get("/api/v1/places", headers=other)).json()] == []
    assert [p["id"] for p in (await client.get("/api/v1/places", headers=headers)).json()] == [works["id"]]
    deleted = await client.delete(f"/api/v1/places/{works['id']}", headers=headers)
    assert deleted.status_code == 204
    f.assert_problem(await client.get(f"/api/v1/places/{works['id']}"), 404, "place_not_found")


async def test_the_harvest_the_processing_and_the_inspection_name_their_places_too(
    client: f.Client, make_user: Any
) -> None:
    headers, _org = await f.farm(client, make_user)
    hill = await place(client, headers, names={"vi": "Đồi chè Hồng Thái", "en": "Hồng Thái tea hill"}, kind="farm")
    works = await place(client, headers)
    product = await f.product(client, headers)
    leaves = await f.batch(client, headers, product["id"], place_id=hill["id"])
    (harvest,) = (await client.get(f"/api/v1/batches/{leaves['id']}/events", headers=headers)).json()
    assert harvest["biz_step"] == "commissioning"
    assert harvest["biz_location"] == f"{f.BASE}/api/v1/places/{hill['id']}"
    assert harvest["details"]["place"] == {"id": hill["id"], "name": "Đồi chè Hồng Thái"}  # inside the hash
    assert (await client.get(f"/api/v1/batches/{leaves['id']}/verify", headers=headers)).json()["valid"] is True

    made = await client.post(
        "/api/v1/transformations",
        json={
            "inputs": [{"batch_id": leaves["id"], "quantity": "100", "unit": "kg"}],
            "output": {"product_id": product["id"], "quantity": "21", "unit": "kg"},
            "place_id": works["id"],
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    dried = made.json()["output"]
    assert made.json()["event"]["biz_location"] == f"{f.BASE}/api/v1/places/{works['id']}"

    inspector = await make_user("inspector")
    inspected = await client.post(
        f"/api/v1/batches/{dried['id']}/inspections",
        json={"result": "conformant", "place_id": works["id"]},
        headers=inspector,
    )
    assert inspected.status_code == 201, inspected.text
    assert inspected.json()["biz_location"] == f"{f.BASE}/api/v1/places/{works['id']}"

    page = (await client.get(f"/trace/{leaves['code']}")).text
    assert "Thu hoạch, tạo lô tại <strong>Đồi chè Hồng Thái" in page
    dried_page = (await client.get(f"/trace/{dried['code']}?lang=en")).text
    assert dried_page.count("at <strong>Tân Cương co-op tea works") == 2  # made there, inspected there

    # another farm's places are not theirs to name, at any stage
    other, _ = await f.farm(client, make_user)
    other_product = await f.product(client, other)
    refused = await client.post(
        "/api/v1/batches",
        json={"product_id": other_product["id"], "quantity": "5", "unit": "kg", "place_id": hill["id"]},
        headers=other,
    )
    f.assert_problem(refused, 422, "place_not_yours")
    other_batch = await f.batch(client, other, other_product["id"])
    wrong = await client.post(
        f"/api/v1/batches/{other_batch['id']}/inspections",
        json={"result": "conformant", "place_id": works["id"]},
        headers=inspector,
    )
    f.assert_problem(wrong, 422, "place_not_of_batch")
    conflicting = await client.post(
        "/api/v1/transformations",
        json={
            "inputs": [{"batch_id": other_batch["id"], "quantity": "1", "unit": "kg"}],
            "output": {"product_id": other_product["id"], "quantity": "1", "unit": "kg", "place_id": hill["id"]},
            "place_id": works["id"],
        },
        headers=other,
    )
    f.assert_problem(conflicting, 422, "place_conflict")
