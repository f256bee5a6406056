"""Demo data for `make run`: each domain seeds its own part; running it twice changes nothing."""

import asyncpg

from service.settings import Settings


async def seed_demo(conn: asyncpg.Connection, settings: Settings) -> str:
    """Load the demo data of both domains; returns a one-line summary."""
    return "demo seed: nothing to seed yet"
