"""Capture jobs run as tasks of the worker that took them (at start, jobs a stopped worker left running resume);
webhooks are dispatched by a task of each worker where scheduled jobs run (jobs_in_server)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from litestar import Litestar

from service.core.db import borrow
from service.partners.schemas import Partner
from service.traceability.epcis import capture, webhooks
from service.traceability.epcis import queries as q

log = logging.getLogger("service.traceability.epcis")


@asynccontextmanager
async def epcis_lifespan(app: Litestar) -> AsyncIterator[None]:
    tasks: set[asyncio.Task[None]] = set()
    app.state.epcis_tasks = tasks
    base_url = str(app.state.settings.base_url)
    try:
        async with borrow(app.state.pool) as conn:
            for job_id in await q.running_jobs(conn):
                owner = await q.job_partner(conn, job_id)
                if owner is None:
                    continue
                partner = Partner(partner_id=owner[0], client_id=owner[1], name=owner[2], scopes=("capture",))
                task = asyncio.create_task(capture.run_capture(app.state.pool, partner, job_id, base_url))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        # the database away (or not migrated yet) at start must not stop the server: the jobs resume next start
        log.warning("capture jobs left running were not resumed: %s", exc)
    settings = app.state.settings
    async with contextlib.AsyncExitStack() as stack:
        if settings.jobs_in_server:  # where scheduled jobs run, webhooks are dispatched too
            await stack.enter_async_context(webhooks.dispatcher(app.state.pool, settings))
        try:
            yield
        finally:
            await _finish(tasks)


async def _finish(tasks: set[asyncio.Task[None]]) -> None:
    """Let capture jobs finish (10 s), then cancel them: a cancelled job resumes at the next start."""
    if not tasks:
        return
    _done, pending = await asyncio.wait(set(tasks), timeout=10)
    for task in pending:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
