"""Database access: the asyncpg pool on app.state, the per-request connection, and the embedded server."""

import asyncio
import logging
import uuid
import warnings
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg
import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency

from service.core.observability import unwatch_pool, watch_pool
from service.settings import Settings

log = logging.getLogger("service.db")

# Handlers take the request's connection as `db: DB` (Litestar's explicit named dependency).
DB: TypeAlias = NamedDependency[asyncpg.Connection]


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


async def create_pool(dsn: str, *, min_size: int = 0, max_size: int = 10) -> asyncpg.Pool:
    """A pool that starts even when the database is down (min_size 0) and heals when it is back."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        command_timeout=30,
        max_inactive_connection_lifetime=300,
        server_settings={"application_name": "trace-tour", "timezone": "Asia/Ho_Chi_Minh"},
    )
    watch_pool(pool)
    return pool


@asynccontextmanager
async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Start the embedded server when no DATABASE_URL is set; keep the pool on app.state; close it."""
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
    app.state.pool = pool
    app.state.dsn = dsn
    try:
        yield
    finally:
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


@asynccontextmanager
async def borrow(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
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
