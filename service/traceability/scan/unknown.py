"""Scans of a known GTIN with a lot or serial its producer never registered: counted, for people to look at.

The resolver walks such a request up to the GTIN (the product page says plainly that this lot or serial
is not in the producer's records). Each one is also counted here, per product, local day and qualifier,
without anything about the client, so the producer and inspectors can see it: a typo on a label, a lot
printed before it was registered, or a copied pack. A signal, never a verdict.

Counting is in memory on the hot path (a dict update) and written by a background task once a second;
the number of distinct qualifiers held between two flushes is capped, since anyone can invent lots.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core import clock
from service.core.counting import BatchedCounter
from service.core.errors import InvalidInput, NotFound
from service.traceability import access

MAX_PENDING_KEYS = 10_000
QUALIFIER_CHARS = 20  # GS1 AI 10 and 21 hold at most 20 characters

_Key = tuple[uuid.UUID, date, str, str]


class UnknownScan(msgspec.Struct, kw_only=True):
    product_id: uuid.UUID
    product_name: str
    gtin14: str | None
    day: date
    lot: str | None
    serial: str | None
    scans: int
    first_at: datetime
    last_at: datetime


_Held = dict[_Key, tuple[int, datetime, datetime]]


class UnknownScanCounter(BatchedCounter[_Held]):
    """Counts per (product, day, lot, serial), flushed by its own task; a graceful stop flushes what is left."""

    name = "unknown-identifier scans"

    def __init__(self, pool: asyncpg.Pool, *, flush_interval: float = 1.0) -> None:
        super().__init__(pool, flush_interval=flush_interval)
        self.dropped = 0
        self._held: _Held = {}

    def record(self, product_id: uuid.UUID, *, lot: str | None, serial: str | None) -> None:
        """Count one scan; never blocks, never touches the database."""
        now = datetime.now(UTC)
        key = (
            product_id,
            now.astimezone(clock.VN_TZ).date(),
            (lot or "")[:QUALIFIER_CHARS],
            (serial or "")[:QUALIFIER_CHARS],
        )
        held = self._held.get(key)
        if held is None:
            if len(self._held) >= MAX_PENDING_KEYS:
                self.dropped += 1  # a flood of invented lots: the counts already held still reach the database
                return
            self._held[key] = (1, now, now)
        else:
            self._held[key] = (held[0] + 1, held[1], now)

    def _take(self) -> _Held:
        taken, self._held = self._held, {}
        return taken

    def _size(self, taken: _Held) -> int:
        return len(taken)

    async def _write(self, conn: asyncpg.Connection, taken: _Held) -> None:
        await add_unknown_scans(conn, taken)

    def _give_back(self, taken: _Held) -> None:
        for key, (count, first, last) in taken.items():
            held = self._held.get(key)
            self._held[key] = (count, first, last) if held is None else (count + held[0], first, max(last, held[2]))

    def _pending(self) -> int:
        return len(self._held)


# --- queries -------------------------------------------------------------------------------------


async def add_unknown_scans(conn: asyncpg.Connection, counts: _Held) -> None:
    """One statement: add each count to its row (a product deleted meanwhile is skipped)."""
    rows = [(pid, day, lot, serial, n, first, last) for (pid, day, lot, serial), (n, first, last) in counts.items()]
    await conn.execute(
        """
        insert into unknown_identifier_scans (product_id, day, lot, serial, scans, first_at, last_at)
        select r.product_id, r.day, r.lot, r.serial, r.scans, r.first_at, r.last_at
        from unnest($1::uuid[], $2::date[], $3::text[], $4::text[], $5::int[], $6::timestamptz[], $7::timestamptz[])
             as r (product_id, day, lot, serial, scans, first_at, last_at)
        join products p on p.id = r.product_id
        on conflict (product_id, day, lot, serial) do update set
            scans = unknown_identifier_scans.scans + excluded.scans,
            last_at = greatest(unknown_identifier_scans.last_at, excluded.last_at)
        """,
        *(list(column) for column in zip(*rows, strict=True)),
    )


_UNKNOWN_COLUMNS = """
    s.product_id, p.names ->> 'vi' as product_name, p.gtin14, s.day, nullif(s.lot, '') as lot,
    nullif(s.serial, '') as serial, s.scans, s.first_at, s.last_at
"""


async def unknown_scans(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, all_orgs: bool, since: date, until: date, limit: int
) -> list[UnknownScan]:
    rows = await conn.fetch(
        f"""
        select {_UNKNOWN_COLUMNS}
        from unknown_identifier_scans s join products p on p.id = s.product_id
        where s.day between $2 and $3
          and ($4 or p.organization_id in ({access.VISIBLE_ORGS}))
        order by s.day desc, s.scans desc, s.product_id, s.lot, s.serial
        limit $5
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        user_id,
        since,
        until,
        all_orgs,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[UnknownScan])


# --- service -------------------------------------------------------------------------------------


async def list_unknown_scans(
    conn: asyncpg.Connection, user: CurrentUser, since: date | None, until: date | None, limit: int
) -> list[UnknownScan]:
    """The caller's products' unknown-lot scans (the province's, for inspectors and admins); last 30 days by default."""
    until = until or clock.today()
    since = since or until - timedelta(days=29)
    if since > until or (until - since).days > 366:
        raise InvalidInput("since must be before until, at most a year apart", code="invalid_range")
    all_orgs = access.is_reader_of_all(user)
    if not all_orgs and await access.caller_organization(conn, user.id) is None:
        raise NotFound("register your farm or cooperative first", code="no_organization")
    return await unknown_scans(conn, user.id, all_orgs=all_orgs, since=since, until=until, limit=limit)
