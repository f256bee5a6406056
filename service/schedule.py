"""The one place scheduled jobs are listed: each domain's clean-ups and upkeep, adapted to `service.jobs.Job`.

`serve` (jobs_in_server) and `python -m service worker` run exactly this list.
"""

from service import traceability
from service.auth.service import purge_login_failures
from service.jobs import Job, JobContext
from service.media.service import sweep_abandoned_uploads

HOUR = 3600.0


async def _purge_login_failures(ctx: JobContext) -> int:
    async with ctx.pool.acquire() as conn:
        return await purge_login_failures(conn, ctx.settings.login_window_seconds)  # type: ignore[arg-type]


async def _sweep_uploads(ctx: JobContext) -> int:
    if ctx.media_store is None:
        return 0
    async with ctx.pool.acquire() as conn:
        return await sweep_abandoned_uploads(conn, ctx.media_store)  # type: ignore[arg-type]


def scheduled_jobs() -> list[Job]:
    return [
        Job("auth.purge_login_failures", HOUR, _purge_login_failures),
        Job("media.sweep_abandoned_uploads", HOUR, _sweep_uploads),
        *traceability.jobs,
    ]
