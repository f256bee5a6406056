"""A small in-process cache that only answers while change notifications are flowing.

Fill races are handled with an epoch: read `token()` before loading from the database and pass it to
`put()`; if any eviction happened in between, the value may be stale and is not stored.
`get_or_load()` does that for you and loads each key once at a time: when a popular entry is missing,
sixty-four concurrent requests wait for one database read instead of making sixty-four.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from service.core.changes import ChangeFeed

K = TypeVar("K")
V = TypeVar("V")


class InvalidatedCache(Generic[K, V]):
    def __init__(self, feed: ChangeFeed | None, *, maxsize: int = 4096, ttl_seconds: float = 300.0) -> None:
        self.feed = feed
        self.maxsize = maxsize
        self.ttl = ttl_seconds
        self._data: OrderedDict[K, tuple[V, float, int]] = OrderedDict()
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

    def evict(self, key: K) -> None:
        self._epoch += 1
        self._data.pop(key, None)

    def clear(self) -> None:
        self._epoch += 1
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
