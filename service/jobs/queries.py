"""SQL of the job runner: leadership (an advisory lock) and the record of runs."""

import uuid
from datetime import datetime

import asyncpg

# One key for the whole runner: whoever holds it is the leader (the lock goes with its connection).
JOBS_LOCK_KEY = 0x7472_6163_656A_6F62  # "tracejob"


async def try_lead(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("select pg_try_advisory_lock($1)", JOBS_LOCK_KEY))


async def last_start(conn: asyncpg.Connection, job: str) -> datetime | None:
    value: datetime | None = await conn.fetchval("select max(started_at) from job_runs where job = $1", job)
    return value


async def start_run(conn: asyncpg.Connection, job: str, worker: str) -> int:
    run_id: int = await conn.fetchval("insert into job_runs (job, worker) values ($1, $2) returning id", job, worker)
    return run_id


async def finish_run(conn: asyncpg.Connection, run_id: int, *, rows: int | None, error: str | None) -> None:
    await conn.execute(
        """
        update job_runs set finished_at = now(), rows_affected = $2, error = $3,
               outcome = case when $3::text is null then 'succeeded' else 'failed' end
        where id = $1
        """,
        run_id,
        rows,
        error,
    )


def new_worker_id() -> str:
    return uuid.uuid4().hex[:12]
