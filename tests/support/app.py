"""Waiting on what the app does in the background: its change feed connecting, its scan buffer flushing."""

import asyncio
from collections.abc import Awaitable, Callable

from litestar import Litestar

from service.traceability.scan.scans import ScanRecorder

# The `make_user` fixture (tests/conftest.py): a user of a role, signed in; returns auth headers plus ids.
UserFactory = Callable[..., Awaitable[dict[str, str]]]


async def feed_connected(app: Litestar) -> None:
    """Let the app's change feed finish connecting before a (short) test ends: stopping it mid-connect
    leaks the connection (service/core/changes.py), and its ResourceWarning fails a later test."""
    for _ in range(250):
        feed = getattr(app.state, "change_feed", None)
        if feed is None or feed.healthy:
            return
        await asyncio.sleep(0.02)


async def flush(app: Litestar) -> None:
    """Wait for the app's own flusher (the test client runs the app on another event loop)."""
    recorder: ScanRecorder = app.state.scan_recorder
    recorder.flush_interval = 0.02
    for _ in range(250):
        await asyncio.sleep(0.02)
        if recorder.idle:
            return
    raise AssertionError("the scan buffer was not flushed")
