"""A fresh database and a folder holding only the migrations before a given number, to test what a later
migration does to data written under the earlier schema."""

import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from service.core.migrate import MIGRATIONS_DIR
from tests.conftest import with_database


@asynccontextmanager
async def database_before(postgres_server: str, folder: Path, number: int) -> AsyncIterator[tuple[str, Path]]:
    """(dsn of an empty database, a folder of the migrations numbered below `number`); dropped afterwards."""
    before = folder / "before"
    before.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < number:
            shutil.copy(path, before / path.name)
    name = f"t_old_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'create database "{name}"')
        yield with_database(postgres_server, name), before
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()
