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
from service.settings import Settings
from tests.conftest import TEST_JWT_SECRET


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


def own_settings(tmp_path: Path, dsn: str) -> Settings:
    """The app on a test's own server: its own media and scan spool, no connection kept open, no jobs."""
    return Settings(
        env="test",
        database_url=dsn,
        media_dir=str(tmp_path / "media"),
        scan_spool_dir=str(tmp_path / "spool"),
        jwt_secret=TEST_JWT_SECRET,
        public_base_url="https://trace.example.vn",
        db_pool_min=0,
        jobs_in_server=False,
    )


async def seconds_until_ready(client: AsyncTestClient[Litestar], limit: float = 20.0) -> float:
    """Poll /health/ready every 50 ms; how long it took to answer 200."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if (await client.get("/health/ready")).status_code == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not ready {limit} s after the database came back")
