"""Capture jobs run as tasks of the worker that took them; at start, jobs a stopped worker left running resume."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from service.core.db import borrow
from service.partners.schemas import Partner
from service.traceability.epcis import capture
from service.traceability.epcis import queries as q


@asynccontextmanager
async def epcis_lifespan(app: Litestar) -> AsyncIterator[None]:
    tasks: set[asyncio.Task[None]] = set()
    app.state.epcis_tasks = tasks
    base_url = str(app.state.settings.base_url)
    async with borrow(app.state.pool) as conn:
        for job_id in await q.running_jobs(conn):
            owner = await q.job_partner(conn, job_id)
            if owner is None:
                continue
            partner = Partner(partner_id=owner[0], client_id=owner[1], name=owner[2], scopes=("capture",))
            task = asyncio.create_task(capture.run_capture(app.state.pool, partner, job_id, base_url))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
    try:
        yield
    finally:
        if tasks:
            _done, pending = await asyncio.wait(set(tasks), timeout=10)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
