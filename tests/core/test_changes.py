"""Change notifications reach every listening process, and caches stop trusting themselves when they cannot."""

import asyncio
import time
from collections.abc import Callable

import asyncpg
import pytest

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


class Unreachable(asyncpg.PostgresConnectionError):
    """What loading raises while the database is away (asyncpg's connection errors)."""


async def _page() -> str:
    return "page as loaded"


async def _away() -> str:
    raise Unreachable("connection refused")


async def _kill_listener(db: asyncpg.Connection) -> None:
    await db.execute(
        "select pg_terminate_backend(pid) from pg_stat_activity "
        "where datname = current_database() and pid <> pg_backend_pid() and query like 'LISTEN%'"
    )


async def test_stale_answers_only_while_the_database_is_away_and_never_after_a_reconnect(
    database_url: str, db: asyncpg.Connection
) -> None:
    feed = ChangeFeed(database_url, retry_seconds=0.05)
    # ttl 0: the fresh copy is never used, so every call loads (as after the fresh entry expired)
    cache: InvalidatedCache[str, str] = InvalidatedCache(feed, ttl_seconds=0, stale_seconds=600)
    feed.start()

    async def broken() -> str:
        raise ValueError("a bug, not an outage")

    try:
        async with asyncio.timeout(5):
            assert await feed.wait_healthy()
        assert await cache.get_or_stale("k", _page) == ("page as loaded", None)
        # the database goes away: the last value is answered, saying when it was loaded
        stale, as_of = await cache.get_or_stale("k", _away)
        assert stale == "page as loaded" and as_of is not None and abs(time.time() - as_of) < 5
        with pytest.raises(ValueError):
            await cache.get_or_stale("k", broken)  # other errors are not hidden
        with pytest.raises(Unreachable):
            await cache.get_or_stale("never-loaded", _away)
        # a notification naming the key drops its stale copy too (a recall seen before the outage)
        cache.evict("k")
        with pytest.raises(Unreachable):
            await cache.get_or_stale("k", _away)
        # reload, then the listener reconnects (notifications may have been missed): no stale copy survives,
        # even in a cache that does not subscribe to the feed
        await cache.get_or_stale("k", _page)
        before = feed.generation
        await _kill_listener(db)
        assert await _wait_for(lambda: feed.generation > before and feed.healthy)
        with pytest.raises(Unreachable):
            await cache.get_or_stale("k", _away)
    finally:
        await feed.stop()


async def test_stale_answers_end_when_the_outage_outlasts_the_bound(database_url: str, db: asyncpg.Connection) -> None:
    feed = ChangeFeed(database_url, retry_seconds=0.05)
    cache: InvalidatedCache[str, str] = InvalidatedCache(feed, ttl_seconds=0, stale_seconds=0.3)
    feed.start()
    try:
        async with asyncio.timeout(5):
            assert await feed.wait_healthy()
        await cache.get_or_stale("k", _page)
        feed.dsn = "postgresql://tt@127.0.0.1:1/nowhere"  # the listener cannot come back
        await _kill_listener(db)
        assert (await cache.get_or_stale("k", _away))[0] == "page as loaded"
        assert await _wait_for(lambda: feed.down_for() > 0.3)
        with pytest.raises(Unreachable):
            await cache.get_or_stale("k", _away)
    finally:
        await feed.stop()


def test_a_listener_leaving_while_a_change_is_handed_out_skips_no_one() -> None:
    feed = ChangeFeed("postgresql://unused")
    seen: list[str] = []

    def leaving(table: str, key: str) -> None:
        feed.unsubscribe(leaving)

    feed.subscribe(leaving)
    feed.subscribe(lambda table, key: seen.append(key))
    feed.publish_local("products", "1")
    feed.publish_local("products", "2")
    assert seen == ["1", "2"]
