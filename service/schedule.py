"""The one place scheduled jobs are listed: each domain's clean-ups and upkeep, adapted to `service.jobs.Job`.

`serve` (jobs_in_server) and `python -m service worker` run exactly this list.
"""

import asyncio

from service import traceability
from service.auth.service import purge_throttle_counters
from service.backup import backup
from service.core.db import borrow
from service.jobs import Job, JobContext
from service.media.service import sweep_abandoned_uploads, sweep_unreferenced_media
from service.settings import Settings
from service.tourism.media.assets import model_assets

HOUR = 3600.0
DAY = 86_400


async def _purge_throttle_counters(ctx: JobContext) -> int:
    async with borrow(ctx.pool) as conn:
        return await purge_throttle_counters(conn, DAY)  # longer than any throttle window


async def _sweep_uploads(ctx: JobContext) -> int:
    if ctx.media_store is None:
        return 0
    async with borrow(ctx.pool) as conn:
        return await sweep_abandoned_uploads(conn, ctx.media_store)


async def _sweep_unreferenced(ctx: JobContext) -> int:
    if ctx.media_store is None:
        return 0
    # shipped 3D models are referenced by their file's digest, not by a row
    shipped = frozenset(a.sha256 for a in (await asyncio.to_thread(model_assets)).values())
    async with borrow(ctx.pool) as conn:
        return await sweep_unreferenced_media(
            conn, ctx.media_store, grace_seconds=ctx.settings.media_unreferenced_grace_hours * HOUR, keep_sha256=shipped
        )


async def _backup(ctx: JobContext) -> int:
    if ctx.media_store is None or ctx.dsn is None:
        return 0
    manifest = await backup(ctx.dsn, ctx.media_store, keep=ctx.settings.backup_keep)
    return manifest.size


def scheduled_jobs(settings: Settings | None = None) -> list[Job]:
    backup_hours = settings.backup_interval_hours if settings is not None else 24.0
    return [
        Job("auth.purge_throttle_counters", HOUR, _purge_throttle_counters),
        Job("media.sweep_abandoned_uploads", HOUR, _sweep_uploads),
        Job("media.sweep_unreferenced", 6 * HOUR, _sweep_unreferenced),
        *traceability.jobs,
        *([Job("core.backup", backup_hours * HOUR, _backup, timeout_seconds=6 * HOUR)] if backup_hours else []),
    ]
