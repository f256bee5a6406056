"""Password hashing: argon2 off the event loop, a few at a time per worker.

Each argon2 hash or check takes 64 MiB for tens of milliseconds. Unbounded, a burst of sign-ins or
registrations would start one thread each and exhaust memory; behind the semaphore the burst waits.
"""

import asyncio
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A real hash to verify against when the phone is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")

T = TypeVar("T")


class PasswordHashing:
    """One per worker (app.state.password_hashing); `runs` counts hashes and checks, `peak` the most at once."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self.running = 0
        self.peak = 0
        self.runs = 0

    async def _run(self, work: Callable[[], T]) -> T:
        async with self._slots:
            self.running += 1
            self.runs += 1
            self.peak = max(self.peak, self.running)
            try:
                return await asyncio.to_thread(work)
            finally:
                self.running -= 1

    async def hash(self, password: str) -> str:
        return await self._run(lambda: _hasher.hash(password))

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """False for a wrong password and for no account at all (after the same work)."""

        def check() -> bool:
            try:
                return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
            except (VerificationError, InvalidHashError):
                return False

        return await self._run(check)
