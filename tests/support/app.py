"""Waiting on what the app does in the background (its change feed connecting, its scan buffer flushing),
and sending requests that really overlap."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from litestar.testing.transport import TestClientTransport

from service.core.changes import CHANNEL, ChangeFeed
from service.traceability.scan.scans import ScanRecorder

# The `make_user` fixture (tests/conftest.py): a user of a role, signed in; returns auth headers plus ids.
UserFactory = Callable[..., Awaitable[dict[str, str]]]


async def feed_connected(app: Litestar) -> None:
    """Let the app's change feed finish connecting before a (short) test ends: stopping it mid-connect
    leaks the connection (service/core/changes.py), and its ResourceWarning fails a later test."""
    for _ in range(250):
        feed = getattr(app.state, "change_feed", None)
        if feed is None or feed.healthy:
            return
        await asyncio.sleep(0.02)


async def feed_noticed_cut(app: Litestar) -> None:
    """Wait until the app's change feed has noticed its connection was cut (the server's termination reaches its
    socket on the app's event loop a moment after `pg_terminate_backend` returns)."""
    feed: ChangeFeed = app.state.change_feed
    for _ in range(250):
        if not feed.healthy:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the change feed did not notice its connection was cut")


async def flush(app: Litestar) -> None:
    """Wait for the app's own flusher (the test client runs the app on another event loop)."""
    recorder: ScanRecorder = app.state.scan_recorder
    recorder.flush_interval = 0.02
    for _ in range(250):
        await asyncio.sleep(0.02)
        if recorder.idle:
            return
    raise AssertionError("the scan buffer was not flushed")


async def feed_up(app: Litestar) -> ChangeFeed:
    """Wait until the app's change feed listens (before it does, the per-worker caches keep nothing) and has
    heard every notification committed before this call: a fixture's own writes, heard late, would otherwise
    drop what the test has just cached. PostgreSQL delivers notifications in commit order, so once a marker
    sent now comes back, the earlier ones have been handled."""
    feed: ChangeFeed = app.state.change_feed
    marker = f"test-marker:{uuid.uuid4()}"
    here = asyncio.get_running_loop()
    heard = asyncio.Event()

    def listen(table: str, key: str) -> None:  # on the app's event loop (the test client's thread)
        if f"{table}:{key}" == marker:
            here.call_soon_threadsafe(heard.set)

    async with asyncio.timeout(5):
        await feed.wait_healthy()
        feed.subscribe(listen)
        try:
            conn = await asyncpg.connect(app.state.dsn)
            try:
                await conn.execute("select pg_notify($1, $2)", CHANNEL, marker)
            finally:
                await conn.close()
            await heard.wait()
        finally:
            feed.unsubscribe(listen)
    return feed


async def concurrently(
    client: AsyncTestClient[Litestar], requests: list[tuple[str, str, dict[str, Any]]]
) -> list[httpx.Response]:
    """Send (method, url, httpx keyword arguments) requests so they really overlap inside the app.

    AsyncTestClient handles one request at a time (its transport blocks on the app's portal until the
    answer is complete), so asyncio.gather over it runs them one after another. Here each request goes
    from a thread of its own through the same portal: the app's event loop sees them all at once.
    """
    transport = TestClientTransport(client=client)

    def send(method: str, url: str, options: dict[str, Any]) -> httpx.Response:
        response = transport.handle_request(client.build_request(method, url, **options))
        response.read()
        return response

    return list(await asyncio.gather(*(asyncio.to_thread(send, m, u, o) for m, u, o in requests)))


async def until_waiting_on_locks(database_url: str, count: int) -> None:
    """Wait until `count` sessions of the test's database wait on a lock (held by the test, to make a race sure).

    A connection of its own: inside a transaction pg_stat_activity is a snapshot and would never change.
    """
    watcher = await asyncpg.connect(database_url)
    try:
        for _ in range(1000):
            waiting = await watcher.fetchval(
                "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.01)
    finally:
        await watcher.close()
    raise AssertionError(f"{count} sessions never waited on a lock")
