"""Scan recording: buffered in memory on the hot path, flushed in batches by a background task.

`ScanRecorder.record` costs a dict lookup and a list append, so a resolve never waits for the
database. A task flushes the buffer four times a second (or sooner when it fills) in one transaction:
scan rows (COPY), the per-day rollups (per batch, and per batch and the scanning phone's estimated commune),
unit counters and scan alerts. On shutdown the buffer is flushed before the pool closes, so a graceful stop
loses nothing. While the database is away,
what could not be written waits on local disk (spool.py) and is replayed in order, exactly once, when it is
back; nothing waits in memory for longer than one flush.

Positions and user agents come from the client and prove nothing: too many scans or an impossible
journey raise an alert for the owner and inspectors to review (oversight/), never a public verdict.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, NamedTuple

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core import clock
from service.core.errors import InvalidInput
from service.traceability.registry.commune_centres import commune_at
from service.traceability.scan.spool import SCANS_REFUSED, ScanSpool, forget_file, record_replayed, replayed_offset
from service.traceability.scan.units import owned_batch

log = logging.getLogger("service.traceability.scans")

# what a lost database connection looks like (a refused connect, a reset socket, a closed connection)
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
# chunks (about a MiB each) replayed from the spool per flush, so new scans are not held up behind a long replay
_REPLAY_CHUNKS_PER_FLUSH = 16
# scans encoded for COPY between two turns of the event loop (a few hundred microseconds of work)
COPY_TURN = 100

UAClass = Literal["android", "ios", "desktop", "app", "bot", "other"]

_BOT = re.compile(r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|headless", re.IGNORECASE)
_APP = re.compile(r"TraceTour", re.IGNORECASE)
_IOS = re.compile(r"iPhone|iPad|iPod")
_DESKTOP = re.compile(r"Windows NT|Macintosh|X11|CrOS")


def classify_user_agent(user_agent: str) -> UAClass:
    """A coarse class; the raw user agent is never stored."""
    if _BOT.search(user_agent):
        return "bot"
    if _APP.search(user_agent):
        return "app"
    if "Android" in user_agent:
        return "android"
    if _IOS.search(user_agent):
        return "ios"
    if _DESKTOP.search(user_agent):
        return "desktop"
    return "other"


def coarse_position(raw: str | None) -> tuple[float, float] | None:
    """'lat,lon' -> rounded to 0.01 degree (about 1 km); anything unusable is ignored, not an error."""
    if not raw or len(raw) > 64:
        return None
    parts = raw.split(",")
    if len(parts) != 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(lat, 2), round(lon, 2)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class Scan(NamedTuple):
    batch_id: uuid.UUID
    unit_id: uuid.UUID | None
    scanned_at: datetime
    lat: float | None
    lon: float | None
    ua_class: str
    counted: bool
    client: bytes  # the daily client digest, for the dedup across workers (never stored with the scan)


SCAN_COLUMNS = ["batch_id", "unit_id", "scanned_at", "lat", "lon", "ua_class", "counted"]


def scan_client_secret(server_secret: str) -> bytes:
    """The key client digests come from: derived from the server secret, so one never stands for the other."""
    return hmac.new(server_secret.encode(), b"trace-tour/scan-client-digest/v1", hashlib.sha256).digest()


def daily_salt(secret: bytes, day: date) -> bytes:
    """The same on every worker and machine for one local day; unlinkable across days."""
    return hmac.new(secret, f"trace-tour/scan-client/{day.isoformat()}".encode(), hashlib.sha256).digest()


class CounterfeitRules(msgspec.Struct, frozen=True, kw_only=True):
    """When a unit's scans deserve a person's look: too many distinct scans, or two places too far apart."""

    max_scans: int = 30
    max_speed_kmh: float = 900.0  # faster than an airliner, gate to gate
    min_distance_km: float = 100.0  # positions are coarse; nearby jumps are noise
    dedup_seconds: float = 600.0
    # clients remembered for dedup; past this the oldest are forgotten (their next scan counts again)
    dedup_capacity: int = 100_000


class ScanRecorder:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        secret: bytes | None = None,
        rules: CounterfeitRules | None = None,
        flush_interval: float = 0.25,
        flush_size: int = 1_000,
        max_buffer: int = 200_000,
        spool: "ScanSpool[Scan] | None" = None,
    ) -> None:
        self.pool = pool
        self.spool = spool
        self.rules = rules or CounterfeitRules()
        self.flush_interval = flush_interval
        self.flush_size = flush_size
        self.max_buffer = max_buffer
        self._buffer: list[Scan] = []
        # (unit or batch, client) -> when it last counted, oldest first: bounded, O(1) per scan
        self._recent: OrderedDict[tuple[uuid.UUID, bytes], float] = OrderedDict()
        # client digests are equal across workers (one secret) and unlinkable across days (a daily salt)
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self._salt_day: date | None = None
        self._salt = b""
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def record(
        self,
        *,
        batch_id: uuid.UUID,
        unit_id: uuid.UUID | None,
        client_address: str,
        user_agent: str,
        position: tuple[float, float] | None,
    ) -> None:
        """Buffer one scan; never blocks, never touches the database."""
        ua_class = classify_user_agent(user_agent)
        now = time.monotonic()
        today = clock.today()
        if today != self._salt_day:
            self._salt, self._salt_day = daily_salt(self._secret, today), today
        client = hmac.new(self._salt, f"{client_address}|{user_agent}".encode(), hashlib.sha256).digest()[:16]
        key = (unit_id or batch_id, client)
        last = self._recent.get(key)
        counted = ua_class != "bot" and (last is None or now - last >= self.rules.dedup_seconds)
        if counted:
            self._remember(key, now)
        lat, lon = position if position else (None, None)
        self._buffer.append(Scan(batch_id, unit_id, datetime.now(UTC), lat, lon, ua_class, counted, client))
        if len(self._buffer) > self.max_buffer:
            del self._buffer[: len(self._buffer) - self.max_buffer]
            log.warning("scan buffer full: dropped the oldest scans")
        if len(self._buffer) >= self.flush_size:
            self._wake.set()

    def _remember(self, key: tuple[uuid.UUID, bytes], now: float) -> None:
        """Move the key to the newest end; past the cap, drop the oldest: O(1), never a rebuild."""
        recent = self._recent
        recent[key] = now
        recent.move_to_end(key)
        window = self.rules.dedup_seconds
        while recent:
            oldest = next(iter(recent.values()))
            if len(recent) <= self.rules.dedup_capacity and now - oldest < window:
                break
            recent.popitem(last=False)

    @property
    def remembered_clients(self) -> int:
        return len(self._recent)

    @property
    def pending(self) -> int:
        return len(self._buffer)

    @property
    def idle(self) -> bool:
        """Nothing buffered, nothing waiting on disk and no flush running."""
        return not self._buffer and not self._lock.locked() and (self.spool is None or self.spool.empty)

    async def flush(self) -> int:
        """Write what waits on disk, then what is buffered; what cannot be written now waits in the spool."""
        async with self._lock:
            batch, self._buffer = self._buffer, []
            spool = self.spool
            if spool is not None and not spool.empty:
                if batch:  # behind the scans already waiting, so they are written in order
                    await self._to_spool(spool, batch)
                return await self._replay(spool)
            if not batch:
                return 0
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    await write_scans(conn, batch, self.rules)  # type: ignore[arg-type]
            except _DB_ERRORS as exc:
                if spool is None:
                    log.warning("scan flush failed, will retry: %s", exc)
                    self._buffer[:0] = batch
                else:
                    log.warning("scan flush failed, %d scans wait in the spool: %s", len(batch), exc)
                    await self._to_spool(spool, batch)
                return 0
            return len(batch)

    async def _to_spool(self, spool: "ScanSpool[Scan]", batch: list[Scan]) -> None:
        try:
            await asyncio.to_thread(spool.append, batch)
        except OSError:  # the disk itself fails: keep them in memory (bounded by max_buffer)
            log.exception("cannot write the scan spool; %d scans wait in memory", len(batch))
            self._buffer[:0] = batch

    async def _replay(self, spool: "ScanSpool[Scan]") -> int:
        """Oldest first, a chunk per transaction together with the file's offset: never a scan twice."""
        written = 0
        chunks = 0
        for spool_file in spool.files:
            name = spool_file.path.name
            while chunks < _REPLAY_CHUNKS_PER_FLUSH:
                try:
                    async with self.pool.acquire() as conn, conn.transaction():
                        offset = await replayed_offset(conn, name)  # type: ignore[arg-type]
                        scans, new_offset = await asyncio.to_thread(spool_file.read_chunk, offset)
                        scans = await _still_registered(conn, scans)  # type: ignore[arg-type]
                        if scans:
                            await write_scans(conn, scans, self.rules)  # type: ignore[arg-type]
                        if new_offset != offset:
                            await record_replayed(conn, name, new_offset)  # type: ignore[arg-type]
                except _DB_ERRORS as exc:
                    log.warning("spooled scans wait for the database: %s", exc)
                    return written
                written += len(scans)
                chunks += 1
                if new_offset == offset:  # all of it is in the database
                    await asyncio.to_thread(spool.done, spool_file)
                    with contextlib.suppress(*_DB_ERRORS):
                        async with self.pool.acquire() as conn:
                            await forget_file(conn, name)  # type: ignore[arg-type]
                    log.info("replayed a scan spool file", extra={"fields": {"file": name}})
                    break
        return written

    async def _run(self) -> None:
        if self.spool is not None:
            await asyncio.to_thread(self.spool.adopt_orphans)  # scans a stopped worker could not write
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.flush_interval)
            self._wake.clear()
            await self.flush()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scan-flusher")

    async def close(self) -> None:
        """Stop the loop, then flush what is left (graceful shutdown loses nothing)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        spool = self.spool
        for _ in range(3):
            await self.flush()
            if not self._buffer and (spool is None or spool.empty):
                break
        if spool is not None:
            if self._buffer:
                await self._to_spool(spool, self._buffer)
                self._buffer = []
            await asyncio.to_thread(spool.close)
        if self._buffer:
            log.error("scan flush on shutdown failed: %d scans lost", len(self._buffer))


async def _still_registered(conn: asyncpg.Connection, scans: list[Scan]) -> list[Scan]:
    """Spooled scans of batches or units that no longer exist (a database restored from an older backup) are
    dropped with a count, instead of blocking the replay of every scan behind them."""
    if not scans:
        return scans
    batches = {
        row["id"]
        for row in await conn.fetch(
            "select id from batches where id = any($1::uuid[])", list({s.batch_id for s in scans})
        )
    }
    unit_ids = list({s.unit_id for s in scans if s.unit_id is not None})
    units = (
        {row["id"] for row in await conn.fetch("select id from units where id = any($1::uuid[])", unit_ids)}
        if unit_ids
        else set()
    )
    kept = [s for s in scans if s.batch_id in batches and (s.unit_id is None or s.unit_id in units)]
    if len(kept) < len(scans):
        SCANS_REFUSED.inc(len(scans) - len(kept))
        log.error("%d spooled scans name batches or units that no longer exist: dropped", len(scans) - len(kept))
    return kept


# --- the flush: one transaction ------------------------------------------------------------------


async def write_scans(conn: asyncpg.Connection, scans: list[Scan], rules: CounterfeitRules) -> None:
    scans = await dedup_across_workers(conn, scans, rules.dedup_seconds)
    await conn.copy_records_to_table("scans", records=copy_rows_in_turns(scans), columns=SCAN_COLUMNS)
    daily: dict[tuple[uuid.UUID, date], int] = defaultdict(int)
    per_unit: dict[uuid.UUID, list[Scan]] = defaultdict(list)
    for scan in scans:
        if scan.counted:
            daily[(scan.batch_id, scan.scanned_at.astimezone(clock.VN_TZ).date())] += 1
            if scan.unit_id is not None:
                per_unit[scan.unit_id].append(scan)
    if daily:
        keys = list(daily)
        await conn.execute(
            """
            insert into scan_daily (batch_id, day, scans)
            select * from unnest($1::uuid[], $2::date[], $3::int[])
            on conflict (batch_id, day) do update set scans = scan_daily.scans + excluded.scans
            """,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [daily[k] for k in keys],
        )
    first_scans = await _update_units(conn, per_unit, rules) if per_unit else []
    await _count_by_phone_commune(conn, [scan for scan in scans if scan.counted], first_scans)


async def copy_rows_in_turns(scans: list[Scan]) -> AsyncIterator[tuple[Any, ...]]:
    """The rows for COPY, handing the event loop back every COPY_TURN scans.

    asyncpg encodes the rows as it reads them, in the worker's only thread: a flush's thousand rows were one
    step of the event loop, and no request of the worker was answered until it ended (5-20 ms of wall time under
    the resolver benchmark, flush steps timed in a worker). Read in turns, requests are answered in between.
    """
    for i, scan in enumerate(scans):
        if i and not i % COPY_TURN:
            await asyncio.sleep(0)
        yield scan[: len(SCAN_COLUMNS)]


def phone_commune(scan: Scan) -> str:
    """The commune the scanning phone was probably in (nearest commune centre), '' when unknown."""
    if scan.lat is None or scan.lon is None:
        return ""
    return commune_at(scan.lat, scan.lon) or ""


async def _count_by_phone_commune(conn: asyncpg.Connection, counted: list[Scan], first_scans: list[Scan]) -> None:
    """Counted scans and units' first scans per batch, local day and phone commune: counts only, no position."""
    totals: dict[tuple[uuid.UUID, date, str], list[int]] = defaultdict(lambda: [0, 0])
    for scan in counted:
        totals[(scan.batch_id, scan.scanned_at.astimezone(clock.VN_TZ).date(), phone_commune(scan))][0] += 1
    for scan in first_scans:
        totals[(scan.batch_id, scan.scanned_at.astimezone(clock.VN_TZ).date(), phone_commune(scan))][1] += 1
    if not totals:
        return
    keys = sorted(totals)  # the same order in every worker's flush: concurrent upserts never deadlock
    await conn.execute(
        """
        insert into scan_commune_daily as c (batch_id, day, commune_code, scans, first_scans)
        select * from unnest($1::uuid[], $2::date[], $3::text[], $4::int[], $5::int[])
        on conflict (batch_id, day, commune_code)
        do update set scans = c.scans + excluded.scans, first_scans = c.first_scans + excluded.first_scans
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [totals[k][0] for k in keys],
        [totals[k][1] for k in keys],
    )


async def dedup_across_workers(conn: asyncpg.Connection, scans: list[Scan], window_seconds: float) -> list[Scan]:
    """Keep `counted` only for scans whose (unit or batch, client) key was not counted inside the window by
    any worker: one upsert per flush, never a round trip on the hot path."""
    first: dict[tuple[uuid.UUID, bytes], Scan] = {}
    for scan in scans:
        if scan.counted:
            first.setdefault((scan.unit_id or scan.batch_id, scan.client), scan)
    if not first:
        return scans
    keys = list(first)
    won = await conn.fetch(
        """
        insert into scan_dedup as d (target, client, counted_at)
        select * from unnest($1::uuid[], $2::bytea[], $3::timestamptz[])
        on conflict (target, client) do update set counted_at = excluded.counted_at
        where d.counted_at <= excluded.counted_at - make_interval(secs => $4)
        returning target, client
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [first[k].scanned_at for k in keys],
        window_seconds,
    )
    counted = {id(first[(row["target"], bytes(row["client"]))]) for row in won}
    return [scan if id(scan) in counted or not scan.counted else scan._replace(counted=False) for scan in scans]


