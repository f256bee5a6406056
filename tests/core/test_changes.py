"""Change notifications reach every listening process, and caches stop trusting themselves when they cannot."""

import asyncio
from collections.abc import Callable

import asyncpg

from service.core.cache import InvalidatedCache
from service.core.changes import ChangeFeed


async def _wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Poll a condition that another task makes true (notifications arrive asynchronously)."""
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


async def test_committed_changes_are_delivered_and_rolled_back_ones_are_not(
    database_url: str, db: asyncpg.Connection
) -> None:
    await db.execute("create table gadgets (id int primary key, name text)")
    await db.execute(
        "create trigger gadgets_changed after insert or update or delete on gadgets "
        "for each row execute function notify_change('id')"
    )
    feed = ChangeFeed(database_url)
    seen: list[tuple[str, str]] = []
    feed.subscribe(lambda table, key: seen.append((table, key)))
    feed.start()
    try:
        async with asyncio.timeout(5):
            assert await feed.wait_healthy()
        await db.execute("insert into gadgets values (1, 'a')")
        try:
            async with db.transaction():
                await db.execute("insert into gadgets values (2, 'b')")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        await db.execute("delete from gadgets where id = 1")
        assert await _wait_for(lambda: seen.count(("gadgets", "1")) == 2)
        assert ("gadgets", "2") not in seen
    finally:
        await feed.stop()


async def test_cache_distrusts_itself_while_the_listener_is_down(database_url: str, db: asyncpg.Connection) -> None:
    feed = ChangeFeed(database_url, retry_seconds=0.05)
    cache: InvalidatedCache[str, str] = InvalidatedCache(feed)
    feed.start()
    try:
        async with asyncio.timeout(5):
            assert await feed.wait_healthy()
        cache.put("k", "v", cache.token())
        assert cache.get("k") == "v"
        before = feed.generation
        await db.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid() and query like 'LISTEN%'"
        )
        assert await _wait_for(lambda: feed.generation > before and feed.healthy)
        assert cache.get("k") is None, "a value cached before the reconnect may have missed an eviction"
    finally:
        await feed.stop()


async def test_a_fill_that_raced_an_eviction_is_not_stored(database_url: str) -> None:
    feed = ChangeFeed(database_url)
    cache: InvalidatedCache[str, str] = InvalidatedCache(feed)
    feed.start()
    try:
        async with asyncio.timeout(5):
            assert await feed.wait_healthy()
        token = cache.token()
        cache.evict("page")  # a recall lands while the old page is being loaded
        cache.put("page", "stale", token)
        assert cache.get("page") is None
        cache.put("page", "fresh", cache.token())
        assert cache.get("page") == "fresh"
    finally:
        await feed.stop()
