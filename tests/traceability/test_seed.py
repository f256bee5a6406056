"""The demo seed: full histories, valid chains, a recall, clearly marked, and idempotent."""

import json
from typing import Any

import asyncpg
from jsonschema import Draft7Validator

from service.core.db import init_connection
from service.settings import Settings
from service.traceability.seed import DEMO, seed_traceability
from tests.standards import STANDARDS
from tests.support import factories as f

EPCIS_SCHEMA = json.loads((STANDARDS / "epcis" / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))


async def test_seed_builds_full_histories_once(
    client: f.Client, db: asyncpg.Connection, settings: Settings, make_user: Any
) -> None:
    await init_connection(db)
    first = await seed_traceability(db, settings)
    assert "5 batches" in first
    assert await db.fetchval("select count(*) from transparency_pending") == 0  # every head is in the log
    assert await db.fetchval("select count(*) from transparency_leaves") > 0
    tables = ("organizations", "products", "batches", "events", "certifications", "plots")

    async def sizes() -> list[int]:
        return [await db.fetchval(f"select count(*) from {t}") for t in tables]

    before = await sizes()
    assert await seed_traceability(db, settings) == "traceability demo: already seeded"
    assert await sizes() == before
    names = await db.fetch("select name from organizations")
    assert all(DEMO in r["name"] for r in names)
    dried = await db.fetchval("select b.id from batches b where b.lot = 'CD2505-DEMO'")
    steps = [
        r["biz_step"] for r in await db.fetch("select biz_step from events where batch_id = $1 order by seq", dried)
    ]
    assert steps == ["commissioning", "packing", "storing", "inspecting", "shipping", "receiving", "retail_selling"]
    assert await db.fetchval("select count(*) from batches where status = 'recalled'") == 1
    gtins = [r["gtin14"] for r in await db.fetch("select gtin14 from products where gtin14 is not null")]
    assert gtins
    assert all(g.startswith("0893") for g in gtins)
    inspector = await make_user("inspector")
    validator = Draft7Validator(EPCIS_SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    for row in await db.fetch("select id from batches"):
        report = (await client.get(f"/api/v1/batches/{row['id']}/verify", headers=inspector)).json()
        assert report["valid"] is True, report
        doc = (await client.get(f"/api/v1/batches/{row['id']}/epcis", headers=inspector)).json()
        assert not list(validator.iter_errors(doc))
