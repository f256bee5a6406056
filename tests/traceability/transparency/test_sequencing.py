"""Chain heads are queued with the write and logged in groups (migration 0280): dense, in order, never lost."""

import uuid
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec
import pytest

from service.auth.schemas import CurrentUser
from service.core.db import init_connection
from service.jobs import JobContext
from service.settings import Settings
from service.traceability import jobs
from service.traceability.batches.schemas import BatchCreate
from service.traceability.batches.service import create_batch
from tests.support import factories as f
from tests.support.app import concurrently


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A checkpoint for every request that sees growth."""
    return msgspec.structs.replace(settings, log_checkpoint_max_age_seconds=0)


async def test_concurrent_registrations_are_all_logged_before_they_answer_densely_and_in_chain_order(
    client: f.Client, db: asyncpg.Connection, make_user: Any
) -> None:
    headers, _ = await f.farm(client, make_user)
    product = (await f.product(client, headers))["id"]
    body = {"product_id": product, "quantity": "10", "unit": "kg", "harvest_date": "2025-06-01"}
    answers = await concurrently(client, [("POST", "/api/v1/batches", {"json": body, "headers": headers})] * 12)
    assert [a.status_code for a in answers] == [201] * 12, [a.text for a in answers]
    first = answers[0].json()["id"]
    events = [("POST", f"/api/v1/batches/{first}/events", {"json": {"biz_step": "storing"}, "headers": headers})]
    appended = await concurrently(client, events * 4)
    assert [a.status_code for a in appended] == [201] * 4, [a.text for a in appended]

    assert await db.fetchval("select count(*) from transparency_pending") == 0
    leaves = await db.fetch("select idx, batch_id, seq from transparency_leaves order by idx")
    assert [r["idx"] for r in leaves] == list(range(16))
    assert await db.fetchval("select size from transparency_log") == 16
    assert {str(r["batch_id"]) for r in leaves if r["seq"] == 1} == {a.json()["id"] for a in answers}
    assert [r["seq"] for r in leaves if str(r["batch_id"]) == first] == [1, 2, 3, 4, 5]  # chain order


async def test_a_head_its_writer_left_queued_is_logged_by_the_next_checkpoint_and_by_the_job(
    client: f.Client, db: asyncpg.Connection, make_user: Any, settings: Settings
) -> None:
    headers, _ = await f.farm(client, make_user)
    product = uuid.UUID((await f.product(client, headers))["id"])
    farmer = CurrentUser(id=uuid.UUID(headers["X-User-Id"]), role="farmer")
    new = BatchCreate(product_id=product, quantity=Decimal("5"), unit="kg")
    await init_connection(db)  # JSON columns, as the app's pool has them

    async def stranded() -> None:
        """A registration whose writer stops right after its commit (here: its caller's transaction ends later)."""
        async with db.transaction():
            await create_batch(db, farmer, new, "https://trace.example.vn", key=None)

    await stranded()
    assert await db.fetchval("select count(*) from transparency_pending") == 1
    assert await db.fetchval("select size from transparency_log") == 0
    checkpoint = await client.get("/transparency/checkpoint")
    assert checkpoint.status_code == 200 and checkpoint.json()["tree_size"] == 1
    assert await db.fetchval("select count(*) from transparency_pending") == 0

    await stranded()
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        job = next(j for j in jobs if j.name == "traceability.log_pending_heads")
        assert await job.run(JobContext(pool, None, settings)) == 1
        assert await job.run(JobContext(pool, None, settings)) == 0
    finally:
        await pool.close()
    logged = await db.fetch("select idx, seq from transparency_leaves order by idx")
    assert [(r["idx"], r["seq"]) for r in logged] == [(0, 1), (1, 1)]
