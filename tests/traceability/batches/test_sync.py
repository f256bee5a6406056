"""Offline sync: each queued operation applied whole or not at all; replaying is harmless."""

import asyncio
import uuid
from typing import Any

import asyncpg

from tests.support import factories as f
from tests.support.app import concurrently, until_waiting_on_locks


async def test_sync_applies_each_operation_whole_and_replay_is_harmless(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    area = await f.plot(client, headers)
    batch_id = str(uuid.uuid4())
    queue = {
        "operations": [
            {
                "client_id": "op-1",
                "op": "create_batch",
                "batch": {"id": batch_id, "product_id": prod["id"], "quantity": 40, "unit": "kg"},
            },
            {"client_id": "op-2", "op": "append_event", "batch_id": batch_id, "event": {"biz_step": "packing"}},
            {
                "client_id": "op-3",
                "op": "append_event",
                "batch_id": batch_id,
                "event": {"biz_step": "shipping", "quantity": 99, "unit": "kg"},
            },
            {
                "client_id": "op-4",
                "op": "create_input",
                "plot_id": area["id"],
                "input": {"applied_on": "2025-05-01", "product_name": "Phân hữu cơ"},
            },
            {
                "client_id": "op-5",
                "op": "append_event",
                "batch_id": str(uuid.uuid4()),
                "event": {"biz_step": "packing"},
            },
        ]
    }
    first = await client.post("/api/v1/sync", json=queue, headers=headers)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 422, 201, 404]
    assert results[2]["error"]["code"] == "quantity_exceeds_available"
    assert results[0]["resource_id"] == batch_id
    state = await db.fetchrow(
        "select (select count(*) from batches) b, (select count(*) from events) e, (select count(*) from plot_inputs) i"
    )
    assert tuple(state) == (1, 2, 1)
    again = (await client.post("/api/v1/sync", json=queue, headers=headers)).json()["results"]
    assert [r["status"] for r in again] == [200, 200, 422, 200, 404]
    assert all(r["replayed"] for r in again if r["status"] == 200)
    assert again[1]["result"]["id"] == results[1]["result"]["id"]
    assert tuple(
        await db.fetchrow(
            "select (select count(*) from batches), (select count(*) from events), (select count(*) from plot_inputs)"
        )
    ) == (1, 2, 1)
    changed = {"operations": [queue["operations"][1] | {"event": {"biz_step": "storing"}}]}
    reused = (await client.post("/api/v1/sync", json=changed, headers=headers)).json()["results"][0]
    assert reused["status"] == 422
    assert reused["error"]["code"] == "idempotency_key_reused"
    f.assert_problem(
        await client.post("/api/v1/sync", json={"operations": []}, headers=headers), 400, "validation_failed"
    )
    f.assert_problem(await client.post("/api/v1/sync", json=queue, headers=await make_user("editor")), 403)


async def test_sync_carries_on_when_the_conflict_handlers_look_up_fails(
    client: f.Client, db: asyncpg.Connection, database_url: str, make_user: Any
) -> None:
    """Another device's sync stores the same client id with another body while this one runs: the look-up
    after the collision refuses the key, and that must be this operation's result, not the queue's end."""
    headers, _ = await f.farm(client, make_user)
    area = await f.plot(client, headers)
    user_id = uuid.UUID(headers["X-User-Id"])
    queue = {
        "operations": [
            {
                "client_id": "op-raced",
                "op": "create_input",
                "plot_id": area["id"],
                "input": {"applied_on": "2025-05-01", "product_name": "Phân hữu cơ"},
            },
            {
                "client_id": "op-next",
                "op": "create_input",
                "plot_id": area["id"],
                "input": {"applied_on": "2025-05-02", "product_name": "Vôi bột"},
            },
        ]
    }
    other_device = db.transaction()
    await other_device.start()
    await db.execute(
        """
        insert into idempotency_keys (user_id, key, operation, request_hash, status_code, response)
        values ($1, 'sync:op-raced', 'sync', 'another body', 201, '{}'::jsonb)
        """,
        user_id,
    )
    sync = asyncio.ensure_future(concurrently(client, [("POST", "/api/v1/sync", {"json": queue, "headers": headers})]))
    await until_waiting_on_locks(database_url, 1)  # the sync waits on the other device's uncommitted key
    await other_device.commit()
    [answer] = await sync
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [422, 201]
    assert results[0]["error"]["code"] == "idempotency_key_reused"
    assert await db.fetchval("select count(*) from plot_inputs") == 1
