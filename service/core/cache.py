"""A small in-process cache that only answers while change notifications are flowing.

Fill races are handled with an epoch: read `token()` before loading from the database and pass it to
`put()`; if any eviction happened in between, the value may be stale and is not stored.
`get_or_load()` does that for you and loads each key once at a time: when a popular entry is missing,
sixty-four concurrent requests wait for one database read instead of making sixty-four.

Stale if error (RFC 5861's idea): a cache made with `stale_seconds` also keeps the last value it loaded for
each key, apart from the fresh entries. `get_or_stale()` answers with it only when loading fails because the
database cannot be reached, and only for `stale_seconds` after the change feed lost it. Evictions drop the
stale copy too, and so does every reconnect of the feed (it clears the caches): a recall made elsewhere during
the outage shows at once when the database is back.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from service.core.changes import ChangeFeed
from service.core.errors import database_unreachable

K = TypeVar("K")
V = TypeVar("V")


class InvalidatedCache(Generic[K, V]):
    def __init__(
        self, feed: ChangeFeed | None, *, maxsize: int = 4096, ttl_seconds: float = 300.0, stale_seconds: float = 0.0
    ) -> None:
        self.feed = feed
        self.maxsize = maxsize
        self.ttl = ttl_seconds
        self.stale_seconds = stale_seconds
        self._data: OrderedDict[K, tuple[V, float, int]] = OrderedDict()
        # last value loaded per key and when (wall clock), for answers while the database is away
        self._stale: OrderedDict[K, tuple[V, float, int]] = OrderedDict()
        self._epoch = 0
        self._loading: dict[K, asyncio.Future[V | None]] = {}

    def get(self, key: K) -> V | None:
        feed = self.feed
        if feed is None or not feed.healthy:
            return None
        entry = self._data.get(key)
        if entry is None:
            return None
        value, stored_at, generation = entry
        if generation != feed.generation or time.monotonic() - stored_at > self.ttl:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        """The cached value, or the result of one `load()` shared by every concurrent caller (None is not kept)."""
        value = self.get(key)
        if value is not None:
            return value
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        token = self.token()
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters re-raise it, an unwatched one is not an error
            raise
        finally:
            self._loading.pop(key, None)
        if value is not None:
            self.put(key, value, token)
        future.set_result(value)
        return value

    async def get_or_stale(self, key: K, load: Callable[[], Awaitable[V | None]]) -> tuple[V | None, float | None]:
        """`get_or_load()`, or when the database cannot be reached the last loaded value and its time (epoch).

        The second item is None for a fresh answer. Any other error, no stale copy, or an outage longer than
        `stale_seconds`: the error goes on to the caller.
        """
        try:
            return await self.get_or_load(key, load), None
        except Exception as exc:
            stale = self._stale_answer(key, exc)
            if stale is None:
                raise
            return stale

    def _stale_answer(self, key: K, exc: Exception) -> tuple[V, float] | None:
        feed = self.feed
        if self.stale_seconds <= 0 or feed is None or not database_unreachable(exc):
            return None
        if feed.down_for() > self.stale_seconds:
            return None
        entry = self._stale.get(key)
        if entry is None:
            return None
        value, loaded_at, generation = entry
        if generation != feed.generation:  # loaded before a reconnect: it may have missed a recall
            del self._stale[key]
            return None
        return value, loaded_at

    def token(self) -> int:
        return self._epoch

    def put(self, key: K, value: V, token: int) -> None:
        feed = self.feed
        if feed is None or not feed.healthy or token != self._epoch:
            return
        self._data[key] = (value, time.monotonic(), feed.generation)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)
        if self.stale_seconds > 0:
            self._stale[key] = (value, time.time(), feed.generation)
            self._stale.move_to_end(key)
            while len(self._stale) > self.maxsize:
                self._stale.popitem(last=False)

    def evict(self, key: K) -> None:
        self._epoch += 1
        self._data.pop(key, None)
        self._stale.pop(key, None)

    def clear(self) -> None:
        self._epoch += 1
        self._data.clear()
        self._stale.clear()

    @property
    def stale_entries(self) -> int:
        return len(self._stale)

    def __len__(self) -> int:
        return len(self._data)
