"""Serialized units of a batch, and the batch facts the QR, label and scan routes need (read-only on batches)."""

import uuid
from typing import Annotated

import asyncpg
import msgspec
from msgspec import Meta

from service.auth.schemas import CurrentUser
from service.core.db import borrow
from service.core.errors import Forbidden, InvalidInput, NotFound
from service.traceability.access import organization_access
from service.traceability.identifiers.digital_link import batch_uri
from service.traceability.identifiers.gs1 import random_code
from service.traceability.scan.caches import TraceCaches
from service.traceability.scan.labels import MAX_LABELS, Label, LabelSheet

MAX_UNITS_PER_CALL = 10_000
MAX_UNITS_PER_BATCH = 1_000_000
SERIAL_LENGTH = 13  # 65 bits from a 32-symbol alphabet; GS1 AI 21 allows 20


class UnitsCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    count: Annotated[int, Meta(ge=1, le=MAX_UNITS_PER_CALL, description="how many unit serials to create")]


class UnitRead(msgspec.Struct, kw_only=True):
    seq: int
    serial: str
    uri: str


class UnitsCreated(msgspec.Struct, kw_only=True):
    batch_id: uuid.UUID
    first_seq: int
    last_seq: int
    units: list[UnitRead]


class BatchIdentity(msgspec.Struct, frozen=True, kw_only=True):
    """What a code is printed from: the batch's keys and who owns it."""

    id: uuid.UUID
    organization_id: uuid.UUID
    code: str
    lot: str
    gtin14: str | None
    product_name: str
    status: str

    def uri(self, base_url: str, serial: str | None = None) -> str:
        return batch_uri(base_url, gtin14=self.gtin14, lot=self.lot, code=self.code, serial=serial)


# --- queries -------------------------------------------------------------------------------------


async def batch_identity(conn: asyncpg.Connection, batch_id: uuid.UUID) -> BatchIdentity | None:
    row = await conn.fetchrow(
        """
        select b.id, b.organization_id, b.code, b.lot, p.gtin14, p.names ->> 'vi' as product_name, b.status
        from batches b join products p on p.id = b.product_id
        where b.id = $1
        """,
        batch_id,
    )
    return None if row is None else msgspec.convert(dict(row), BatchIdentity)


async def insert_units(conn: asyncpg.Connection, batch_id: uuid.UUID, serials: list[str]) -> int:
    """Append serials after the batch's last unit; returns the first new seq. Call inside a transaction."""
    # Serialise creators of the same batch without locking the batches row (the event chain uses it).
    await conn.execute("select pg_advisory_xact_lock(hashtextextended('units:' || $1::uuid::text, 0))", batch_id)
    first: int = await conn.fetchval("select coalesce(max(seq), 0) + 1 from units where batch_id = $1", batch_id)
    if first - 1 + len(serials) > MAX_UNITS_PER_BATCH:
        raise InvalidInput(f"a batch has at most {MAX_UNITS_PER_BATCH} units", code="too_many_units")
    await conn.execute(
        """
        insert into units (batch_id, serial, seq)
        select $1, s, $3 + o - 1 from unnest($2::text[]) with ordinality as t(s, o)
        """,
        batch_id,
        serials,
        first,
    )
    return first


async def unit_serials(conn: asyncpg.Connection, batch_id: uuid.UUID, first: int, last: int) -> list[str]:
    rows = await conn.fetch(
        "select serial from units where batch_id = $1 and seq between $2 and $3 order by seq",
        batch_id,
        first,
        last,
    )
    return [r["serial"] for r in rows]


async def unit_count(conn: asyncpg.Connection, batch_id: uuid.UUID) -> int:
    value: int = await conn.fetchval("select coalesce(max(seq), 0) from units where batch_id = $1", batch_id)
    return value


# --- services ------------------------------------------------------------------------------------


async def readable_batch_identity(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID) -> BatchIdentity:
    """The batch, for its owners, their cooperative, inspectors and admins; others see a 404."""
    batch = await batch_identity(conn, batch_id)
    if batch is None or not (await organization_access(conn, user, batch.organization_id))[0]:
        raise NotFound("no batch with this id", code="batch_not_found")
    return batch


async def owned_batch(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID) -> BatchIdentity:
    """The batch, for its owning organization (and its cooperative, and admins) only."""
    batch = await batch_identity(conn, batch_id)
    if batch is None:
        raise NotFound("no batch with this id", code="batch_not_found")
    readable, manageable = await organization_access(conn, user, batch.organization_id)
    if manageable:
        return batch
    if readable:  # an inspector: may look, may not act for the producer
        raise Forbidden("only the producing organization may do this", code="not_batch_owner")
    raise NotFound("no batch with this id", code="batch_not_found")


async def create_units(
    conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, count: int, base_url: str
) -> UnitsCreated:
    batch = await owned_batch(conn, user, batch_id)
    if batch.status == "recalled":
        raise InvalidInput("a recalled batch gets no new units", code="batch_recalled")
    serials = [random_code(SERIAL_LENGTH) for _ in range(count)]
    async with conn.transaction():
        first = await insert_units(conn, batch_id, serials)
    return UnitsCreated(
        batch_id=batch_id,
        first_seq=first,
        last_seq=first + count - 1,
        units=[UnitRead(seq=first + i, serial=s, uri=batch.uri(base_url, s)) for i, s in enumerate(serials)],
    )


async def label_sheet(
    conn: asyncpg.Connection,
    user: CurrentUser,
    batch_id: uuid.UUID,
    base_url: str,
    first: int | None,
    last: int | None,
) -> LabelSheet:
    """Labels for units first..last (1-based, inclusive); a batch with no units gets one label per page slot."""
    batch = await readable_batch_identity(conn, user, batch_id)
    total = await unit_count(conn, batch_id)
    if total == 0:
        if first is not None or last is not None:
            raise InvalidInput("this batch has no units: create some before choosing a range", code="no_units")
        return LabelSheet(
            product_name=batch.product_name, lot=batch.lot, labels=[Label(batch.uri(base_url), None)] * 24
        )
    lo, hi = first or 1, last or total
    if lo > hi or hi > total:
        raise InvalidInput(f"the range must lie within 1..{total} with from <= to", code="invalid_range")
    if hi - lo + 1 > MAX_LABELS:
        raise InvalidInput(f"at most {MAX_LABELS} labels per sheet", code="invalid_range")
    serials = await unit_serials(conn, batch_id, lo, hi)
    return LabelSheet(
        product_name=batch.product_name,
        lot=batch.lot,
        labels=[Label(batch.uri(base_url, s), s) for s in serials],
    )


async def batch_qr_content(pool: asyncpg.Pool, caches: TraceCaches, batch_id: uuid.UUID, base_url: str) -> str:
    """What a batch's QR code encodes (its Digital Link URI), from this worker's cache; NotFound if no such batch."""

    async def load() -> str | None:
        async with borrow(pool) as conn:
            batch = await batch_identity(conn, batch_id)
        return None if batch is None else batch.uri(base_url)

    content = await caches.qr_uris.get_or_load(batch_id, load)
    if content is None:
        raise NotFound("no batch with this id", code="batch_not_found")
    return content
