"""The shopper's hot paths answer from per-worker caches; recalls and edits still show on the next scan."""

import asyncio
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.core.changes import ChangeFeed
from service.traceability.scan.caches import TraceCaches
from tests.support.factories import GTIN, stored_batch, stored_organization


@pytest.fixture
async def batch(db: Any) -> dict[str, Any]:
    return await stored_batch(db, await stored_organization(db))


async def _feed_up(app: Litestar) -> ChangeFeed:
    feed: ChangeFeed = app.state.change_feed
    async with asyncio.timeout(5):
        await feed.wait_healthy()
    return feed


async def test_warm_pages_are_served_from_the_cache(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    await _feed_up(app)
    caches: TraceCaches = app.state.trace_caches
    url = f"/trace/{batch['code']}"
    assert (await client.get(url)).status_code == 200
    assert caches.pages.get(batch["code"]) is not None
    lot = quote(batch["lot"], safe="")
    resolved = await client.get(f"/01/{GTIN}/10/{lot}", follow_redirects=False)
    assert resolved.status_code == 307
    assert caches.targets.get(f"https://trace.example.vn/01/{GTIN}/10/{lot}") is not None


async def test_a_recall_through_the_api_shows_on_the_very_next_scan(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any], make_user: Any
) -> None:
    await _feed_up(app)
    url = f"/trace/{batch['code']}"
    assert 'id="recall"' not in (await client.get(url)).text  # warm
    inspector = await make_user("inspector")
    recalled = await client.post(
        f"/api/v1/batches/{batch['id']}/recall", json={"reason": "Dư lượng thuốc vượt ngưỡng"}, headers=inspector
    )
    assert recalled.status_code in (200, 201), recalled.text
    page = (await client.get(url)).text
    assert 'id="recall"' in page, "the next scan after the recall answer must show the banner"
    data = (await client.get(url, headers={"Accept": "application/json"})).json()
    assert data["status"] == "recalled"


async def test_a_change_while_the_listener_is_cut_off_is_not_missed(
    app: Litestar, client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    await _feed_up(app)
    url = f"/trace/{batch['code']}"
    assert 'id="recall"' not in (await client.get(url)).text  # warm
    # the listener's connection dies (a failover, a network cut): notifications sent now are lost
    await db.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity "
        "where datname = current_database() and pid <> pg_backend_pid() and query like 'LISTEN%'"
    )
    await db.execute(
        "update batches set status = 'recalled', recall_reason = 'Kiểm tra lại', recalled_at = now() where id = $1",
        batch["id"],
    )
    assert 'id="recall"' in (await client.get(url)).text
