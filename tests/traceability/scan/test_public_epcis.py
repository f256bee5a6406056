"""The public EPCIS history behind gs1:epcis: no token, schema-valid, nothing private in it."""

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest
from jsonschema import Draft7Validator
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.standards import STANDARDS
from tests.support import factories as f
from tests.support.app import feed_connected
from tests.support.factories import BASE

SCHEMA_PATH = STANDARDS / "epcis" / "EPCIS-JSON-Schema.json"
PRIVATE_NOTE = "Gọi anh Tuấn 0912 345 678 trước khi giao"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url=BASE) as test_client:
        test_client.follow_redirects = False
        await feed_connected(app)
        yield test_client


async def history(client: f.Client, make_user: Any) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """Leaves -> dried tea, packed (with a private note), shipped, inspected (with a note), recalled."""
    headers, _ = await f.farm(client, make_user)
    fresh = await f.product(client, headers, gtin="8930000000019")
    dried = await f.product(client, headers, names={"vi": "Chè khô"}, gtin="8935049510017")
    leaves = await f.batch(client, headers, fresh["id"], plot_id=(await f.plot(client, headers))["id"], lot="L-1")
    response = await client.post(
        "/api/v1/transformations",
        json={
            "inputs": [{"batch_id": leaves["id"], "quantity": "90", "unit": "kg"}],
            "output": {"product_id": dried["id"], "quantity": "18.5", "unit": "kg", "lot": "D-1"},
            "notes": PRIVATE_NOTE,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    out = response.json()["output"]
    await f.event(client, headers, out["id"], biz_step="packing", notes=PRIVATE_NOTE)
    await f.event(client, headers, out["id"], biz_step="shipping", destination="Chợ Đồng Xuân, Hà Nội")
    inspector = await make_user("inspector")
    inspected = await client.post(
        f"/api/v1/batches/{out['id']}/inspections",
        json={"result": "conformant", "notes": PRIVATE_NOTE},
        headers=inspector,
    )
    assert inspected.status_code == 201, inspected.text
    recalled = await client.post(
        f"/api/v1/batches/{out['id']}/recall", json={"reason": "Kiểm tra lại"}, headers=inspector
    )
    assert recalled.status_code == 201, recalled.text
    return headers, leaves, out


async def test_public_history_is_valid_epcis_without_a_token(
    client: f.Client, make_user: Any, validator: Draft7Validator
) -> None:
    headers, _, dried = await history(client, make_user)
    response = await client.get(f"/trace/{dried['code']}/epcis")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    doc = response.json()
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert errors == [], [e.message for e in errors[:5]]
    private = (await client.get(f"/api/v1/batches/{dried['id']}/epcis", headers=headers)).json()
    public_events = doc["epcisBody"]["eventList"]
    assert [e["eventID"] for e in public_events] == [e["eventID"] for e in private["epcisBody"]["eventList"]]
    assert len(public_events) == 1 + 5  # the leaves' commissioning, one step back, and the dried tea's five
    shipping = next(e for e in public_events if e.get("bizStep") == "shipping")
    assert shipping["tt:destination"] == "Chợ Đồng Xuân, Hà Nội"  # shown on the shopper page too
    recall = public_events[-1]
    assert recall["disposition"] == "recalled" and recall["tt:reason"] == "Kiểm tra lại"
    assert all(e["tt:hash"] and "tt:prevHash" in e for e in public_events)  # anyone can check the chain


async def test_private_details_are_filtered_out(client: f.Client, make_user: Any) -> None:
    headers, _, dried = await history(client, make_user)
    private = (await client.get(f"/api/v1/batches/{dried['id']}/epcis", headers=headers)).text
    assert PRIVATE_NOTE in private  # the builder does carry it: the filter is what keeps it out
    public = (await client.get(f"/trace/{dried['code']}/epcis")).text
    assert PRIVATE_NOTE not in public
    assert "0912" not in public and "ho.che@example.vn" not in public
    body = json.loads(public)
    for event in body["epcisBody"]["eventList"]:
        assert not {"tt:notes", "tt:photos", "recorded_by", "recordedBy"} & event.keys()
    assert headers["X-User-Id"] not in public


async def test_resolver_links_and_redirects_to_it(client: f.Client, make_user: Any, validator: Draft7Validator) -> None:
    _, _, dried = await history(client, make_user)
    digital_link = f"/01/08935049510017/10/{quote(dried['lot'], safe='')}"
    redirect = await client.get(f"{digital_link}?linkType=gs1:epcis")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == f"{BASE}/trace/{dried['code']}/epcis"  # linkType stays with the resolver
    followed = await client.get(redirect.headers["location"])
    assert followed.status_code == 200 and not list(validator.iter_errors(followed.json()))
    context = (await client.get(digital_link, params={"linkType": "linkset"})).json()["linkset"][0]
    assert context["https://gs1.org/voc/epcis"] == [
        {
            "href": f"{BASE}/trace/{dried['code']}/epcis",
            "title": "Sự kiện EPCIS của lô hàng / Batch EPCIS events",
            "type": "application/ld+json",
            "hreflang": ["vi", "en"],
        },
        {  # partners with API clients query the lot through the EPCIS 2.0 interface (?context=partner)
            "href": f"{BASE}/epcis/events?MATCH_epcClass={quote(f'https://id.gs1.org{digital_link}', safe='')}",
            "title": "Truy vấn EPCIS 2.0 cho đối tác / EPCIS 2.0 query for partners",
            "type": "application/ld+json",
            "hreflang": ["vi", "en"],
            "context": ["partner"],
        },
    ]
    short = await client.get(f"/q/{dried['code']}", params={"linkType": "gs1:epcis"})  # no GTIN needed
    assert short.headers["location"].startswith(f"{BASE}/trace/{dried['code']}/epcis")


@pytest.mark.parametrize(
    ("code", "status", "problem"),
    [("ZZZZZZZZZZZZZ", 404, "identifier_not_found"), ("0OIl", 400, "invalid_short_code"), ("x" * 40, 400, None)],
)
async def test_bad_or_unknown_codes(client: f.Client, code: str, status: int, problem: str | None) -> None:
    f.assert_problem(await client.get(f"/trace/{code}/epcis"), status, problem)
