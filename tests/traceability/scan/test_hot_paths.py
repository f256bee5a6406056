"""The shopper's hot paths answer from per-worker caches; recalls and edits still show on the next scan."""

import asyncio
from typing import Any
from urllib.parse import quote

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.traceability.scan.caches import TraceCaches
from tests.support.app import feed_noticed_cut, feed_up, flush
from tests.support.factories import GTIN, scan_count


async def test_warm_pages_are_served_from_the_cache(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    await feed_up(app)
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
    await feed_up(app)
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
    await feed_up(app)
    url = f"/trace/{batch['code']}"
    assert 'id="recall"' not in (await client.get(url)).text  # warm
    # the listener's connection dies (a failover, a network cut): notifications sent now are lost
    await db.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity "
        "where datname = current_database() and pid <> pg_backend_pid() and query like 'LISTEN%'"
    )
    # a change committed before the app can know of the cut is, to the app, one made before it: wait until it knows
    await feed_noticed_cut(app)
    await db.execute(
        "update batches set status = 'recalled', recall_reason = 'Kiểm tra lại', recalled_at = now() where id = $1",
        batch["id"],
    )
    assert 'id="recall"' in (await client.get(url)).text


def _without_request_id(headers: Any) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in headers.multi_items() if k != "x-request-id")


async def test_warm_answers_are_replayed_as_first_sent_and_every_scan_still_counts(
    app: Litestar, client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    await feed_up(app)
    resolver = f"/01/{GTIN}/10/{quote(batch['lot'], safe='')}"
    first, *again = [await client.get(resolver, follow_redirects=False) for _ in range(3)]
    assert first.status_code == 307
    for later in again:  # the encoded answer is replayed: same status, headers and body
        assert (later.status_code, _without_request_id(later.headers), later.content) == (
            first.status_code,
            _without_request_id(first.headers),
            first.content,
        )
        assert later.headers["x-request-id"] != first.headers["x-request-id"]
    await flush(app)
    assert await scan_count(db) == 3, "a replayed answer must still record its scan"

    page = f"/trace/{batch['code']}"
    for accept in ("text/html", "application/json"):
        one, two = [await client.get(page, headers={"Accept": accept}) for _ in range(2)]
        assert one.content == two.content and one.headers["etag"] == two.headers["etag"]
        revalidated = await client.get(page, headers={"Accept": accept, "If-None-Match": one.headers["etag"]})
        assert revalidated.status_code == 304 and revalidated.headers["etag"] == one.headers["etag"]
        assert revalidated.content == b""
    english = await client.get(page + "?lang=en")
    assert english.headers["content-language"] == "en" and 'lang="en"' in english.text


async def test_a_recall_drops_the_replayed_resolver_answer_and_page(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any], make_user: Any
) -> None:
    await feed_up(app)
    resolver = f"/01/{GTIN}/10/{quote(batch['lot'], safe='')}"
    page = f"/trace/{batch['code']}"
    before = await client.get(page, headers={"Accept": "application/json"})
    assert (await client.get(resolver, follow_redirects=False)).status_code == 307
    caches: TraceCaches = app.state.trace_caches
    assert len(caches.answers) == 1
    inspector = await make_user("inspector")
    recalled = await client.post(
        f"/api/v1/batches/{batch['id']}/recall", json={"reason": "Dư lượng thuốc vượt ngưỡng"}, headers=inspector
    )
    assert recalled.status_code in (200, 201), recalled.text
    assert len(caches.answers) == 0
    after = await client.get(page, headers={"Accept": "application/json"})
    assert after.json()["status"] == "recalled" and after.headers["etag"] != before.headers["etag"]
    stale = await client.get(page, headers={"Accept": "application/json", "If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200, "an ETag from before the recall must not get a 304"


async def test_product_pages_are_kept_per_worker_and_dropped_by_product_changes(
    app: Litestar, client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    await feed_up(app)
    caches: TraceCaches = app.state.trace_caches
    first = await client.get(f"/p/{GTIN}", headers={"Accept": "application/json"})
    assert first.status_code == 200 and caches.products.get(GTIN) is not None
    again = await client.get(
        f"/p/{GTIN}", headers={"Accept": "application/json", "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304, "a product page's ETag now holds while the page is unchanged"
    await db.execute('update products set names = names || \'{"vi": "Chè mới"}\'::jsonb where gtin14 = $1', GTIN)
    for _ in range(100):  # the notification reaches the worker
        if caches.products.get(GTIN) is None:
            break
        await asyncio.sleep(0.02)
    changed = await client.get(f"/p/{GTIN}", headers={"Accept": "application/json"})
    assert changed.json()["product_names"]["vi"] == "Chè mới"
