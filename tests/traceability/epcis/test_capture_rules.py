"""What a partner may capture onto our batches: only batches handed to it, no reserved steps, and the same
order and quantity rules as events recorded through the API; each broken rule a per-event error."""

import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support import epcis as e
from tests.support import factories as f
from tests.traceability.epcis.test_capture import known_lot

UNKNOWN_LOT = "https://id.gs1.org/01/08930000000026/10/X1"


def errors_of(job: dict[str, Any]) -> list[tuple[int, str]]:
    return [(err["eventIndex"], err["code"]) for err in job["errors"]]


async def chain_length(db: asyncpg.Connection, lot: dict[str, Any]) -> int:
    return int(await db.fetchval("select count(*) from events where batch_id = $1", uuid.UUID(lot["id"])))


async def test_a_partner_captures_only_onto_batches_handed_to_it(
    client: f.Client, make_user: Any, db: asyncpg.Connection
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    created, partner = await e.partner_client(client, await make_user("admin"))
    first, second, third = e.moments(3)
    before = await chain_length(db, lot)

    refused = await e.captured(client, partner, e.document(e.receiving(uri, first)))
    assert refused["status"] == "failed" and errors_of(refused) == [(0, "batch_not_held")]
    assert await db.fetchval("select count(*) from epcis_events") == 0 and await chain_length(db, lot) == before
    theirs = await e.captured(client, partner, e.document(e.receiving(UNKNOWN_LOT, first)))
    assert theirs["captured"] == 1  # a lot that is not ours: kept for the partner's queries, joins no chain

    # someone else cannot hand the batch over; the producer can, once (again changes nothing)
    path = f"/api/v1/batches/{lot['id']}/partners/{created['partner_id']}"
    stranger, _ = await f.farm(client, make_user)
    f.assert_problem(await client.put(path, headers=stranger), 404, "batch_not_found")
    f.assert_problem(
        await client.put(f"/api/v1/batches/{lot['id']}/partners/{uuid.uuid4()}", headers=producer),
        404,
        "partner_not_found",
    )
    granted = await client.put(path, headers=producer)
    assert granted.status_code == 200 and granted.json()["partner_name"] == "Siêu thị Xanh"
    assert (await client.put(path, headers=producer)).json()["created_at"] == granted.json()["created_at"]
    listed = (await client.get(f"/api/v1/batches/{lot['id']}/partners", headers=producer)).json()
    assert [h["partner_id"] for h in listed] == [created["partner_id"]]

    held = await e.captured(client, partner, e.document(e.receiving(uri, second)))
    assert held["captured"] == 1 and held["errors"] == []
    assert await chain_length(db, lot) == before + 1

    assert (await client.delete(path, headers=producer)).status_code == 204  # taken back
    f.assert_problem(await client.delete(path, headers=producer), 404, "holding_not_found")
    again = await e.captured(client, partner, e.document(e.receiving(uri, third)))
    assert errors_of(again) == [(0, "batch_not_held")] and await chain_length(db, lot) == before + 1


@pytest.mark.parametrize(
    ("step", "disposition"),
    [("commissioning", "active"), ("inspecting", None), ("holding", "recalled"), ("decommissioning", None)],
)
async def test_reserved_steps_are_refused_to_partners(
    client: f.Client, make_user: Any, step: str, disposition: str | None
) -> None:
    producer, lot, uri = await known_lot(client, make_user)
    _, partner = await e.partner_client(client, await make_user("admin"), holds=((producer, lot),))
    event = e.receiving(uri, e.moments(1)[0], bizStep=step)
    event.pop("disposition")
    if disposition:
        event["disposition"] = disposition
    job = await e.captured(client, partner, e.document(event))
    assert errors_of(job) == [(0, "reserved_step")], job


async def test_captured_events_follow_the_rules_of_the_api(
    client: f.Client, make_user: Any, db: asyncpg.Connection
) -> None:
    producer, shipped, uri = await known_lot(client, make_user)
    tea = await f.product(client, producer, gtin="8930000000026")
    unshipped = await f.batch(client, producer, tea["id"], lot="U1")
    unshipped_uri = "https://id.gs1.org/01/08930000000026/10/U1"
    _, partner = await e.partner_client(
        client, await make_user("admin"), holds=((producer, shipped), (producer, unshipped))
    )
    now = datetime.now(e.VN).replace(microsecond=0)
    at = e.moments(1)[0]

    def kilos(amount: float, uom: str = "KGM", epc_class: str = uri) -> list[dict[str, Any]]:
        return [{"epcClass": epc_class, "quantity": amount, "uom": uom}]

    before = await chain_length(db, shipped)
    job = await e.captured(
        client,
        partner,
        e.document(
            e.receiving(unshipped_uri, at, quantityList=kilos(10, epc_class=unshipped_uri)),  # never shipped
            e.receiving(uri, at, quantityList=kilos(500)),  # 120.5 kg exist
            e.receiving(uri, at, quantityList=kilos(10, "LTR")),  # counted in kg
            e.receiving(uri, (now - timedelta(hours=1)).isoformat()),  # before the batch was registered
            e.receiving(uri, (now + timedelta(hours=1)).isoformat()),  # in the future
            e.receiving(uri, at, quantityList=kilos(40)),  # fine
        ),
        **{"GS1-Capture-Error-Behaviour": "proceed"},
    )
    assert errors_of(job) == [
        (0, "receiving_before_shipping"),
        (1, "quantity_exceeds_available"),
        (2, "unit_mismatch"),
        (3, "event_before_commissioning"),
        (4, "event_in_future"),
    ]
    assert job["captured"] == 1 and not job["success"]
    assert await chain_length(db, shipped) == before + 1 and await chain_length(db, unshipped) == 1
    events = (await client.get(f"/api/v1/batches/{shipped['id']}/events", headers=producer)).json()
    assert (events[-1]["biz_step"], events[-1]["quantity"], events[-1]["unit"]) == ("receiving", "40", "kg")
    assert all(err["detail"] and err["title"] for err in job["errors"])


async def test_a_batch_handed_over_can_be_read_before_anything_is_captured(client: f.Client, make_user: Any) -> None:
    producer, lot, _ = await known_lot(client, make_user)
    created, partner = await e.partner_client(client, await make_user("admin"))
    found = await client.get("/epcis/events", params={"EQ_bizStep": "shipping"}, headers=partner)
    assert found.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []
    await e.hand_over(client, producer, lot, created["partner_id"])
    found = await client.get("/epcis/events", params={"EQ_bizStep": "shipping"}, headers=partner)
    [shipping] = found.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert shipping["bizStep"] == "shipping"
