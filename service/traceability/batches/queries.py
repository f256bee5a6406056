"""SQL for batches, the event chain and lineage."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import msgspec

from service.traceability.access import VISIBLE_ORGS, manages_sql
from service.traceability.batches.chain import HASHED_COLUMNS, ChainedEvent
from service.traceability.batches.schemas import BatchRead, EventRead

BATCH_COLUMNS = (
    "id, product_id, organization_id, lot, code, quantity, quantity_available, unit, harvest_date, harvest_end, "
    "plot_id, photos, expiry_date, notes, status, recall_reason, recalled_at, phi_violation, created_at, updated_at"
)
EVENT_COLUMNS = f"{HASHED_COLUMNS}, record_time, prev_hash, hash"
# The CTE that lets a transaction queueing a chain head commit without waiting for the disk (migration 0280's
# queue). Its durability comes from the sequencing every such writer runs after its commit, on the same
# connection, before it answers (`log_pending_heads`): that commit is synchronous and comes later in the WAL,
# and PostgreSQL flushes the WAL in order, so once it (or the sequencer whose commit logged this head, which
# read this commit) is on disk, so is this transaction. A crash before then loses a write nobody was told of;
# a phone retries it under its idempotency key. One WAL flush per group of writers instead of two per writer:
# the writers no longer queue on the WAL write lock (bench/README.md, session 13).
# The statement must name `quick` in a FROM: PostgreSQL does not run a plain CTE nobody reads (unnamed, the
# transaction would simply wait for the disk as before).
QUEUE_WITHOUT_FLUSH = "quick as (select set_config('synchronous_commit', 'off', true))"


class BatchPrecheck(msgspec.Struct, kw_only=True):
    """Everything creating a batch needs to know, read in one round trip."""

    product_org: uuid.UUID | None
    shelf_life_days: int | None
    mine: bool
    plot_org: uuid.UUID | None
    phi: bool
    key_hash: str | None
    key_status: int | None
    key_response: dict[str, Any] | None


async def batch_precheck(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    product_id: uuid.UUID,
    plot_id: uuid.UUID | None,
    harvest_date: Any,
    key: str | None,
) -> BatchPrecheck:
    row = await conn.fetchrow(
        f"""
        select p.organization_id as product_org, p.shelf_life_days,
               {manages_sql("p.organization_id", "o.parent_id")} as mine,
               pl.organization_id as plot_org,
               coalesce((select true from plot_inputs i
                         where $4::date is not null and i.plot_id = $3
                           and i.applied_on <= $4::date and i.applied_on + i.phi_days > $4::date
                         limit 1), false) as phi,
               k.request_hash as key_hash, k.status_code as key_status, k.response as key_response
        from (select 1) as one
        left join products p on p.id = $2
        left join organizations o on o.id = p.organization_id
        left join users u on u.id = $1
        left join plots pl on pl.id = $3
        left join idempotency_keys k on k.user_id = $1 and k.key = $5
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        user_id,
        product_id,
        plot_id,
        harvest_date,
        key,
    )
    return msgspec.convert(dict(row), BatchPrecheck)  # type: ignore[arg-type]  # a select without FROM filter


def _event_params(event: ChainedEvent, prev_hash: str, hash_: str) -> list[Any]:
    return [
        event.id,
        event.batch_id,
        event.seq,
        event.event_type,
        event.action,
        event.biz_step,
        event.disposition,
        event.event_time,
        event.event_time_zone_offset,
        event.read_point,
        event.biz_location,
        event.quantity,
        event.unit,
        event.inputs,
        event.outputs,
        event.details,
        event.recorded_by,
        prev_hash,
        hash_,
    ]


