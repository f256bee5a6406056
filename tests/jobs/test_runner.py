"""The job runner: one leader across runners, every run recorded, a failing job never stops the others."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from service.core.db import create_pool
from service.jobs import Job, JobContext, JobRunner
from service.schedule import scheduled_jobs
from service.settings import Settings
from service.storage import LocalStore


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=0, max_size=6)
    yield pool
    await pool.close()


def counting_job(name: str, interval: float, calls: list[str], *, fails: bool = False) -> Job:
    async def run(ctx: JobContext) -> int:
        calls.append(name)
        await asyncio.sleep(0.05)  # long enough for a second runner to try to overlap
        if fails:
            raise RuntimeError("the disk is full")
        return 7

    return Job(name, interval, run)


async def runs(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "select job, worker, outcome, rows_affected, error, started_at, finished_at from job_runs order by id"
    )
    return [dict(r) for r in rows]


async def test_two_runners_one_leader_and_every_run_recorded(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    calls: list[str] = []
    jobs = [counting_job("demo.every_tick", 0.15, calls)]
    first = JobRunner(JobContext(pool, None, settings), jobs, tick_seconds=0.05)
    second = JobRunner(JobContext(pool, None, settings), jobs, tick_seconds=0.05)
    first.start()
    second.start()
    await asyncio.sleep(1.2)
    await first.close()
    await second.close()
    recorded = await runs(db)
    assert len(recorded) == len(calls) >= 4  # due every 0.15 s for 1.2 s: several runs, none lost or doubled
    assert len({r["worker"] for r in recorded}) == 1  # one leader did them all
    assert all(r["outcome"] == "succeeded" and r["rows_affected"] == 7 for r in recorded)
    for earlier, later in itertools.pairwise(recorded):
        assert later["started_at"] >= earlier["finished_at"]  # runs of a job never overlap
        assert later["started_at"] - earlier["started_at"] >= timedelta(seconds=0.14)  # the interval holds


async def test_the_lead_passes_on_when_the_leader_stops(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    calls: list[str] = []
    jobs = [counting_job("demo.handover", 0.1, calls)]
    first = JobRunner(JobContext(pool, None, settings), jobs, tick_seconds=0.05)
    second = JobRunner(JobContext(pool, None, settings), jobs, tick_seconds=0.05)
    assert await first.step() == ["demo.handover"]
    assert await second.step() == []  # not the leader
    await first.close()
    await asyncio.sleep(0.15)
    assert await second.step() == ["demo.handover"]
    await second.close()
    assert [r["worker"] for r in await runs(db)] == [first.worker, second.worker]


async def test_a_new_leader_keeps_the_schedule(pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings) -> None:
    """The next run is due an interval after the last recorded start, whoever made it."""
    calls: list[str] = []
    jobs = [counting_job("demo.daily", 86_400, calls)]
    first = JobRunner(JobContext(pool, None, settings), jobs)
    assert await first.step() == ["demo.daily"]
    await first.close()
    second = JobRunner(JobContext(pool, None, settings), jobs)
    assert await second.step() == []  # ran moments ago: not due for a day
    await second.close()


async def test_a_failing_job_is_recorded_and_the_others_still_run(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    calls: list[str] = []
    jobs = [counting_job("demo.broken", 60, calls, fails=True), counting_job("demo.fine", 60, calls)]
    runner = JobRunner(JobContext(pool, None, settings), jobs)
    assert await runner.step() == ["demo.broken", "demo.fine"]
    await runner.close()
    recorded = {r["job"]: r for r in await runs(db)}
    assert recorded["demo.broken"]["outcome"] == "failed"
    assert recorded["demo.broken"]["error"] == "RuntimeError: the disk is full"
    assert recorded["demo.fine"]["outcome"] == "succeeded"


async def test_the_scheduled_clean_ups_remove_only_what_has_expired(
    pool: asyncpg.Pool, db: asyncpg.Connection, settings: Settings, media_dir: Any, make_user: Any
) -> None:
    headers = await make_user("farmer")
    user_id = headers["X-User-Id"]
    old, fresh = datetime.now(UTC) - timedelta(days=40), datetime.now(UTC)
    for key, at in (("cu", old), ("moi", fresh)):
        await db.execute(
            "insert into idempotency_keys (user_id, key, operation, request_hash, status_code, response, created_at)"
            " values ($1, $2, 'create_batch', 'h', 201, '{}', $3)",
            user_id,
            key,
            at,
        )
    await db.execute(
        "insert into throttle_counters (key, window_start, hits) values ('login:phone:+84900000001', $1, 3),"
        " ('login:phone:+84900000002', now(), 2)",
        old,
    )
    store = LocalStore(media_dir, settings.base_url, settings.jwt_secret, settings.upload_url_ttl_seconds)
    runner = JobRunner(JobContext(pool, store, settings), scheduled_jobs())
    ran = await runner.step()
    await runner.close()
    assert set(ran) >= {
        "auth.purge_throttle_counters",
        "media.sweep_abandoned_uploads",
        "traceability.purge_idempotency_keys",
    }
    assert [r["key"] for r in await db.fetch("select key from idempotency_keys")] == ["moi"]
    counters = {r["key"] for r in await db.fetch("select key from throttle_counters")}
    assert "login:phone:+84900000002" in counters and "login:phone:+84900000001" not in counters
    assert {r["job"]: r["outcome"] for r in await runs(db)} == dict.fromkeys(ran, "succeeded")


async def test_the_worker_command_runs_the_jobs_and_stops_on_sigterm(
    db: asyncpg.Connection, settings: Settings, media_dir: Any
) -> None:
    """`python -m service worker` as Fly's worker process group runs it: the jobs run, SIGTERM ends it cleanly."""
    import os
    import signal
    import sys

    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "MEDIA_DIR": str(media_dir),
        "JWT_SECRET": settings.jwt_secret,
        "JOBS_TICK_SECONDS": "0.2",
        "ENV": "test",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        "worker",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        for _ in range(150):
            if await db.fetchval("select count(*) from job_runs where outcome = 'succeeded'") >= 3:
                break
            await asyncio.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        output_bytes, _ = await asyncio.wait_for(worker.communicate(), timeout=30)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    output = output_bytes.decode()
    assert worker.returncode == 0, output
    names = {r["job"] for r in await db.fetch("select job from job_runs where outcome = 'succeeded'")}
    assert {"auth.purge_throttle_counters", "traceability.purge_idempotency_keys"} <= names, output
    assert await db.fetchval("select count(*) from job_runs where outcome = 'running'") == 0
