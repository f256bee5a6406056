"""Scheduled jobs: one leader at a time across workers and machines, every run recorded, metrics per job.

Domains offer `Job`s (a name, an interval and an async function of a `JobContext` that returns how many
rows it touched); `service/schedule.py` lists them. `python -m service worker` runs them in a process of
their own (Fly's `worker` process group); on the single-machine default they run inside `serve` (every
granian worker starts a runner, the advisory lock lets one of them lead).

The leader holds a PostgreSQL advisory lock on a connection of its own; if that connection or the
process dies, the lock goes with it and another runner takes over at its next try. Each job's next run is
due `interval` after its last recorded start, so a schedule survives a change of leader.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
from litestar import Litestar
from prometheus_client import Counter, Histogram

from service.core.db import borrow
from service.jobs import queries
from service.settings import Settings
from service.storage import MediaStore

log = logging.getLogger("service.jobs")

JOB_RUNS = Counter("trace_tour_job_runs", "Scheduled job runs by outcome", ["job", "outcome"])
JOB_SECONDS = Histogram("trace_tour_job_duration_seconds", "Scheduled job run time", ["job"])


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job may use: the pool, the media store, the settings and the DSN (for PostgreSQL's own tools)."""

    pool: asyncpg.Pool
    media_store: MediaStore | None
    settings: Settings
    dsn: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[JobContext], Awaitable[int]]
    timeout_seconds: float = 600.0


@dataclass(slots=True)
class JobRunner:
    """Leads when it can, runs what is due, records every run; never lets one failing job stop the others."""

    context: JobContext
    jobs: Sequence[Job]
    tick_seconds: float = 5.0
    worker: str = field(default_factory=queries.new_worker_id)
    leading: bool = False
    _lock_conn: Any = None  # the pool's connection proxy, held while leading
    _due: dict[str, float] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def step(self) -> list[str]:
        """One tick: take or keep the lead, then run every job that is due; returns the names run."""
        if not await self._lead():
            return []
        ran = []
        for job in self.jobs:
            due = await self._due_at(job)  # read first: the clock is read after the record is
            if time.monotonic() >= due:
                await self._run(job)
                ran.append(job.name)
        return ran

    async def _lead(self) -> bool:
        held = self._lock_conn
        if held is not None:
            try:
                if not held.is_closed():
                    return True
            except asyncpg.InterfaceError:
                pass  # the pool took the connection back when it was lost: the lock went with it
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self.context.pool.release(held)
        self.leading = False
        self._lock_conn = None
        try:
            conn = await self.context.pool.acquire()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return False
        try:
            got = await queries.try_lead(conn)  # type: ignore[arg-type]  # the pool's proxy is a Connection
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            # the lock may have been granted before the error: never hand the connection to someone else
            conn.terminate()
            return False
        if not got:
            await self.context.pool.release(conn)
            return False
        self._lock_conn, self.leading = conn, True
        self._due.clear()  # read the schedule from the record: another leader may have run jobs meanwhile
        log.info("job runner %s leads", self.worker)
        return True

    async def _due_at(self, job: Job) -> float:
        if job.name not in self._due:
            async with borrow(self.context.pool) as conn:
                last = await queries.last_start(conn, job.name)
            if last is None:  # never ran: due now
                self._due[job.name] = time.monotonic()
            else:
                waited = (datetime.now(UTC) - last).total_seconds()
                self._due[job.name] = time.monotonic() + max(0.0, job.interval_seconds - waited)
        return self._due[job.name]

    async def _run(self, job: Job) -> None:
        self._due[job.name] = time.monotonic() + job.interval_seconds
        async with borrow(self.context.pool) as conn:
            run_id = await queries.start_run(conn, job.name, self.worker)
        started = time.monotonic()
        rows: int | None = None
        error: str | None = None
        try:
            rows = await asyncio.wait_for(job.run(self.context), timeout=job.timeout_seconds)
        except Exception as exc:  # a failing job is recorded and the others still run
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("job %s failed: %s", job.name, error)
        JOB_SECONDS.labels(job.name).observe(time.monotonic() - started)
        JOB_RUNS.labels(job.name, "failed" if error else "succeeded").inc()
        with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            async with borrow(self.context.pool) as conn:
                await queries.finish_run(conn, run_id, rows=rows, error=error)

    async def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                await self.step()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("job runner tick failed (database away?): %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.tick_seconds)

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run_forever(), name="job-runner")

    async def close(self, *, grace_seconds: float = 25.0) -> None:
        """Stop ticking, let a run in progress finish (cancelled after the grace period), give up the lead."""
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), timeout=grace_seconds)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        if self._lock_conn is not None:
            conn, self._lock_conn, self.leading = self._lock_conn, None, False
            try:
                await conn.execute("select pg_advisory_unlock_all()")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                # the pool does not undo session state (core/db.py: keep_session): a connection that may still
                # hold the lock is closed, so the next runner to borrow it cannot lead beside this one
                with contextlib.suppress(asyncpg.InterfaceError):
                    conn.terminate()
                return
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self.context.pool.release(conn)


def jobs_lifespan(jobs: Callable[[Settings], Sequence[Job]]) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """A lifespan that runs the scheduled jobs inside this server when settings.jobs_in_server is on."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        settings: Settings = app.state.settings
        if not settings.jobs_in_server:
            yield
            return
        context = JobContext(app.state.pool, getattr(app.state, "media_store", None), settings, app.state.dsn)
        runner = JobRunner(context, jobs(settings), tick_seconds=settings.jobs_tick_seconds)
        app.state.job_runner = runner
        runner.start()
        try:
            yield
        finally:
            await runner.close()

    return lifespan