async def insert_batch_with_first_event(
    conn: asyncpg.Connection,
    batch: BatchRead,
    created_by: uuid.UUID,
    event: ChainedEvent,
    event_hash: str,
    idempotency: tuple[str, str, str, int, Any] | None,
) -> None:
    """Batch, its first event, its head queued for the transparency log and (when given) the idempotency record
    in ONE statement: atomic, one round trip. Committed without waiting for the disk (QUEUE_WITHOUT_FLUSH): the
    caller then logs the queued head (`log_pending_heads`), which makes it durable before the answer."""
    key, operation, request_hash, status_code, response = idempotency or (None, None, None, None, None)
    await conn.execute(
        f"""
        with {QUEUE_WITHOUT_FLUSH}, b as (
            insert into batches (id, product_id, organization_id, lot, code, quantity, quantity_available, unit,
                harvest_date, harvest_end, plot_id, photos, expiry_date, notes, phi_violation, last_seq, last_hash,
                created_by, created_at, updated_at)
            values ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $33, $15, $16, $16)
            returning id
        ), e as (
            insert into events (id, batch_id, seq, event_type, action, biz_step, disposition, event_time,
                event_time_zone_offset, read_point, biz_location, quantity, unit, inputs, outputs, details,
                recorded_by, prev_hash, hash)
            select $17, b.id, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $34, $33
            from b
        ), k as (
            insert into idempotency_keys (user_id, key, operation, request_hash, status_code, response)
            select $15, $35, $36, $37, $38, $39 from b where $35::text is not null
        )
        insert into transparency_pending (batch_id, code, seq, hash) select b.id, $5, 1, $33 from b, quick
        """,  # noqa: S608 - constant SQL fragment
        batch.id,
        batch.product_id,
        batch.organization_id,
        batch.lot,
        batch.code,
        batch.quantity,
        batch.unit,
        batch.harvest_date,
        batch.harvest_end,
        batch.plot_id,
        batch.photos,
        batch.expiry_date,
        batch.notes,
        batch.phi_violation,
        created_by,
        batch.created_at,
        event.id,
        event.seq,
        event.event_type,
        event.action,
        event.biz_step,
        event.disposition,
        event.event_time,
        event.event_time_zone_offset,
        event.read_point,
        event.biz_location,
        event.quantity,
        event.unit,
        event.inputs,
        event.outputs,
        event.details,
        event.recorded_by,
        event_hash,
        "0" * 64,
        key,
        operation,
        request_hash,
        status_code,
        None if response is None else msgspec.to_builtins(response),
    )


