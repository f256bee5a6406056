"""Database access: the asyncpg pool on app.state, the per-request connection, and the embedded server."""

import asyncio
import logging
import time
import uuid
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias, TypeVar, cast

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency
from prometheus_client import Counter

from service.core.observability import unwatch_pool, watch_pool
from service.settings import Settings

log = logging.getLogger("service.db")

# Handlers take the request's connection as `db: DB` (Litestar's explicit named dependency).
DB: TypeAlias = NamedDependency[asyncpg.Connection]
# Public reads that tolerate a little lag take `read_db: ReadDB`: the replica when there is a fit one, else
# the primary (ReadPool below). Writes, and reads that must see the request's own writes, take `db: DB`.
ReadDB: TypeAlias = NamedDependency[asyncpg.Connection]

T = TypeVar("T")

REPLICA_READS = Counter(
    "db_public_reads", "Public reads (ReadPool connections) by the server that answered", ["server"]
)
REPLICA_FALLBACKS = Counter(
    "db_replica_fallbacks",
    "Public reads sent to the primary although a replica is configured, by reason",
    ["reason"],  # unreachable | catching_up | failed_mid_read | confirm_missing
)
# Errors that say the server (not the query) is the problem: the read is answered by the primary instead.
_SERVER_GONE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionFailureError,
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
)


class EmbeddedPostgres:
    """A PostgreSQL server in a local data directory (pgserver); data survives restarts."""

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._server: Any = None

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir; containers often have no XDG_RUNTIME_DIR.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver  # only the embedded mode needs it

            self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
        uri: str = self._server.get_uri()
        log.info("embedded postgres running", extra={"fields": {"data_dir": str(self.data_dir)}})
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


