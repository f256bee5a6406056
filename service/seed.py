"""Demo data for `make run`: each domain seeds its own part; running it twice changes nothing."""

import asyncpg

from service.settings import Settings
from service.storage import MediaStore
from service.tourism.seed import seed_tourism
from service.traceability.seed import seed_traceability


async def seed_demo(conn: asyncpg.Connection, settings: Settings, store: MediaStore | None = None) -> str:
    """Load the demo data of both domains; returns a summary for the terminal.

    The CLI passes the configured media store, so seed audio and models become media items; without
    one (tests that only need content) tracks point at the shipped files.
    """
    lines = [
        await seed_traceability(conn, settings),
        await seed_tourism(conn, store, settings),
    ]
    return "\n".join(lines)
