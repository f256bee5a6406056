"""Change notifications between processes: PostgreSQL LISTEN/NOTIFY feeding in-process caches.

Writers need do nothing: triggers installed by migrations call `notify_change(key_column)`, which sends
`table:key` on the `tt_changes` channel when the transaction commits. Every worker keeps one listening
connection; caches subscribe and evict. While the listener is down a cache must not trust what it holds
(`healthy` is False), and every reconnect bumps `generation`, because notifications may have been missed.
`down_for()` says how long the listener has been away (a cache may answer stale for a bounded time).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("service.changes")
CHANNEL = "tt_changes"

Listener = Callable[[str, str], None]


class ChangeFeed:
    """One LISTEN connection per process, reconnecting by itself; subscribers get (table, key)."""

    def __init__(self, dsn: str, *, retry_seconds: float = 1.0) -> None:
        self.dsn = dsn
        self.retry_seconds = retry_seconds
        self.generation = 0
        self._listeners: list[Listener] = []
        self._conn: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._up = asyncio.Event()
        self._down_since: float | None = None  # monotonic: when the listener last lost the database

    @property
    def healthy(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    def down_for(self) -> float:
        """Seconds since the listener lost its connection (0 while it is connected or has not noticed yet)."""
        if self.healthy or self._down_since is None:
            return 0.0
        return time.monotonic() - self._down_since

    # Both replace the list rather than change it: a notification being handed out meanwhile (possibly on
    # another thread, as in tests) goes on over the list it started with and skips no one.
    def subscribe(self, listener: Listener) -> None:
        self._listeners = [*self._listeners, listener]

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners = [known for known in self._listeners if known is not listener]

    def publish_local(self, table: str, key: str) -> None:
        """Tell this process's caches at once (the writer's own worker need not wait for the round trip)."""
        for listener in self._listeners:
            listener(table, key)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        table, _, key = str(payload).partition(":")
        self.publish_local(table, key)

    def _on_terminate(self, _conn: object) -> None:
        self._lost.set()

    async def _connect(self) -> None:
        # Shielded: a stop() that lands mid-handshake must not leave a half-made connection unclosed.
        connecting = asyncio.ensure_future(asyncpg.connect(self.dsn))
        try:
            conn = await asyncio.shield(connecting)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                (await asyncio.wait_for(connecting, timeout=5)).terminate()
            raise
        try:
            conn.add_termination_listener(self._on_terminate)
            await conn.add_listener(CHANNEL, self._on_notify)
        except BaseException:
            conn.terminate()
            raise
        self._conn = conn
        self._down_since = None
        self._up.set()
        self.generation += 1  # anything cached before this moment may have missed a notification
        self.publish_local("*", "")
        log.info("listening for changes", extra={"fields": {"generation": self.generation}})

    async def _run(self) -> None:
        while True:
            try:
                self._lost.clear()
                await self._connect()
                await self._lost.wait()
                log.warning("change listener lost its connection; caches bypassed until it is back")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("change listener cannot connect: %s", exc)
            if self._down_since is None:
                self._down_since = time.monotonic()
            await self._close_conn()
            await asyncio.sleep(self.retry_seconds)

    async def _close_conn(self) -> None:
        self._up.clear()
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), timeout=2)
            except (TimeoutError, OSError, asyncpg.InterfaceError):
                conn.terminate()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="change-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_conn()

    async def wait_healthy(self) -> bool:
        """Wait until the listener is connected (callers bound the wait with asyncio.timeout)."""
        await self._up.wait()
        return self.healthy


@asynccontextmanager
async def change_feed_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Runs after the database lifespan, which leaves the DSN it settled on in app.state.dsn."""
    feed = ChangeFeed(app.state.dsn)
    app.state.change_feed = feed
    read_pool = getattr(app.state, "read_pool", None)
    if read_pool is not None:  # a write this worker hears of sends public reads to the primary until replayed
        feed.subscribe(read_pool.on_change)
    feed.start()
    try:
        yield
    finally:
        await feed.stop()


def invalidate_locally_after_writes(table: str, path_param: str) -> type:
    """ASGI middleware for write routes: once a write succeeded, drop this worker's cached copies at once.

    The database's notification reaches the other workers a few milliseconds later; this makes sure the
    worker that answered the write never serves the old state to the very next request.
    """

    class LocalInvalidation:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
                await self.app(scope, receive, send)
                return

            async def send_after_invalidating(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] < 400:
                    key = scope.get("path_params", {}).get(path_param)
                    feed: ChangeFeed | None = getattr(scope["app"].state, "change_feed", None)
                    if feed is not None and key is not None:
                        feed.publish_local(table, str(key))
                await send(message)

            await self.app(scope, receive, send_after_invalidating)

    LocalInvalidation.__name__ = f"Invalidate_{table}_{path_param}"
    return LocalInvalidation
