"""Offline sync, open data CSV, and the public read functions other parts build on."""

import csv
import io
import uuid
from typing import Any

import asyncpg

from service.core.db import init_connection
from service.traceability import public
from service.traceability.places import fold
from tests.traceability import factories as f


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


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def test_open_data_csv_keeps_vietnamese_and_no_personal_data(client: f.Client, make_user: Any) -> None:
    headers, org = await f.farm(client, make_user)
    await f.product(
        client,
        headers,
        names={"vi": "Chè đinh Tân Cương", "en": "Tân Cương needle tea"},
        ocop_stars=5,
        gtin="8930000000019",
    )
    await f.product(client, headers, names={"vi": '=HYPERLINK("x")'}, category="other")
    products = await client.get("/open-data/products.csv")
    assert products.status_code == 200
    assert products.headers["content-type"].startswith("text/csv")
    rows = read_csv(products.content)
    assert {r["name_vi"] for r in rows} == {"Chè đinh Tân Cương", '\'=HYPERLINK("x")'}
    tea = next(r for r in rows if r["gtin14"])
    assert tea["ocop_stars"] == "5"
    assert tea["commune_name"] == "Xã Tân Cương"
    producers = await client.get("/open-data/producers.csv")
    text = producers.content.decode("utf-8-sig")
    assert "+84912345678" not in text
    assert "0912" not in text
    assert "ho.che@example.vn" not in text
    [row] = read_csv(producers.content)
    assert row["producer_id"] == org["id"]
    assert row["product_count"] == "2"
    assert "phone" not in ",".join(row)
    catalog = (await client.get("/open-data/catalog.json")).json()
    ids = {d["id"]: d for d in catalog["datasets"]}
    assert ids["traceability-products"]["url"] == "https://trace.example.vn/open-data/products.csv"
    assert ids["traceability-products"]["last_updated"] is not None
    assert ids["traceability-producers"]["licence"] == "CC-BY-4.0"


async def test_public_batch_view_near_and_search(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    headers, org = await f.farm(client, make_user)
    prod = await f.product(client, headers, ocop_stars=4, gtin="8930000000019")
    area = await f.plot(client, headers)
    await client.post(
        f"/api/v1/organizations/{org['id']}/certifications",
        json={"kind": "vietgap", "issuer": "Sở NN&PTNT", "number": "VG-1", "valid_from": "2024-01-01"},
        headers=headers,
    )
    await client.post(
        f"/api/v1/organizations/{org['id']}/certifications",
        json={
            "kind": "organic",
            "issuer": "X",
            "number": "EXPIRED",
            "valid_from": "2020-01-01",
            "valid_to": "2021-01-01",
        },
        headers=headers,
    )
    lot = await f.batch(client, headers, prod["id"], plot_id=area["id"], lot="TC01")
    await f.event(client, headers, lot["id"], biz_step="packing")
    await init_connection(db)  # jsonb as Python values, as on the app's pooled connections
    view = await public.batch_view(db, uuid.UUID(lot["id"]), "en")
    assert view is not None
    assert view.product.name == "Tân Cương tea buds"
    assert view.producer.name == org["name"]
    assert view.plot is not None
    assert view.plot.commune_name == "Xã Tân Cương"
    assert [c.number for c in view.certifications] == ["VG-1"]
    assert [e.label for e in view.events] == ["Harvested / lot created", "Packed"]
    assert not hasattr(view.producer, "contact_phone")
    by_code = await public.batch_view_by_code(db, lot["code"])
    assert by_code is not None
    assert by_code.events[1].label == "Đóng gói"
    assert await public.batch_view_by_lot(db, "08930000000019", "TC01") is not None
    assert await public.batch_view_by_code(db, "NOPE") is None
    near = await public.producers_near(db, 21.57, 105.76, 5, "vi", 10)
    assert [p.id for p in near] == [uuid.UUID(org["id"])]
    assert near[0].products == ["Chè búp Tân Cương"]
    assert await public.producers_near(db, 22.5, 106.2, 5, "vi", 10) == []
    hits = await public.search_products(db, fold("CHE BUP"), "en", 10)
    assert [h.name for h in hits] == ["Tân Cương tea buds"]
    assert await public.search_products(db, "%", "vi", 10) == []
