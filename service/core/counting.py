"""Counts held in memory on a hot path and added to the database by a background task.

A counter's `record`-like methods cost a dict update and never touch the database. Once every
`flush_interval` (and on a graceful stop, before the pool closes) the task takes what was counted and writes
it in one transaction; when the database is away the counts taken are given back and added to what arrived
meanwhile, so they reach the database on a later flush instead of being lost. A subclass says only how to take
its pending counts, how to write them, and how to give them back.
"""

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

import asyncpg

log = logging.getLogger("service.counting")

DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)

Taken = TypeVar("Taken")


class BatchedCounter(ABC, Generic[Taken]):
    """One flush at a time (a lock), a loop task started by `start`, and `close` that writes what is left."""

    name = "counter"  # names the task and the log lines

    def __init__(self, pool: asyncpg.Pool, *, flush_interval: float = 1.0) -> None:
        self.pool = pool
        self.flush_interval = flush_interval
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    def _take(self) -> Taken:
        """Everything counted so far, leaving nothing pending."""

    @abstractmethod
    def _size(self, taken: Taken) -> int:
        """How many rows `taken` writes (0: nothing to do)."""

    @abstractmethod
    async def _write(self, conn: asyncpg.Connection, taken: Taken) -> None:
        """Add `taken` to the database (inside the flush's transaction)."""

    @abstractmethod
    def _give_back(self, taken: Taken) -> None:
        """Merge counts that could not be written with those that arrived since."""

    @abstractmethod
    def _pending(self) -> int:
        """How many keys are waiting for a flush."""

    @property
    def idle(self) -> bool:
        return not self._pending() and not self._lock.locked()

    async def flush(self) -> int:
        """Write what was counted; the number of rows written (0 also when the database refused and kept them)."""
        async with self._lock:
            taken = self._take()
            size = self._size(taken)
            if not size:
                return 0
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    await self._write(conn, taken)  # type: ignore[arg-type]  # a pool proxy is a connection
            except DB_ERRORS as exc:
                log.warning("%s not written, will retry: %s", self.name, exc)
                self._give_back(taken)
                return 0
            return size

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"{self.name}-flusher")

    async def close(self) -> None:
        """Stop the loop and write what is left (a graceful stop loses no count while the database answers)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if not self.idle:
            log.error("%s lost on shutdown: %d keys", self.name, self._pending())