async def purge_dedup_keys(conn: asyncpg.Connection, window_seconds: float) -> int:
    """Keys older than the window decide nothing any more."""
    status = await conn.execute(
        "delete from scan_dedup where counted_at < now() - make_interval(secs => $1)", window_seconds
    )
    return int(status.split()[-1])


async def _update_units(
    conn: asyncpg.Connection, per_unit: dict[uuid.UUID, list[Scan]], rules: CounterfeitRules
) -> list[Scan]:
    """Counters and last position per unit; suspicious patterns become alerts for review, never a flag.
    Returns the scans that were their unit's first counted scan."""
    rows = await conn.fetch(
        """
        select id, batch_id, scan_count, first_scanned_at, last_lat, last_lon, last_located_at
        from units where id = any($1::uuid[]) order by id for update
        """,
        list(per_unit),
    )
    updates: list[tuple[Any, ...]] = []
    alerts: list[tuple[uuid.UUID, uuid.UUID, str, dict[str, Any]]] = []
    first_scans: list[Scan] = []
    for row in rows:
        count, first = row["scan_count"], row["first_scanned_at"]
        last_pos = (row["last_lat"], row["last_lon"]) if row["last_lat"] is not None else None
        located_at: datetime | None = row["last_located_at"]
        last_time = first
        too_many_raised = count > rules.max_scans
        for scan in per_unit[row["id"]]:
            count += 1
            if first is None:
                first = scan.scanned_at
                first_scans.append(scan)
            last_time = scan.scanned_at
            if scan.lat is not None and scan.lon is not None:
                here = (scan.lat, scan.lon)
                if last_pos is not None and located_at is not None:
                    km = distance_km(last_pos, here)
                    hours = max((scan.scanned_at - located_at).total_seconds() / 3600, 1 / 3600)
                    if km >= rules.min_distance_km and km / hours > rules.max_speed_kmh:
                        details = {"km": round(km), "hours": round(hours, 2), "untrusted": "client-supplied positions"}
                        alerts.append((row["batch_id"], row["id"], "impossible_travel", details))
                last_pos, located_at = here, scan.scanned_at
            if count > rules.max_scans and not too_many_raised:
                alerts.append((row["batch_id"], row["id"], "too_many_scans", {"scans": count}))
                too_many_raised = True
        updates.append((row["id"], count, first, last_time, *(last_pos or (None, None)), located_at))
    await conn.executemany(
        """
        update units set scan_count = $2, first_scanned_at = $3, last_scanned_at = $4,
            last_lat = $5, last_lon = $6, last_located_at = $7
        where id = $1
        """,
        updates,
    )
    if alerts:
        await conn.executemany(
            """
            insert into scan_alerts (batch_id, unit_id, reason, details) values ($1, $2, $3, $4)
            on conflict (unit_id, reason) do nothing
            """,
            alerts,
        )
    return first_scans


# --- reads ---------------------------------------------------------------------------------------


class DailyScans(msgspec.Struct, kw_only=True):
    day: date
    scans: int


class BatchScans(msgspec.Struct, kw_only=True):
    batch_id: uuid.UUID
    total: int
    days: list[DailyScans]


async def daily_scans(conn: asyncpg.Connection, batch_id: uuid.UUID, since: date, until: date) -> list[DailyScans]:
    rows = await conn.fetch(
        "select day, scans from scan_daily where batch_id = $1 and day between $2 and $3 order by day",
        batch_id,
        since,
        until,
    )
    return msgspec.convert([dict(r) for r in rows], list[DailyScans])


async def batch_scan_counts(
    conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, since: date | None, until: date | None
) -> BatchScans:
    """Counted scans per local day for the batch's own organization; by default the last 90 days."""
    await owned_batch(conn, user, batch_id)
    until = until or clock.today()
    since = since or until - timedelta(days=89)
    if since > until or (until - since).days > 3660:
        raise InvalidInput("since must be before until, at most ten years apart", code="invalid_range")
    days = await daily_scans(conn, batch_id, since, until)
    return BatchScans(batch_id=batch_id, total=sum(d.scans for d in days), days=days)
