"""Scans wait on local disk while the database is away: append-only files, replayed in order, exactly once.

Each worker process appends what it could not write to a file of its own (`<pid>-<uuid>.jsonl`, one JSON array
per scan and line), fsync'd once per flush attempt, never per scan. The file is created under a temporary
name, locked (flock, exclusive) and only then renamed, so a file with the final name is either held by a live
worker or left by a dead one: a worker starting takes every unlocked file as its own and replays it.

Replay goes in chunks, each in one transaction with the file's replayed offset (table scan_spool_replays), so
a worker dying mid-replay, or another one adopting the file, never writes a scan twice. A fully replayed file
is truncated and removed. Past `max_bytes` the spool refuses scans; they are counted and logged.
"""

import contextlib
import fcntl
import logging
import os
import uuid
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

import asyncpg
import msgspec
from prometheus_client import Counter

log = logging.getLogger("service.traceability.scan_spool")

SCANS_REFUSED = Counter("trace_tour_scans_refused", "Scans refused because the local spool was full")
SCANS_SPOOLED = Counter("trace_tour_scans_spooled", "Scans written to the local spool while the database was away")
CHUNK_BYTES = 1 << 20
SUFFIX = ".jsonl"

_encoder = msgspec.json.Encoder()
T = TypeVar("T")


class SpoolFile(Generic[T]):
    """One locked file: this process's own, or one adopted from a process that died."""

    def __init__(self, path: Path, handle: BinaryIO, decoder: "msgspec.json.Decoder[T]") -> None:
        self.path = path
        self.handle = handle
        self.decoder = decoder

    @property
    def size(self) -> int:
        return os.fstat(self.handle.fileno()).st_size

    def read_chunk(self, offset: int) -> tuple[list[T], int]:
        """Whole lines from `offset` (about CHUNK_BYTES); the new offset. A torn last line is skipped."""
        self.handle.seek(offset)
        data = self.handle.read(CHUNK_BYTES)
        end = data.rfind(b"\n") + 1
        if end == 0:
            if data:  # a line cut by a crash (or a line longer than a chunk, which we never write)
                log.warning("skipped a torn line in %s", self.path.name)
                return [], offset + len(data)
            return [], offset
        scans: list[T] = []
        for line in data[:end].splitlines():
            try:
                scans.append(self.decoder.decode(line))
            except msgspec.DecodeError:
                log.warning("skipped an unreadable line in %s", self.path.name)
        return scans, offset + end

    def remove(self) -> None:
        """Truncate first: a worker that opened the path before the unlink then finds nothing to replay."""
        self.handle.truncate(0)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.handle.close()


class ScanSpool(Generic[T]):
    """The spool directory as this worker sees it; every method blocks (call them with asyncio.to_thread).

    Generic over what a line holds (scans.Scan, a NamedTuple msgspec writes as a JSON array).
    """

    def __init__(self, directory: str | Path, item_type: type[T], *, max_bytes: int) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(item_type)
        self._own: SpoolFile[T] | None = None
        self._adopted: list[SpoolFile[T]] = []
        self.refused = 0

    @property
    def files(self) -> list[SpoolFile[T]]:
        """Oldest first: files adopted from dead workers, then this worker's own."""
        return self._adopted + ([self._own] if self._own is not None else [])

    @property
    def empty(self) -> bool:
        return not self._adopted and (self._own is None or self._own.size == 0)

    def adopt_orphans(self) -> int:
        """Lock every file no live worker holds; returns how many were taken."""
        if not self.directory.is_dir():
            return 0
        taken = 0
        for path in sorted(self.directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime):
            if self._own is not None and path == self._own.path:
                continue
            handle = open(path, "r+b")  # noqa: SIM115 - kept open: the lock lives as long as the handle
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()  # a live worker's
                continue
            self._adopted.append(SpoolFile(path, handle, self._decoder))
            taken += 1
        if taken:
            log.warning("adopted %d scan spool file(s) left by a stopped worker", taken)
        return taken

    def _own_file(self) -> SpoolFile[T]:
        if self._own is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{os.getpid()}-{uuid.uuid4().hex}"
            temporary = self.directory / f"{name}.tmp"
            handle = open(temporary, "a+b")  # noqa: SIM115 - kept open: the lock lives as long as the handle
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            final = self.directory / f"{name}{SUFFIX}"
            temporary.rename(final)  # only now may another worker see it, already locked
            self._own = SpoolFile(final, handle, self._decoder)
        return self._own

    def append(self, scans: list[T]) -> int:
        """Write what fits under max_bytes, fsync once; returns how many were refused."""
        total = sum(f.size for f in self.files)
        lines: list[bytes] = []
        for scan in scans:
            line = _encoder.encode(scan) + b"\n"
            if total + len(line) > self.max_bytes:
                break
            total += len(line)
            lines.append(line)
        refused = len(scans) - len(lines)
        if lines:
            own = self._own_file()
            own.handle.seek(0, os.SEEK_END)
            own.handle.write(b"".join(lines))
            own.handle.flush()
            os.fsync(own.handle.fileno())
            SCANS_SPOOLED.inc(len(lines))
        if refused:
            self.refused += refused
            SCANS_REFUSED.inc(refused)
            log.error("scan spool full (%d bytes): %d scans refused", self.max_bytes, refused)
        return refused

    def done(self, spool_file: SpoolFile[T]) -> None:
        """A fully replayed file is removed; this worker's next failure starts a new one."""
        spool_file.remove()
        if spool_file is self._own:
            self._own = None
        else:
            self._adopted.remove(spool_file)

    def close(self) -> None:
        """Release the locks; an empty own file is removed, anything else waits for the next worker."""
        for spool_file in self.files:
            if spool_file.size == 0:
                spool_file.remove()
            else:
                spool_file.handle.close()
                log.warning("%s keeps scans for the next worker", spool_file.path.name)
        self._own, self._adopted = None, []


async def replayed_offset(conn: asyncpg.Connection, file_name: str) -> int:
    """How far the file has been replayed, locked until the transaction ends."""
    offset: int | None = await conn.fetchval(
        "select replayed_bytes from scan_spool_replays where file_name = $1 for update", file_name
    )
    return offset or 0


async def record_replayed(conn: asyncpg.Connection, file_name: str, offset: int) -> None:
    await conn.execute(
        """
        insert into scan_spool_replays (file_name, replayed_bytes) values ($1, $2)
        on conflict (file_name) do update set replayed_bytes = excluded.replayed_bytes, updated_at = now()
        """,
        file_name,
        offset,
    )


async def forget_file(conn: asyncpg.Connection, file_name: str) -> None:
    await conn.execute("delete from scan_spool_replays where file_name = $1", file_name)
