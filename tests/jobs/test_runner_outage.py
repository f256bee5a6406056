"""The job runner after PostgreSQL went away and came back: it leads again and runs its jobs."""

import asyncio
import contextlib
from pathlib import Path

import asyncpg

from service.core.db import create_pool
from service.jobs import Job, JobContext, JobRunner
from service.settings import Settings
from tests.support.outage import own_server


async def test_the_runner_leads_again_after_the_database_came_back(tmp_path: Path, settings: Settings) -> None:
    calls: list[str] = []

    async def tick(ctx: JobContext) -> int:
        calls.append("tick")
        return 1

    async with own_server(tmp_path / "pg") as (server, dsn):
        pool = await create_pool(dsn, min_size=0, max_size=4)
        runner = JobRunner(JobContext(pool, None, settings), [Job("test.tick", 0.05, tick)])
        try:
            assert await runner.step() == ["test.tick"] and runner.leading

            await asyncio.to_thread(server.stop)
            for _ in range(3):  # what run_forever does with a failing tick: log it and try again later
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                    await runner.step()
                await asyncio.sleep(0.05)
            await asyncio.to_thread(server.start)

            ran: list[str] = []
            for _ in range(100):
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                    ran = await runner.step()
                if ran:
                    break
                await asyncio.sleep(0.1)
            assert ran == ["test.tick"], "the runner never led again after the outage"
            assert runner.leading
        finally:
            await runner.close()
            await pool.close()
    assert calls.count("tick") >= 2
