"""The whole path a cooperative walks: organization, product, plot, batch, events, transformation."""

from typing import Any

import asyncpg

from tests.support import factories as f


async def test_harvest_to_shop(client: f.Client, db: asyncpg.Connection, make_user: Any) -> None:
    headers, _org = await f.farm(client, make_user)
    prod = await f.product(client, headers, gtin="8930000000019")
    assert prod["gtin14"] == "08930000000019"
    area = await f.plot(client, headers)
    leaves = await f.batch(client, headers, prod["id"], plot_id=area["id"])
    assert leaves["status"] == "active"
    assert len(leaves["code"]) == 13
    await f.event(client, headers, leaves["id"], biz_step="packing")
    dried_prod = await f.product(client, headers, names={"vi": "Chè khô"})
    response = await client.post(
        "/api/v1/transformations",
        json={
            "inputs": [{"batch_id": leaves["id"], "quantity": "100", "unit": "kg"}],
            "output": {"product_id": dried_prod["id"], "quantity": "20", "unit": "kg"},
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    dried = response.json()["output"]
    for step in ("packing", "storing", "shipping", "receiving", "retail_selling"):
        await f.event(client, headers, dried["id"], biz_step=step)
    events = (await client.get(f"/api/v1/batches/{dried['id']}/events", headers=headers)).json()
    assert next(e["biz_step"] for e in events) == "commissioning"
    assert events[0]["event_type"] == "TransformationEvent"
    verify = (await client.get(f"/api/v1/batches/{dried['id']}/verify", headers=headers)).json()
    assert verify["valid"] is True
    assert verify["events"] == 6
    left = await db.fetchval("select quantity_available from batches where id = $1", leaves["id"])
    assert str(left) == "20.5"
    doc = await client.get(f"/api/v1/batches/{leaves['id']}/epcis", headers=headers)
    assert doc.status_code == 200, doc.text
    assert doc.headers["content-type"].startswith("application/ld+json")
    assert len(doc.json()["epcisBody"]["eventList"]) == 2 + 6  # leaves: commissioning + packing; dried tea: 6
