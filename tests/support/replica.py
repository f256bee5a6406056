"""A real hot-standby replica of the test session's PostgreSQL, for the tests of public reads on a replica.

Made with the primary's own binaries: `pg_basebackup -R` over the primary's socket (initdb's default pg_hba
trusts local replication connections) with a physical slot, so the primary keeps the WAL while the replica is
stopped by a test; started with `hot_standby=on` on its own socket directory. Session-scoped and requested
only by the tests that need it, so no other test pays for it.
"""

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import asyncpg
import pytest

SLOT = "tt_test_replica"
_LSN = "select pg_wal_lsn_diff({}, '0/0')::bigint"


def _postgres_bin_dir() -> Path:
    """The binaries of the embedded server (core/db.py EmbeddedPostgres) the primary runs on."""
    from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

    return Path(POSTGRES_BIN_PATH)


class Replica:
    """The standby: DSNs for a database on it, stop/start for outage tests, replay pause for lag tests."""

    def __init__(self, primary_dsn: str, workdir: Path, system_user: str | None, port: int) -> None:
        self.primary_dsn = primary_dsn
        self.workdir = workdir
        self.data = workdir / "data"
        self.system_user = system_user
        self.port = port

    def _run(self, *args: str) -> None:
        command = [str(_postgres_bin_dir() / args[0]), *args[1:]]
        result = subprocess.run(command, capture_output=True, text=True, user=self.system_user, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr or result.stdout}")

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@/{quote(database)}?host={self.workdir}&port={self.port}"

    def start(self) -> None:
        options = f"-h '' -k {self.workdir} -p {self.port} -c hot_standby=on"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.workdir / "log"), "-w", "-o", options, "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    async def caught_up(self, within: float = 30.0) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        primary = await asyncpg.connect(self.primary_dsn)
        try:
            target = await primary.fetchval(_LSN.format("pg_current_wal_lsn()"))
        finally:
            await primary.close()
        deadline = time.monotonic() + within
        while True:
            try:
                conn = await asyncpg.connect(self.dsn("postgres"))
                try:
                    replayed = await conn.fetchval(_LSN.format("pg_last_wal_replay_lsn()"))
                finally:
                    await conn.close()
                if replayed is not None and replayed >= target:
                    return
            except (OSError, asyncpg.PostgresError):
                pass  # still starting
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not catch up with the primary")
            await asyncio.sleep(0.05)

    async def _call(self, function: str) -> None:
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            await conn.execute(f"select {function}()")
        finally:
            await conn.close()

    async def pause_replay(self) -> None:
        """The replica keeps answering, from before every write from now on (a lagging replica)."""
        await self._call("pg_wal_replay_pause")

    async def resume_replay(self) -> None:
        await self._call("pg_wal_replay_resume")


@pytest.fixture(scope="session")
async def replica(postgres_server: str) -> AsyncIterator[Replica]:
    """A hot standby of the session's primary (started on first use, removed at the end of the session)."""
    admin = await asyncpg.connect(postgres_server)
    try:
        data_directory = Path(await admin.fetchval("show data_directory"))
        port = int(await admin.fetchval("show port"))
        sockets = str(await admin.fetchval("show unix_socket_directories")).split(",")[0].strip()
    finally:
        await admin.close()
    owner = (await asyncio.to_thread(data_directory.stat)).st_uid
    system_user = pwd.getpwuid(owner).pw_name if owner != os.geteuid() else None
    workdir = Path(tempfile.mkdtemp(prefix="tt-replica-"))  # short: a socket path has a length limit
    os.chown(workdir, owner, -1)
    replica_ = Replica(postgres_server, workdir, system_user, port + 1)
    host = sockets or "127.0.0.1"
    await asyncio.to_thread(
        replica_._run,
        "pg_basebackup",
        *("-h", host, "-p", str(port), "-U", "postgres", "-D", str(replica_.data)),
        *("-R", "-X", "stream", "-c", "fast", "-C", "-S", SLOT),
    )
    await asyncio.to_thread(replica_.start)
    try:
        await replica_.caught_up()
        yield replica_
    finally:
        with contextlib.suppress(RuntimeError):  # a test left it stopped
            await asyncio.to_thread(replica_._run, "pg_ctl", "-D", str(replica_.data), "-m", "immediate", "stop")
        admin = await asyncpg.connect(postgres_server)
        try:
            await admin.execute("select pg_drop_replication_slot($1)", SLOT)
        finally:
            await admin.close()
        shutil.rmtree(workdir, ignore_errors=True)
