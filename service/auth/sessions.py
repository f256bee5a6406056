"""Which tokens still count: each user's (token_version, role, is_active), cached per worker.

A token carries the version its user had when it was issued. Deactivating the user, changing their role
or their password bumps the version; the `users` trigger announces it (service/core/changes.py) and every
worker drops its entry, so the old tokens fail on their next request. On the steady path the check is a
dictionary look-up; while the change feed is down nothing is trusted from memory and each check reads
the database.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from litestar import Litestar

from service.auth import queries as q
from service.auth.passwords import PasswordHashing
from service.auth.schemas import Standing
from service.core.cache import InvalidatedCache
from service.core.changes import ChangeFeed
from service.core.db import borrow
from service.settings import Settings


class Sessions:
    def __init__(self, pool: asyncpg.Pool, feed: ChangeFeed | None, *, maxsize: int = 100_000) -> None:
        self.pool = pool
        self.standings: InvalidatedCache[uuid.UUID, Standing] = InvalidatedCache(feed, maxsize=maxsize, ttl_seconds=300)
        if feed is not None:
            feed.subscribe(self.on_change)

    def on_change(self, table: str, key: str) -> None:
        if table != "users":
            return
        try:
            self.standings.evict(uuid.UUID(key))
        except ValueError:
            self.standings.clear()

    def forget(self, user_id: uuid.UUID) -> None:
        """Drop one user's entry on this worker now (the writer's own worker need not wait for the notification)."""
        self.standings.evict(user_id)

    async def standing(self, user_id: uuid.UUID) -> Standing | None:
        async def load() -> Standing | None:
            async with borrow(self.pool) as conn:
                return await q.standing(conn, user_id)

        return await self.standings.get_or_load(user_id, load)

    async def accepts(self, user_id: uuid.UUID, role: str, token_version: int) -> bool:
        found = await self.standing(user_id)
        return found is not None and found.is_active and found.token_version == token_version and found.role == role


@asynccontextmanager
async def auth_lifespan(app: Litestar) -> AsyncIterator[None]:
    """After the database and the change feed: the token check's cache and the password hashing limit."""
    settings: Settings = app.state.settings
    app.state.sessions = Sessions(app.state.pool, getattr(app.state, "change_feed", None))
    app.state.password_hashing = PasswordHashing(settings.password_hash_concurrency)
    yield
