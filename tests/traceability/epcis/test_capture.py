"""EPCIS capture by a partner: schema-checked, idempotent, joining our batches' hash chains."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from tests.support import epcis as e
from tests.support import factories as f


async def known_lot(client: f.Client, make_user: Any) -> tuple[dict[str, str], dict[str, Any], str]:
    """A producer's shipped lot with a GTIN; (producer headers, batch, its lot URI)."""
    headers, _ = await f.farm(client, make_user)
    tea = await f.product(client, headers, gtin="8930000000019")
    lot = await f.batch(client, headers, tea["id"], lot="L7")
    await f.event(client, headers, lot["id"], biz_step="shipping", destination="Hà Nội")
    return headers, lot, "https://id.gs1.org/01/08930000000019/10/L7"


async def test_receiving_joins_the_batch_chain_once(client: f.Client, make_user: Any, db: asyncpg.Connection) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    at = datetime.now(e.VN).replace(microsecond=500_000) + timedelta(seconds=2)
    doc = e.document(e.receiving(uri, at.isoformat()))  # no eventID: the server gives the hash ID
    job = await e.captured(client, partner, doc)
    assert job["status"] == "succeeded" and job["success"] and job["captured"] == 1, job["errors"]

    events = (await client.get(f"/api/v1/batches/{lot['id']}/events", headers=producer)).json()
    assert [ev["biz_step"] for ev in events][-1] == "receiving"
    assert events[-1]["details"]["partner"]["name"] == "Siêu thị Xanh"
    assert events[-1]["details"]["epcisEventID"].startswith("ni:///sha-256;")
    assert events[-1]["details"]["epcisEventID"].endswith("?ver=CBV2.0")
    chain = (await client.get(f"/api/v1/batches/{lot['id']}/verify", headers=producer)).json()
    assert chain["valid"] is True
    logged = await db.fetchval("select count(*) from transparency_leaves where batch_id = $1", uuid_of(lot))
    assert logged == len(events)

    again = await e.captured(client, partner, doc)  # the same document resent: nothing changes
    assert again["captured"] == 0 and again["duplicates"] == 1
    assert len((await client.get(f"/api/v1/batches/{lot['id']}/events", headers=producer)).json()) == len(events)
    pre_hash = await db.fetchval("select pre_hash from epcis_events")
    in_utc = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + ".500Z"  # UTC, milliseconds
    assert pre_hash.startswith(f"eventType=ObjectEventeventTime={in_utc}eventTimeZoneOffset=+07:00")
    assert "bizStep=https://ref.gs1.org/cbv/BizStep-receiving" in pre_hash


def uuid_of(row: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(row["id"])


async def test_an_error_declaration_keeps_the_original_event_id(client: f.Client, make_user: Any) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    original = e.receiving(uri, e.moments(1)[0], eventID="urn:uuid:6b1a2c1e-0d7b-4c39-9a57-1f1f0e3f8a10")
    assert (await e.captured(client, partner, e.document(original)))["captured"] == 1
    declared = original | {"errorDeclaration": {"declarationTime": e.moments(2)[1], "reason": "incorrect_data"}}
    job = await e.captured(client, partner, e.document(declared))
    assert job["captured"] == 1 and job["duplicates"] == 0, job
    assert (await e.captured(client, partner, e.document(declared)))["duplicates"] == 1


async def test_an_invalid_document_stores_nothing_and_names_each_bad_event(
    client: f.Client, make_user: Any, db: asyncpg.Connection
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    good = e.receiving(uri, e.moments(1)[0])
    bad_time = e.receiving(uri, "yesterday")
    bad_uri = e.receiving("not a uri", e.moments(1)[0])
    job = await e.captured(client, partner, e.document(good, bad_time, bad_uri))
    assert job["status"] == "failed" and not job["success"]
    assert sorted(err["eventIndex"] for err in job["errors"]) == [1, 2]
    assert all(err["code"] == "epcis_schema_invalid" and err["detail"] for err in job["errors"])
    assert await db.fetchval("select count(*) from epcis_events") == 0

    proceed = await e.captured(
        client, partner, e.document(good, bad_time), **{"GS1-Capture-Error-Behaviour": "proceed"}
    )
    assert proceed["status"] == "succeeded" and proceed["captured"] == 1
    assert [err["eventIndex"] for err in proceed["errors"]] == [1]


async def test_a_rule_broken_by_one_event_rolls_back_the_rest(
    client: f.Client, make_user: Any, db: asyncpg.Connection
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    good = e.receiving(uri, e.moments(1)[0])
    recall = e.receiving(uri, e.moments(2)[1], bizStep="holding", disposition="recalled")
    job = await e.captured(client, partner, e.document(good, recall))
    assert job["status"] == "failed"
    assert [(err["eventIndex"], err["code"]) for err in job["errors"]] == [(1, "reserved_step")]
    assert await db.fetchval("select count(*) from epcis_events") == 0
    assert await db.fetchval("select count(*) from events where batch_id = $1", uuid_of(lot)) == 2


async def test_too_many_events_or_too_large_a_body_is_refused(client: f.Client, make_user: Any) -> None:
    _, partner = await e.partner_client(client, await make_user("admin"))
    many = e.document(*[e.receiving("https://id.gs1.org/01/08930000000019/10/L7", "2025-06-09T10:00:00Z")] * 501)
    f.assert_problem(await client.post("/epcis/capture", json=many, headers=partner), 413, "too_many_events")
    huge = e.document(e.receiving("https://example.com/" + "a" * (2 * 1024 * 1024), "2025-06-09T10:00:00Z"))
    f.assert_problem(await client.post("/epcis/capture", json=huge, headers=partner), 413)
    f.assert_problem(await client.post("/epcis/capture", json={"type": "nope"}, headers=partner), 422)


async def test_json_ld_with_a_bearer_token_is_captured(client: f.Client, make_user: Any) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    token = (await client.post("/epcis/token", headers=partner)).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/ld+json"}
    body = json.dumps(e.document(e.receiving(uri, e.moments(1)[0]))).encode()
    response = await client.post("/epcis/capture", content=body, headers=bearer)
    assert response.status_code == 202, response.text
    job = await client.get(response.headers["location"].removeprefix("https://trace.example.vn"), headers=bearer)
    assert job.json()["captureErrorBehaviour"] == "rollback"
    other = await e.partner_client(client, await make_user("admin"), name="Người khác")
    stranger = await client.get(response.headers["location"].removeprefix("https://trace.example.vn"), headers=other[1])
    f.assert_problem(stranger, 404, "capture_not_found")  # one partner never sees another's jobs