class LockedBatch(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    product_id: uuid.UUID
    organization_id: uuid.UUID
    plot_id: uuid.UUID | None
    status: str
    unit: str
    quantity_available: Decimal
    phi_violation: bool
    last_seq: int
    last_hash: str
    mine: bool
    first_time: datetime | None
    shipped: bool


async def lock_batch(conn: asyncpg.Connection, batch_id: uuid.UUID, user_id: uuid.UUID) -> LockedBatch | None:
    """The chain head, locked `for update` until the transaction ends: concurrent appends queue here."""
    row = await conn.fetchrow(
        f"""
        select b.id, b.product_id, b.organization_id, b.plot_id, b.status, b.unit, b.quantity_available,
               b.phi_violation, b.last_seq, b.last_hash,
               {manages_sql("b.organization_id", "o.parent_id")} as mine,
               (select e.event_time from events e where e.batch_id = b.id and e.seq = 1) as first_time,
               exists(select 1 from events e where e.batch_id = b.id and e.biz_step = 'shipping') as shipped
        from batches b
        join organizations o on o.id = b.organization_id
        left join users u on u.id = $2
        where b.id = $1
        for update of b
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        batch_id,
        user_id,
    )
    return None if row is None else msgspec.convert(dict(row), LockedBatch)


async def insert_event(conn: asyncpg.Connection, event: ChainedEvent, prev_hash: str, hash_: str) -> EventRead:
    row = await conn.fetchrow(
        f"""
        insert into events ({HASHED_COLUMNS}, prev_hash, hash)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
        returning {EVENT_COLUMNS}
        """,  # noqa: S608 - constant column list
        *_event_params(event, prev_hash, hash_),
    )
    assert row is not None
    return msgspec.convert(dict(row), EventRead)


async def advance_head(conn: asyncpg.Connection, batch_id: uuid.UUID, seq: int, hash_: str) -> None:
    """Move the head and queue it for the transparency log in the same statement: never one without the other.

    The caller logs the queued head once its transaction has committed (`log_pending_heads`), on this connection:
    the transaction commits without waiting for the disk (QUEUE_WITHOUT_FLUSH) and that makes it durable.
    """
    await conn.execute(
        f"""
        with {QUEUE_WITHOUT_FLUSH}, head as (
            update batches set last_seq = $2, last_hash = $3, updated_at = now() where id = $1 returning id, code
        )
        insert into transparency_pending (batch_id, code, seq, hash)
        select head.id, head.code, $2, $3 from head, quick
        """,  # noqa: S608 - constant SQL fragment
        batch_id,
        seq,
        hash_,
    )


async def log_pending_heads(conn: asyncpg.Connection) -> int:
    """Give every queued chain head its leaf in the transparency log (migration 0280); how many were logged.

    Called right after the transaction that queued a head has committed, on the same connection, so the answer
    to that request is only sent once the head is in the log, and the write on disk (QUEUE_WITHOUT_FLUSH).
    Inside a transaction it does nothing: that transaction's own heads are not committed yet (and sequencing
    would hold the log's lock until it ends); its caller logs them after the commit.
    """
    if conn.is_in_transaction():
        return 0
    logged: int = await conn.fetchval("select transparency_sequence(p_own => true)")
    return logged


async def consume(conn: asyncpg.Connection, batch_id: uuid.UUID, quantity: Decimal) -> None:
    """A transformation used part of the batch (the caller checked and holds the row lock)."""
    await conn.execute(
        "update batches set quantity_available = quantity_available - $2, updated_at = now() where id = $1",
        batch_id,
        quantity,
    )


async def mark_recalled(conn: asyncpg.Connection, batch_id: uuid.UUID, reason: str, at: datetime) -> None:
    await conn.execute(
        "update batches set status = 'recalled', recall_reason = $2, recalled_at = $3, updated_at = now() "
        "where id = $1",
        batch_id,
        reason,
        at,
    )


async def insert_links(
    conn: asyncpg.Connection, links: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, Decimal, str]]
) -> None:
    await conn.executemany(
        """
        insert into batch_links (input_batch_id, output_batch_id, event_id, quantity, unit)
        values ($1, $2, $3, $4, $5)
        """,
        links,
    )


async def batch(conn: asyncpg.Connection, batch_id: uuid.UUID) -> BatchRead | None:
    row = await conn.fetchrow(f"select {BATCH_COLUMNS} from batches where id = $1", batch_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), BatchRead)


async def batches_of(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, all_orgs: bool, limit: int, offset: int
) -> list[BatchRead]:
    rows = await conn.fetch(
        f"""
        select {BATCH_COLUMNS} from batches b
        where $2 or b.organization_id in (
            {VISIBLE_ORGS})
        order by b.created_at desc, b.id
        limit $3 offset $4
        """,  # noqa: S608 - constant column list
        user_id,
        all_orgs,
        limit,
        offset,
    )
    return msgspec.convert([dict(r) for r in rows], list[BatchRead])


async def events_of(conn: asyncpg.Connection, batch_id: uuid.UUID) -> list[EventRead]:
    rows = await conn.fetch(
        f"select {EVENT_COLUMNS} from events where batch_id = $1 order by seq",  # noqa: S608
        batch_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[EventRead])


async def batch_head(conn: asyncpg.Connection, batch_id: uuid.UUID) -> tuple[int, str] | None:
    row = await conn.fetchrow("select last_seq, last_hash from batches where id = $1", batch_id)
    return None if row is None else (row["last_seq"], row["last_hash"])


async def is_parent_of(conn: asyncpg.Connection, parent_id: uuid.UUID, organization_id: uuid.UUID) -> bool:
    """Whether the first organization is the second's cooperative."""
    return bool(
        await conn.fetchval(
            "select exists(select 1 from organizations where id = $2 and parent_id = $1)", parent_id, organization_id
        )
    )
