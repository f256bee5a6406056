"""Forward-only migrations: migrations/NNNN_description.sql, in order, each in its own transaction."""

import hashlib
import logging
import re
from pathlib import Path

import asyncpg
import msgspec

log = logging.getLogger("service.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 0x7472_6163_6574_6F75  # "tracetou": one advisory lock for every migrating process


class MigrationError(Exception):
    """The migrations on disk and in the database disagree; the message says how."""


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str
    checksum: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations: list[Migration] = []
    seen: dict[int, str] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNNN_description.sql")
        version = int(match.group(1))
        if version in seen:
            raise MigrationError(f"{path.name} and {seen[version]} share version {version:04d}")
        seen[version] = path.name
        sql = path.read_text(encoding="utf-8")
        migrations.append(
            Migration(
                version=version,
                name=path.name,
                sql=sql,
                checksum=hashlib.sha256(sql.encode()).hexdigest(),
            )
        )
    return migrations


async def migrate(conn: asyncpg.Connection, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is missing, under an advisory lock so concurrent deployers wait for each other."""
    migrations = load_migrations(directory)
    await conn.execute("select pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """
            create table if not exists schema_migrations (
                version integer primary key,
                name text not null,
                checksum text not null,
                applied_at timestamptz not null default now()
            )
            """
        )
        rows = await conn.fetch("select version, name, checksum from schema_migrations order by version")
        applied = {row["version"]: row for row in rows}
        known = {m.version for m in migrations}
        for version, row in applied.items():
            if version not in known:
                raise MigrationError(f"the database has migration {row['name']} that is not on disk; refusing to run")
        done: list[str] = []
        for migration in migrations:
            previous = applied.get(migration.version)
            if previous is not None:
                if previous["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"{migration.name} was edited after it was applied (checksum differs); "
                        "migrations are forward-only: add a new file instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "insert into schema_migrations (version, name, checksum) values ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    migration.checksum,
                )
            log.info("applied migration", extra={"fields": {"migration": migration.name}})
            done.append(migration.name)
        return done
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK_KEY)
