"""EPCIS 2.0 export validated against GS1's JSON schema with format checking on."""

import copy
import json
from typing import Any

import jsonschema
import pytest
from jsonschema import Draft7Validator

from tests.standards import STANDARDS
from tests.support import factories as f

SCHEMA_PATH = STANDARDS / "epcis" / "EPCIS-JSON-Schema.json"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


async def history(client: f.Client, make_user: Any) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    headers, _ = await f.farm(client, make_user)
    fresh = await f.product(client, headers, gtin="8930000000019")
    dried = await f.product(client, headers, names={"vi": "Chè khô"})
    area = await f.plot(client, headers)
    leaves = await f.batch(client, headers, fresh["id"], plot_id=area["id"], lot='A/1"%&')
    response = await client.post(
        "/api/v1/transformations",
        json={
            "inputs": [{"batch_id": leaves["id"], "quantity": "90", "unit": "kg"}],
            "output": {"product_id": dried["id"], "quantity": "18.5", "unit": "kg"},
        },
        headers=headers,
    )
    out = response.json()["output"]
    await f.event(client, headers, out["id"], biz_step="packing")
    await f.event(client, headers, out["id"], biz_step="shipping", destination="Hà Nội")
    inspector = await make_user("inspector")
    await client.post(f"/api/v1/batches/{out['id']}/inspections", json={"result": "conformant"}, headers=inspector)
    await client.post(f"/api/v1/batches/{out['id']}/recall", json={"reason": "Kiểm tra lại"}, headers=inspector)
    return headers, leaves, out


async def test_export_is_a_valid_epcis_document(client: f.Client, make_user: Any, validator: Draft7Validator) -> None:
    headers, leaves, dried = await history(client, make_user)
    org_name = (await client.get(f"/api/v1/organizations/{dried['organization_id']}", headers=headers)).json()["name"]
    response = await client.get(f"/api/v1/batches/{dried['id']}/epcis", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    doc = response.json()
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert errors == [], [e.message for e in errors[:5]]
    events = doc["epcisBody"]["eventList"]
    types = [e["type"] for e in events]
    assert types.count("TransformationEvent") == 1
    assert len(events) == 1 + 5  # the input's commissioning, one step back, plus the dried tea's five events
    assert {e["eventTimeZoneOffset"] for e in events} == {"+07:00"}
    assert all(e["eventTime"].endswith("+07:00") for e in events)
    transformation = next(e for e in events if e["type"] == "TransformationEvent")
    # GTIN: GS1 Digital Link class URI, lot percent-encoded; no GTIN: the service's own /q/{code}
    assert (
        transformation["inputQuantityList"][0]["epcClass"] == "https://id.gs1.org/01/08930000000019/10/A%2F1%22%25%26"
    )
    assert transformation["inputQuantityList"][0]["uom"] == "KGM"
    assert transformation["outputQuantityList"][0]["epcClass"] == f"https://trace.example.vn/q/{dried['code']}"
    commissioning = next(e for e in events if e.get("bizStep") == "commissioning" and e["type"] == "ObjectEvent")
    assert commissioning["readPoint"]["id"].startswith("https://trace.example.vn/api/v1/plots/")
    assert [e.get("disposition") for e in events][-1] == "recalled"
    # who made each claim, in the service's own namespace: the producer declared, the authority verified
    claims = {(e.get("bizStep"), e.get("disposition")): e["tt:claimedBy"] for e in events}
    assert claims[("packing", "in_progress")] == {"tt:kind": "declared", "tt:role": "producer", "tt:name": org_name}
    assert claims[("inspecting", "conformant")] == {
        "tt:kind": "verified",
        "tt:role": "authority",
        "tt:name": f.AUTHORITY,
    }
    assert claims[("holding", "recalled")]["tt:kind"] == "verified"

    forward = (await client.get(f"/api/v1/batches/{leaves['id']}/epcis", headers=headers)).json()
    assert not list(validator.iter_errors(forward))
    assert len(forward["epcisBody"]["eventList"]) == 6  # leaves' one event + the dried tea's five (one step forward)


async def test_the_validator_rejects_an_invented_bizstep_that_is_not_a_uri(
    client: f.Client, make_user: Any, validator: Draft7Validator
) -> None:
    headers, _, dried = await history(client, make_user)
    doc = (await client.get(f"/api/v1/batches/{dried['id']}/epcis", headers=headers)).json()
    broken = copy.deepcopy(doc)
    broken["epcisBody"]["eventList"][-1]["bizStep"] = "harvesting the tea"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)
    broken = copy.deepcopy(doc)
    broken["epcisBody"]["eventList"][0]["eventTime"] = "yesterday"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


async def test_custom_steps_stay_valid_uris(client: f.Client, make_user: Any, validator: Draft7Validator) -> None:
    headers, _ = await f.farm(client, make_user)
    lot = await f.batch(client, headers, (await f.product(client, headers))["id"])
    await f.event(
        client,
        headers,
        lot["id"],
        biz_step="https://trace.example.vn/steps/withering",
        disposition="urn:tt:disp:drying",
    )
    doc = (await client.get(f"/api/v1/batches/{lot['id']}/epcis", headers=headers)).json()
    assert not list(validator.iter_errors(doc))
