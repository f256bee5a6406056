"""The migration runner against the real server: order, checksums, concurrency."""

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from service.core.migrate import MIGRATIONS_DIR, MigrationError, migrate
from tests.conftest import with_database


@pytest.fixture
async def empty_db(postgres_server: str) -> AsyncIterator[str]:
    """A database with no schema at all, unlike the per-test clones of the migrated template."""
    name = f"m_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'create database "{name}"')
        yield with_database(postgres_server, name)
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def test_every_migration_applies_once(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        applied = await migrate(conn)
        assert applied == sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
        assert await migrate(conn) == []
        count = await conn.fetchval("select count(*) from schema_migrations")
        assert count == len(applied)
    finally:
        await conn.close()


async def test_edited_migration_is_refused(empty_db: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    conn = await asyncpg.connect(empty_db)
    try:
        await migrate(conn, folder)
        first = sorted(folder.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited later\n")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await migrate(conn, folder)
    finally:
        await conn.close()


async def test_failed_migration_leaves_nothing_behind(empty_db: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_good.sql").write_text("create table good (id int);")
    (folder / "0002_bad.sql").write_text("create table half (id int); select 1/0;")
    conn = await asyncpg.connect(empty_db)
    try:
        with pytest.raises(asyncpg.DivisionByZeroError):
            await migrate(conn, folder)
        assert await conn.fetchval("select to_regclass('half')") is None
        assert await conn.fetchval("select to_regclass('good')") is not None
        assert await conn.fetchval("select count(*) from schema_migrations") == 1
    finally:
        await conn.close()


async def test_two_processes_migrating_at_once_is_safe(empty_db: str) -> None:
    conns = [await asyncpg.connect(empty_db) for _ in range(3)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = [name for result in results for name in result]
        assert sorted(applied) == sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql")), "each file applied exactly once"
    finally:
        for c in conns:
            await c.close()


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    from service.core.migrate import load_migrations

    (tmp_path / "1_oops.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="NNNN_description"):
        load_migrations(tmp_path)