async def init_connection(conn: asyncpg.Connection) -> None:
    """JSON columns decode straight to Python values with msgspec; timestamps stay tz-aware."""
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda v: msgspec.json.encode(v).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )
    await conn.set_type_codec(
        "json",
        encoder=lambda v: msgspec.json.encode(v).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


async def keep_session(conn: asyncpg.Connection) -> None:
    """What the pool does to a connection coming back, after asyncpg's own clean-up: nothing more.

    asyncpg always rolls back a transaction left open (a cancelled request's) and drops the connection's
    listener callbacks before this runs. Its default then sends `SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL;` on every release: one more round trip for every pooled request, about 0.11 ms of
    the two processes' time (a batch registration costs ~2.5 ms in all). No code leaves session state on a
    pooled connection for it to undo: settings are set for one transaction (`set_config(..., true)`),
    cursors live inside transactions, LISTEN has a connection of its own (core/changes.py), migrations and
    their lock run on their own connection, and the job runner's leadership lock is released before its
    connection goes back, or the connection is closed (jobs/__init__.py). tests/core/test_pool.py holds the
    code to that.
    """


async def create_pool(dsn: str, *, min_size: int = 0, max_size: int = 10) -> asyncpg.Pool:
    """A pool that starts even when the database is down (min_size 0) and heals when it is back."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=keep_session,
        command_timeout=30,
        max_inactive_connection_lifetime=300,
        server_settings={"application_name": "trace-tour", "timezone": "Asia/Ho_Chi_Minh"},
    )
    watch_pool(pool)
    return pool


_LSN = "select pg_wal_lsn_diff({}, '0/0')::bigint"


class ReadPool:
    """Connections for public reads that tolerate a little lag: from the replica when there is one and it is fit.

    Fit means reachable, and caught up with every write this worker has heard of: each change notification
    (core/changes.py) sends reads to the primary until the replica has replayed the primary's WAL position
    taken after the notification, so a cache evicted by a write is never refilled from before the write. An
    unreachable replica is left alone for `retry_seconds` (reads go to the primary, counted and logged once
    per outage) and then tried again. Without a replica every read goes to the primary at no extra cost.
    """

    def __init__(self, primary: asyncpg.Pool, replica: asyncpg.Pool | None = None, *, retry_seconds: float = 5.0):
        self.primary = primary
        self.replica = replica
        self.retry_seconds = retry_seconds
        self._down_until = 0.0  # monotonic; the replica is not tried before then
        self._down = False
        self._unplaced_write = False  # a write was heard of and the primary's WAL position is being asked
        self._again = False  # another write was heard of while asking: ask once more
        self._placing: asyncio.Task[None] | None = None  # one question in flight per worker, however many writes
        self._needed_lsn = 0  # the replica must have replayed this far before it answers
        self._replayed_lsn = 0  # the furthest replay position seen on the replica

    @property
    def replica_in_use(self) -> bool:
        """True while reads may go to the replica (configured, and not left alone after a failure)."""
        return self.replica is not None and time.monotonic() >= self._down_until

    def on_change(self, _table: str, _key: str) -> None:
        """A write committed on the primary: reads go to the primary until the replica has replayed it."""
        if self.replica is None:
            return
        self._unplaced_write = True
        if self._placing is None or self._placing.done():
            self._placing = asyncio.get_running_loop().create_task(self._place_writes())
        else:
            self._again = True

    async def _place_writes(self) -> None:
        """The primary's WAL position, taken after every write heard of so far, is what the replica must reach."""
        try:
            while True:
                self._again = False
                try:
                    async with self.primary.acquire() as conn:
                        lsn = await conn.fetchval(_LSN.format("pg_current_wal_lsn()"))
                    self._needed_lsn = max(self._needed_lsn, int(lsn))
                except Exception:  # position unknown: ask the replica for anything newer than it has shown
                    log.warning("primary WAL position unavailable after a change", exc_info=True)
                    self._needed_lsn = max(self._needed_lsn, self._replayed_lsn + 1)
                if not self._again:
                    break
        finally:
            self._unplaced_write = False

    def _left_alone(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_seconds
        if not self._down:
            self._down = True
            log.warning(
                "replica unreachable: public reads go to the primary",
                extra={"fields": {"error": repr(exc), "retry_seconds": self.retry_seconds}},
            )

    async def _replica_connection(self) -> "PoolConnectionProxy[Any] | None":
        """A replica connection fit for a public read, or None (the primary answers; the reason is counted)."""
        if self.replica is None or not self.replica_in_use:
            if self.replica is not None:
                REPLICA_FALLBACKS.labels("unreachable").inc()
            return None
        if self._unplaced_write:
            REPLICA_FALLBACKS.labels("catching_up").inc()
            return None
        try:
            conn = await self.replica.acquire(timeout=2.0)
        except Exception as exc:  # whatever keeps the replica from answering (down, starting, misnamed database)
            self._left_alone(exc)
            REPLICA_FALLBACKS.labels("unreachable").inc()
            return None
        if self._needed_lsn > self._replayed_lsn:
            try:
                replayed = await conn.fetchval(_LSN.format("pg_last_wal_replay_lsn()"))
            except _SERVER_GONE as exc:
                await self.replica.release(conn)
                self._left_alone(exc)
                REPLICA_FALLBACKS.labels("unreachable").inc()
                return None
            self._replayed_lsn = max(self._replayed_lsn, int(replayed or 0))
            if self._replayed_lsn < self._needed_lsn:
                await self.replica.release(conn)
                REPLICA_FALLBACKS.labels("catching_up").inc()
                return None
        if self._down:
            self._down = False
            log.info("replica reachable again: public reads go to it")
        return conn

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for one public read (the replica's when fit, else the primary's)."""
        conn = await self._replica_connection()
        if conn is None:
            REPLICA_READS.labels("primary").inc()
            async with self.primary.acquire() as primary_conn:
                yield cast(asyncpg.Connection, primary_conn)
            return
        REPLICA_READS.labels("replica").inc()
        assert self.replica is not None
        try:
            yield cast(asyncpg.Connection, conn)
        finally:
            await self.replica.release(conn)

    async def read(self, query: Callable[[asyncpg.Connection], Awaitable[T]], *, confirm_missing: bool = False) -> T:
        """Run `query` on a fit connection; a replica failing mid-read, or (when asked) answering None, is
        asked again of the primary (a batch registered a moment ago may not have reached the replica)."""
        conn = await self._replica_connection()
        if conn is not None:
            assert self.replica is not None
            REPLICA_READS.labels("replica").inc()
            try:
                result = await query(cast(asyncpg.Connection, conn))
            except _SERVER_GONE as exc:
                self._left_alone(exc)
                REPLICA_FALLBACKS.labels("failed_mid_read").inc()
            else:
                if result is not None or not confirm_missing:
                    return result
                REPLICA_FALLBACKS.labels("confirm_missing").inc()
            finally:
                await self.replica.release(conn)
        REPLICA_READS.labels("primary").inc()
        async with self.primary.acquire() as primary_conn:
            return await query(cast(asyncpg.Connection, primary_conn))

    async def close(self) -> None:
        if self._placing is not None:
            self._placing.cancel()
        if self.replica is not None:
            unwatch_pool(self.replica)
            try:
                await asyncio.wait_for(self.replica.close(), timeout=10)
            except TimeoutError:
                self.replica.terminate()


# What the public read paths accept: a ReadPool, or a plain pool (tests, tools, the single-server default).
AnyPool: TypeAlias = asyncpg.Pool | ReadPool


@asynccontextmanager
async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Start the embedded server when no DATABASE_URL is set; keep the pools on app.state; close them."""
    settings: Settings = app.state.settings
    embedded: EmbeddedPostgres | None = None
    dsn = settings.database_url
    if not dsn:
        embedded = EmbeddedPostgres(settings.pg_data_dir)
        dsn = await asyncio.to_thread(embedded.start)
    pool = await create_pool(
        dsn,
        min_size=settings.db_pool_min if settings.database_url else 0,
        max_size=settings.db_pool_max,
    )
    # min_size 0: the service starts, and serves from the primary, while the replica is away
    replica = (
        await create_pool(settings.database_replica_url, min_size=0, max_size=settings.db_pool_max)
        if settings.database_replica_url
        else None
    )
    app.state.pool = pool
    app.state.read_pool = ReadPool(pool, replica, retry_seconds=settings.replica_retry_seconds)
    app.state.dsn = dsn
    try:
        yield
    finally:
        await app.state.read_pool.close()
        unwatch_pool(pool)
        try:
            await asyncio.wait_for(pool.close(), timeout=10)
        except TimeoutError:
            pool.terminate()
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def provide_connection(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """One pooled connection per request; transactions are the services' business."""
    pool: asyncpg.Pool = state.pool
    async with pool.acquire() as conn:
        yield conn  # type: ignore[misc]  # the pool's proxy behaves as a Connection


async def provide_read_connection(state: State) -> AsyncGenerator[asyncpg.Connection, None]:
    """One connection per request for public reads that tolerate lag (`read_db: ReadDB`)."""
    read_pool: ReadPool = state.read_pool
    async with read_pool.acquire() as conn:
        yield conn


@asynccontextmanager
async def borrow(pool: AnyPool) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection for code outside a request's `db` dependency (caches, cross-domain adapters)."""
    async with pool.acquire() as conn:
        yield conn  # type: ignore[misc]  # the pool's proxy behaves as a Connection


async def insert_row(conn: asyncpg.Connection, table: str, row: msgspec.Struct, returning: str) -> asyncpg.Record:
    """INSERT one row of a typed Struct: column names from its fields (code, never input), values as parameters."""
    columns = row.__struct_fields__
    placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    record = await conn.fetchrow(
        f"insert into {table} ({', '.join(columns)}) values ({placeholders}) returning {returning}",  # noqa: S608
        *msgspec.structs.astuple(row),
    )
    assert record is not None, "INSERT ... RETURNING gave no row"
    return record


async def update_row(
    conn: asyncpg.Connection, table: str, row_id: uuid.UUID, changes: msgspec.Struct, returning: str
) -> asyncpg.Record | None:
    """UPDATE the set fields of `changes` (and updated_at); None when no row has this id."""
    columns = [(name, value) for name, value in msgspec.structs.asdict(changes).items() if value is not msgspec.UNSET]
    assignments = "".join(f"{name} = ${i + 2}, " for i, (name, _) in enumerate(columns))
    return await conn.fetchrow(
        f"update {table} set {assignments}updated_at = now() where id = $1 returning {returning}",  # noqa: S608
        row_id,
        *[value for _, value in columns],
    )
