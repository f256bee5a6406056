"""The log's key and per-worker tree, made when the app starts (the key file is read off the event loop)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from litestar import Litestar

from service.settings import Settings
from service.traceability.transparency.service import TransparencyLog
from service.traceability.transparency.signing import load_signing_key, origin_of


@asynccontextmanager
async def transparency_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    key = await asyncio.to_thread(load_signing_key, settings)
    app.state.transparency = TransparencyLog(
        key, origin_of(settings.base_url), timedelta(seconds=settings.log_checkpoint_max_age_seconds)
    )
    yield
