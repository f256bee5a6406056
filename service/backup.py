"""Backups that restore: PostgreSQL's own pg_dump (custom format, one consistent snapshot) to the media store.

Each backup is `backups/<UTC time>.dump` with `backups/<UTC time>.json`, a manifest (size, sha256, created,
server version). The newest `keep` are kept. `restore` fetches one, checks its sha256, and pg_restore loads it
in one transaction into an empty database (a non-empty one only with force, which empties it first), so a
failed restore leaves nothing half-written.

The binaries are the embedded server's own (pgserver ships pg_dump and pg_restore next to postgres), or the
PATH's when pgserver is not installed; pg_dump must be at least the server's major version.
"""

import asyncio
import hashlib
import logging
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import msgspec

from service.core.errors import ServiceError
from service.storage import MediaStore

log = logging.getLogger("service.backup")

PREFIX = "backups/"


class BackupError(ServiceError):
    status, code, title = 500, "backup_failed", "Backup failed"


class RestoreRefused(ServiceError):
    status, code, title = 409, "database_not_empty", "Conflict"


class BackupNotFound(ServiceError):
    status, code, title = 404, "backup_not_found", "Not found"


class BackupManifest(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    size: int
    sha256: str
    created: datetime
    server_version: str
    format: str = "pg_dump custom (-Fc)"


def pg_binary(name: str) -> str:
    """pgserver's copy (the embedded server's own version) when installed, else the PATH's."""
    try:
        from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-not-found,unused-ignore]

        bundled = Path(POSTGRES_BIN_PATH) / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} not found: install pgserver or the PostgreSQL client tools", code="no_pg_tools")
    return found


async def _run(*command: str) -> None:
    """A PostgreSQL tool as a subprocess (never blocking the event loop); its stderr becomes the error."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed: {stderr.decode(errors='replace').strip()[-2000:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_key(dump_key: str) -> str:
    return dump_key.removesuffix(".dump") + ".json"


async def backup(dsn: str, store: MediaStore, *, keep: int) -> BackupManifest:
    """Dump, store the dump and then its manifest (a manifest means a whole dump), then prune old ones."""
    conn = await asyncpg.connect(dsn)
    try:
        version: str = await conn.fetchval("show server_version")
    finally:
        await conn.close()
    created = datetime.now(UTC)
    key = f"{PREFIX}{created:%Y%m%dT%H%M%S%fZ}.dump"
    with tempfile.TemporaryDirectory(prefix="backup-") as folder:
        target = Path(folder) / "db.dump"
        await _run(pg_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                   f"--file={target}", f"--dbname={dsn}")  # fmt: skip
        sha = await asyncio.to_thread(_sha256, target)
        size = target.stat().st_size
        await store.put_file(key, target, "application/octet-stream")
    manifest = BackupManifest(key=key, size=size, sha256=sha, created=created, server_version=version)
    await store.put_bytes(manifest_key(key), msgspec.json.encode(manifest), "application/json")
    await prune(store, keep)
    log.info("backup %s written (%d bytes)", key, size)
    return manifest


async def backups(store: MediaStore) -> list[BackupManifest]:
    """The complete backups (those with a manifest), oldest first."""
    found = []
    for key in await store.keys(PREFIX):
        if key.endswith(".json"):
            with tempfile.TemporaryDirectory(prefix="backup-") as folder:
                path = Path(folder) / "manifest.json"
                await store.get_file(key, path)
                found.append(msgspec.json.decode(path.read_bytes(), type=BackupManifest))
    return sorted(found, key=lambda m: m.key)


async def prune(store: MediaStore, keep: int) -> int:
    """Delete all but the newest `keep` backups; dumps without a manifest (a backup that died) go too."""
    complete = await backups(store)
    kept = {m.key for m in complete[-keep:]}
    removed = 0
    for key in await store.keys(PREFIX):
        dump = key if key.endswith(".dump") else key.removesuffix(".json") + ".dump"
        if dump not in kept:
            await store.delete(key)
            removed += key.endswith(".dump")
    return removed


async def _is_empty(conn: asyncpg.Connection) -> bool:
    tables: int = await conn.fetchval(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p')"
    )
    return tables == 0


async def restore(dsn: str, store: MediaStore, key: str | None = None, *, force: bool = False) -> BackupManifest:
    """Load a backup (the newest when no key) into the database at dsn, which must be empty unless forced."""
    complete = await backups(store)
    if not complete:
        raise BackupNotFound("no backup in the media store", code="no_backup")
    chosen = complete[-1] if key is None else next((m for m in complete if key in {m.key, manifest_key(m.key)}), None)
    if chosen is None:
        raise BackupNotFound(f"no backup {key!r}; known: {', '.join(m.key for m in complete)}")
    with tempfile.TemporaryDirectory(prefix="restore-") as folder:
        path = Path(folder) / "db.dump"
        await store.get_file(chosen.key, path)
        if await asyncio.to_thread(_sha256, path) != chosen.sha256:
            raise BackupError(f"{chosen.key} does not match its manifest's sha256: not restored", code="corrupt")
        conn = await asyncpg.connect(dsn)
        try:
            if not await _is_empty(conn):
                if not force:
                    raise RestoreRefused("the database is not empty: restore into an empty one, or pass --force")
                await conn.execute("drop schema public cascade; create schema public")
        finally:
            await conn.close()
        await _run(pg_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                   "--single-transaction", f"--dbname={dsn}", str(path))  # fmt: skip
    log.info("restored %s", chosen.key)
    return chosen
