"""Batch registration: idempotency, client ids, validation, access, and nothing half-written."""

import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from tests.support import factories as f


async def counts(db: asyncpg.Connection) -> tuple[int, int, int]:
    row = await db.fetchrow(
        "select (select count(*) from batches), (select count(*) from events), (select count(*) from idempotency_keys)"
    )
    assert row is not None
    return row[0], row[1], row[2]


async def test_batch_starts_with_commissioning_in_vietnam_time(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    created = await f.batch(client, headers, prod["id"], lot="TC-2025/06")
    assert created["lot"] == "TC-2025/06"
    events = (await client.get(f"/api/v1/batches/{created['id']}/events", headers=headers)).json()
    assert len(events) == 1
    assert events[0]["biz_step"] == "commissioning"
    assert events[0]["disposition"] == "active"
    assert events[0]["event_time_zone_offset"] == "+07:00"
    assert events[0]["prev_hash"] == "0" * 64


async def test_generated_lot_and_code_are_gs1_text_and_not_sequential(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    first = await f.batch(client, headers, prod["id"])
    second = await f.batch(client, headers, prod["id"])
    assert first["lot"] != second["lot"]
    assert len(first["lot"]) <= 20
    assert first["code"] != second["code"]
    assert not set(first["code"]) & set("01OIl")


async def test_same_idempotency_key_and_body_replays_the_same_batch(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    body = {"product_id": prod["id"], "quantity": 50, "unit": "kg", "harvest_date": "2025-05-20"}
    keyed = headers | {"Idempotency-Key": "phone-42-op-1"}
    first = await client.post("/api/v1/batches", json=body, headers=keyed)
    assert first.status_code == 201
    again = await client.post("/api/v1/batches", json=body, headers=keyed)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert await counts(db) == (1, 1, 1)


async def test_same_key_with_another_body_is_refused(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    keyed = headers | {"Idempotency-Key": "k-1"}
    body = {"product_id": prod["id"], "quantity": 50, "unit": "kg"}
    assert (await client.post("/api/v1/batches", json=body, headers=keyed)).status_code == 201
    other = await client.post("/api/v1/batches", json=body | {"quantity": 51}, headers=keyed)
    f.assert_problem(other, 422, "idempotency_key_reused")
    assert await counts(db) == (1, 1, 1)


async def test_keys_belong_to_their_user(client: f.Client, make_user: Any) -> None:
    a, _ = await f.farm(client, make_user)
    b, _ = await f.farm(client, make_user)
    pa = await f.product(client, a)
    pb = await f.product(client, b)
    ra = await client.post(
        "/api/v1/batches",
        json={"product_id": pa["id"], "quantity": 1, "unit": "kg"},
        headers=a | {"Idempotency-Key": "same"},
    )
    rb = await client.post(
        "/api/v1/batches",
        json={"product_id": pb["id"], "quantity": 1, "unit": "kg"},
        headers=b | {"Idempotency-Key": "same"},
    )
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]


async def test_client_generated_id_is_kept_and_reuse_is_a_conflict(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    batch_id = str(uuid.uuid4())
    created = await f.batch(client, headers, prod["id"], id=batch_id)
    assert created["id"] == batch_id
    again = await client.post(
        "/api/v1/batches", json={"id": batch_id, "product_id": prod["id"], "quantity": 1, "unit": "kg"}, headers=headers
    )
    f.assert_problem(again, 409, "batch_exists")


async def test_duplicate_lot_for_a_product_is_a_conflict(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    await f.batch(client, headers, prod["id"], lot="LOT-1")
    again = await client.post(
        "/api/v1/batches", json={"product_id": prod["id"], "quantity": 1, "unit": "kg", "lot": "LOT-1"}, headers=headers
    )
    f.assert_problem(again, 409, "lot_taken")


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"quantity": 0}, 422, "invalid_quantity"),
        ({"quantity": -3}, 422, "invalid_quantity"),
        ({"quantity": "NaN"}, 422, "invalid_quantity"),
        ({"harvest_date": (date.today() + timedelta(days=3)).isoformat()}, 422, "harvest_in_future"),
        ({"harvest_date": "2025-06-02", "harvest_end": "2025-06-01"}, 422, "invalid_harvest_range"),
        ({"lot": "lô số 1"}, 422, "invalid_lot"),
        ({"lot": "A" * 21}, 400, "validation_failed"),
        ({"notes": "x" * 2001}, 400, "validation_failed"),
        ({"unit": "kilogram-per-bag-size"}, 400, "validation_failed"),
        ({"colour": "green"}, 400, "validation_failed"),
        ({"event_time": "2099-01-01T00:00:00+07:00"}, 422, "event_in_future"),
        ({"product_id": str(uuid.uuid4())}, 404, "product_not_found"),
        ({"plot_id": str(uuid.uuid4())}, 404, "plot_not_found"),
    ],
)
async def test_bad_batch_input_is_a_problem_and_writes_nothing(
    client: f.Client, db: asyncpg.Connection, make_user: Any, change: dict[str, Any], status: int, code: str
) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    body = {"product_id": prod["id"], "quantity": 5, "unit": "kg"} | change
    response = await client.post("/api/v1/batches", json=body, headers=headers | {"Idempotency-Key": "k"})
    f.assert_problem(response, status, code)
    assert await counts(db) == (0, 0, 0)


async def test_another_organizations_product_or_plot_is_not_found(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    mine, _ = await f.farm(client, make_user)
    theirs, _ = await f.farm(client, make_user)
    their_product = await f.product(client, theirs)
    their_plot = await f.plot(client, theirs)
    my_product = await f.product(client, mine)
    r1 = await client.post(
        "/api/v1/batches", json={"product_id": their_product["id"], "quantity": 1, "unit": "kg"}, headers=mine
    )
    body = f.assert_problem(r1, 404, "product_not_found")
    assert "Chè" not in body["detail"]
    r2 = await client.post(
        "/api/v1/batches",
        json={"product_id": my_product["id"], "plot_id": their_plot["id"], "quantity": 1, "unit": "kg"},
        headers=mine,
    )
    f.assert_problem(r2, 404, "plot_not_found")
    assert await counts(db) == (0, 0, 0)


@pytest.mark.parametrize("role", ["inspector", "editor"])
async def test_roles_that_do_not_farm_cannot_register_batches(client: f.Client, make_user: Any, role: str) -> None:
    farmer, _ = await f.farm(client, make_user)
    prod = await f.product(client, farmer)
    other = await make_user(role)
    response = await client.post(
        "/api/v1/batches", json={"product_id": prod["id"], "quantity": 1, "unit": "kg"}, headers=other
    )
    f.assert_problem(response, 403, "forbidden")


async def test_batches_of_others_are_invisible_but_inspectors_see_them(client: f.Client, make_user: Any) -> None:
    owner, _ = await f.farm(client, make_user)
    stranger, _ = await f.farm(client, make_user)
    inspector = await make_user("inspector")
    created = await f.batch(client, owner, (await f.product(client, owner))["id"])
    for path in ("", "/events", "/verify", "/epcis"):
        f.assert_problem(
            await client.get(f"/api/v1/batches/{created['id']}{path}", headers=stranger), 404, "batch_not_found"
        )
        assert (await client.get(f"/api/v1/batches/{created['id']}{path}", headers=inspector)).status_code == 200
    assert (await client.get("/api/v1/batches", headers=stranger)).json() == []
    assert len((await client.get("/api/v1/batches", headers=inspector)).json()) == 1
    f.assert_problem(await client.get(f"/api/v1/batches/{uuid.uuid4()}", headers=owner), 404, "batch_not_found")


async def test_expiry_follows_shelf_life(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers, shelf_life_days=10)
    created = await f.batch(client, headers, prod["id"], harvest_date="2025-06-01")
    assert created["expiry_date"] == "2025-06-11"


async def test_harvest_inside_a_pre_harvest_interval_is_flagged(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    area = await f.plot(client, headers)
    response = await client.post(
        f"/api/v1/plots/{area['id']}/inputs",
        json={
            "applied_on": "2025-05-28",
            "product_name": "Regent 800WG",
            "active_ingredient": "fipronil",
            "phi_days": 7,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    inside = await f.batch(client, headers, prod["id"], plot_id=area["id"], harvest_date="2025-06-01")
    after = await f.batch(client, headers, prod["id"], plot_id=area["id"], harvest_date="2025-06-04")
    assert inside["phi_violation"] is True
    assert after["phi_violation"] is False


async def test_a_late_logged_application_flags_batches_already_registered(client: f.Client, make_user: Any) -> None:
    headers, _ = await f.farm(client, make_user)
    prod = await f.product(client, headers)
    area = await f.plot(client, headers)
    created = await f.batch(client, headers, prod["id"], plot_id=area["id"], harvest_date="2025-06-01")
    assert created["phi_violation"] is False
    await client.post(
        f"/api/v1/plots/{area['id']}/inputs",
        json={"applied_on": "2025-05-30", "product_name": "Thuốc trừ sâu", "phi_days": 14},
        headers=headers,
    )
    again = (await client.get(f"/api/v1/batches/{created['id']}", headers=headers)).json()
    assert again["phi_violation"] is True
