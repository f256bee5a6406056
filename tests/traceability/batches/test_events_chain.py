"""The event history: order rules, append-only storage, the hash chain, concurrent writers, tampering."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support import factories as f


async def started(client: f.Client, make_user: Any, **batch: Any) -> tuple[dict[str, str], dict[str, Any]]:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    return headers, await f.batch(client, headers, prod["id"], **batch)


async def test_events_use_cbv_names_and_default_dispositions(client: f.Client, make_user: Any) -> None:
    headers, lot = await started(client, make_user)
    shipped = await f.event(
        client, headers, lot["id"], biz_step="shipping", quantity="100", unit="kg", destination="Chợ Đồng Xuân"
    )
    assert shipped["disposition"] == "in_transit"
    assert shipped["seq"] == 2
    assert shipped["details"]["destination"] == "Chợ Đồng Xuân"
    custom = await f.event(client, headers, lot["id"], biz_step="https://trace.example.vn/steps/withering")
    assert custom["biz_step"] == "https://trace.example.vn/steps/withering"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"biz_step": "harvesting"}, 422, "invalid_biz_step"),
        ({"biz_step": "urn:epcglobal:cbv:bizstep:shipping"}, 422, "invalid_biz_step"),
        ({"biz_step": "packing", "disposition": "lost_somewhere"}, 422, "invalid_disposition"),
        ({"biz_step": "commissioning"}, 409, "already_commissioned"),
        ({"biz_step": "inspecting"}, 422, "use_inspections"),
        ({"biz_step": "holding", "disposition": "recalled"}, 422, "use_recall"),
        ({"biz_step": "shipping", "quantity": "500", "unit": "kg"}, 422, "quantity_exceeds_available"),
        ({"biz_step": "shipping", "quantity": "0", "unit": "kg"}, 422, "invalid_quantity"),
        ({"biz_step": "shipping", "quantity": "5", "unit": "tấn"}, 422, "unit_mismatch"),
        ({"biz_step": "shipping", "quantity": "5"}, 422, "incomplete_quantity"),
        ({"biz_step": "receiving"}, 422, "receiving_before_shipping"),
        ({"biz_step": "shipping", "event_time": "2025-01-01T08:00:00+07:00"}, 422, "event_before_commissioning"),
        ({"biz_step": "packing", "notes": "n" * 2001}, 400, "validation_failed"),
    ],
)
async def test_impossible_events_are_refused_and_not_stored(
    client: f.Client, db: asyncpg.Connection, make_user: Any, body: dict[str, Any], status: int, code: str
) -> None:
    headers, lot = await started(client, make_user, event_time="2025-06-01T07:30:00+07:00")
    response = await client.post(f"/api/v1/batches/{lot['id']}/events", json=body, headers=headers)
    f.assert_problem(response, status, code)
    assert await db.fetchval("select count(*) from events") == 1
    assert await db.fetchval("select last_seq from batches") == 1


async def test_strangers_and_inspectors_cannot_append(client: f.Client, make_user: Any) -> None:
    _, lot = await started(client, make_user)
    stranger, _ = await f.farm(client, make_user)
    response = await client.post(f"/api/v1/batches/{lot['id']}/events", json={"biz_step": "packing"}, headers=stranger)
    f.assert_problem(response, 404, "batch_not_found")
    inspector = await make_user("inspector")
    response = await client.post(f"/api/v1/batches/{lot['id']}/events", json={"biz_step": "packing"}, headers=inspector)
    f.assert_problem(response, 403)


async def test_cooperative_manages_member_farm_batches(client: f.Client, make_user: Any) -> None:
    coop_headers, coop = await f.farm(client, make_user, role="cooperative")
    member = await f.organization(client, coop_headers, name="Hộ ông Nguyễn Văn A", parent_id=coop["id"])
    prod = await f.product(client, coop_headers, organization_id=member["id"])
    lot = await f.batch(client, coop_headers, prod["id"])
    assert lot["organization_id"] == member["id"]
    await f.event(client, coop_headers, lot["id"], biz_step="packing")


async def test_the_database_refuses_update_and_delete_of_events(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    await started(client, make_user)
    with pytest.raises(asyncpg.RestrictViolationError):
        await db.execute("update events set biz_step = 'shipping'")
    with pytest.raises(asyncpg.RestrictViolationError):
        await db.execute("delete from events")
    with pytest.raises(asyncpg.RestrictViolationError):
        await db.execute("truncate events cascade")


async def test_twenty_concurrent_appends_make_one_unbroken_chain(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers, lot = await started(client, make_user)
    steps = ["storing", "packing", "sampling", "stocking"] * 5
    responses = await asyncio.gather(
        *(client.post(f"/api/v1/batches/{lot['id']}/events", json={"biz_step": s}, headers=headers) for s in steps)
    )
    assert [r.status_code for r in responses] == [201] * 20
    seqs = sorted(r.json()["seq"] for r in responses)
    assert seqs == list(range(2, 22))
    forks = await db.fetchval("select count(*) - count(distinct prev_hash) from events where batch_id = $1", lot["id"])
    assert forks == 0
    report = (await client.get(f"/api/v1/batches/{lot['id']}/verify", headers=headers)).json()
    assert report["valid"] is True
    assert report["events"] == 21


async def test_verify_reports_the_first_tampered_event(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers, lot = await started(client, make_user)
    for step in ("packing", "storing", "shipping"):
        await f.event(client, headers, lot["id"], biz_step=step)
    assert (await client.get(f"/api/v1/batches/{lot['id']}/verify", headers=headers)).json()["valid"] is True
    # a superuser goes behind the trigger's back
    await db.execute("alter table events disable trigger events_append_only")
    await db.execute(
        "update events set details = $2::jsonb where batch_id = $1 and seq = 3",
        lot["id"],
        json.dumps({"notes": "đã sửa"}),
    )
    await db.execute("alter table events enable trigger events_append_only")
    report = (await client.get(f"/api/v1/batches/{lot['id']}/verify", headers=headers)).json()
    assert report["valid"] is False
    assert report["first_broken_seq"] == 3
    assert "content" in report["reason"]


async def test_verify_notices_a_deleted_last_event(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    headers, lot = await started(client, make_user)
    await f.event(client, headers, lot["id"], biz_step="packing")
    await db.execute("alter table events disable trigger events_append_only")
    await db.execute("delete from events where batch_id = $1 and seq = 2", lot["id"])
    await db.execute("alter table events enable trigger events_append_only")
    report = (await client.get(f"/api/v1/batches/{lot['id']}/verify", headers=headers)).json()
    assert report["valid"] is False


async def test_recall_freezes_the_batch_except_inspecting_and_destroying(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers, lot = await started(client, make_user)
    inspector = await make_user("inspector")
    farmer_try = await client.post(f"/api/v1/batches/{lot['id']}/recall", json={"reason": "dư lượng"}, headers=headers)
    f.assert_problem(farmer_try, 403)
    recall = await client.post(
        f"/api/v1/batches/{lot['id']}/recall", json={"reason": "Dư lượng thuốc BVTV vượt ngưỡng"}, headers=inspector
    )
    assert recall.status_code == 201, recall.text
    assert recall.json()["disposition"] == "recalled"
    row = await db.fetchrow("select status, recall_reason, recalled_at from batches where id = $1", lot["id"])
    assert row is not None
    assert row["status"] == "recalled"
    assert row["recall_reason"] == "Dư lượng thuốc BVTV vượt ngưỡng"
    blocked = await client.post(f"/api/v1/batches/{lot['id']}/events", json={"biz_step": "shipping"}, headers=headers)
    f.assert_problem(blocked, 409, "batch_recalled")
    again = await client.post(f"/api/v1/batches/{lot['id']}/recall", json={"reason": "lần nữa"}, headers=inspector)
    f.assert_problem(again, 409, "batch_recalled")
    await f.event(client, headers, lot["id"], biz_step="destroying")
    inspected = await client.post(
        f"/api/v1/batches/{lot['id']}/inspections", json={"result": "non_conformant"}, headers=inspector
    )
    assert inspected.status_code == 201


async def test_inspection_results_and_the_phi_rule(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    area = await f.plot(client, headers)
    await client.post(
        f"/api/v1/plots/{area['id']}/inputs",
        json={"applied_on": "2025-05-30", "product_name": "Thuốc trừ sâu", "phi_days": 10},
        headers=headers,
    )
    flagged = await f.batch(client, headers, prod["id"], plot_id=area["id"], harvest_date="2025-06-01")
    clean = await f.batch(client, headers, prod["id"])
    inspector = await make_user("inspector")
    refused = await client.post(
        f"/api/v1/batches/{flagged['id']}/inspections", json={"result": "conformant"}, headers=inspector
    )
    f.assert_problem(refused, 422, "phi_violation")
    ok = await client.post(
        f"/api/v1/batches/{clean['id']}/inspections",
        json={"result": "conformant", "notes": "Mẫu đạt QCVN 8-2:2011/BYT"},
        headers=inspector,
    )
    assert ok.status_code == 201
    assert ok.json()["biz_step"] == "inspecting"
    assert ok.json()["disposition"] == "conformant"
    f.assert_problem(
        await client.post(f"/api/v1/batches/{clean['id']}/inspections", json={"result": "conformant"}, headers=headers),
        403,
    )


async def test_transformation_rules(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    fresh = await f.product(client, headers)
    dried = await f.product(client, headers, names={"vi": "Chè khô"})
    leaves = await f.batch(client, headers, fresh["id"], quantity="100")
    stranger, _ = await f.farm(client, make_user)
    other_lot = await f.batch(client, stranger, (await f.product(client, stranger))["id"])

    async def transform(inputs: list[dict[str, Any]]) -> Any:
        body = {"inputs": inputs, "output": {"product_id": dried["id"], "quantity": "20", "unit": "kg"}}
        return await client.post("/api/v1/transformations", json=body, headers=headers)

    f.assert_problem(
        await transform([{"batch_id": leaves["id"], "quantity": "101", "unit": "kg"}]),
        422,
        "quantity_exceeds_available",
    )
    f.assert_problem(
        await transform([{"batch_id": other_lot["id"], "quantity": "1", "unit": "kg"}]), 404, "batch_not_found"
    )
    f.assert_problem(
        await transform([{"batch_id": leaves["id"], "quantity": "-1", "unit": "kg"}]), 422, "invalid_quantity"
    )
    assert await db.fetchval("select count(*) from batches") == 2
    ok = await transform([{"batch_id": leaves["id"], "quantity": "80", "unit": "kg"}])
    assert ok.status_code == 201, ok.text
    event = ok.json()["event"]
    assert event["event_type"] == "TransformationEvent"
    assert event["inputs"] == [{"batch_id": leaves["id"], "quantity": "80", "unit": "kg"}]
    f.assert_problem(
        await transform([{"batch_id": leaves["id"], "quantity": "30", "unit": "kg"}]), 422, "quantity_exceeds_available"
    )


async def test_event_time_defaults_to_now_in_plus_seven(client: f.Client, make_user: Any) -> None:
    headers, lot = await started(client, make_user)
    made = await f.event(client, headers, lot["id"], biz_step="packing")
    when = datetime.fromisoformat(made["event_time"])
    assert abs(when - datetime.now(UTC)) < timedelta(minutes=1)
