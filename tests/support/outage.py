"""A PostgreSQL server of a test's own, migrated, that the test may stop and start (an outage)."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.core.db import EmbeddedPostgres
from service.core.migrate import migrate


@asynccontextmanager
async def own_server(data_dir: Path) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    """Started and migrated; stopped at the end whatever the test did to it."""
    server = EmbeddedPostgres(data_dir)
    dsn = await asyncio.to_thread(server.start)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield server, dsn
    finally:
        await asyncio.to_thread(server.stop)


async def seconds_until_ready(client: AsyncTestClient[Litestar], limit: float = 20.0) -> float:
    """Poll /health/ready every 50 ms; how long it took to answer 200."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if (await client.get("/health/ready")).status_code == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not ready {limit} s after the database came back")
