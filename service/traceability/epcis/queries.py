"""SQL for EPCIS capture jobs, captured events, the event query and named queries."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from service.traceability.batches.queries import EVENT_COLUMNS
from service.traceability.batches.schemas import EventRead
from service.traceability.epcis.schemas import HoldingRead, NamedQueryRead

JOB_COLUMNS = (
    "id, partner_id, status, error_behaviour, event_count, captured, duplicates, errors, created_at, finished_at"
)


class StoredJob(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    partner_id: uuid.UUID
    status: str
    error_behaviour: str
    event_count: int
    captured: int
    duplicates: int
    errors: list[dict[str, Any]]
    created_at: datetime
    finished_at: datetime | None


class NewCapturedEvent(msgspec.Struct, kw_only=True):
    partner_id: uuid.UUID
    capture_id: uuid.UUID
    event_id: str
    error_declared: bool
    hash_id: str
    pre_hash: str
    event_type: str
    event_time: datetime
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    epcs: list[str]
    batch_ids: list[uuid.UUID]
    body: dict[str, Any]


async def insert_job(
    conn: asyncpg.Connection,
    partner_id: uuid.UUID,
    client_id: uuid.UUID,
    *,
    behaviour: str,
    event_count: int,
    document: dict[str, Any] | None,
    status: str,
    errors: list[dict[str, Any]],
) -> StoredJob:
    row = await conn.fetchrow(
        f"""
        insert into epcis_capture_jobs (id, partner_id, client_id, status, error_behaviour, event_count, document,
                                        errors, finished_at)
        values ($1, $2, $3, $4, $5, $6, $7, $8, case when $4 = 'running' then null else now() end)
        returning {JOB_COLUMNS}
        """,  # noqa: S608 - constant column list
        uuid.uuid4(),
        partner_id,
        client_id,
        status,
        behaviour,
        event_count,
        document,
        errors,
    )
    return msgspec.convert(dict(row), StoredJob)  # type: ignore[arg-type]


async def job(conn: asyncpg.Connection, job_id: uuid.UUID) -> StoredJob | None:
    row = await conn.fetchrow(f"select {JOB_COLUMNS} from epcis_capture_jobs where id = $1", job_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), StoredJob)


async def job_document(conn: asyncpg.Connection, job_id: uuid.UUID) -> dict[str, Any] | None:
    document: dict[str, Any] | None = await conn.fetchval(
        "select document from epcis_capture_jobs where id = $1 and status = 'running'", job_id
    )
    return document


async def running_jobs(conn: asyncpg.Connection) -> list[uuid.UUID]:
    rows = await conn.fetch("select id from epcis_capture_jobs where status = 'running' order by created_at")
    return [r["id"] for r in rows]


async def finish_job(
    conn: asyncpg.Connection,
    job_id: uuid.UUID,
    *,
    status: str,
    captured: int,
    duplicates: int,
    errors: list[dict[str, Any]],
) -> None:
    await conn.execute(
        "update epcis_capture_jobs set status = $2, captured = $3, duplicates = $4, errors = $5, document = null, "
        "finished_at = now() where id = $1 and status = 'running'",
        job_id,
        status,
        captured,
        duplicates,
        errors,
    )


async def insert_captured(conn: asyncpg.Connection, event: NewCapturedEvent) -> uuid.UUID | None:
    """None when this partner already sent this eventID (or its error declaration): a resend changes nothing."""
    fields = event.__struct_fields__
    placeholders = ", ".join(f"${i}" for i in range(2, len(fields) + 2))
    new_id: uuid.UUID | None = await conn.fetchval(
        f"insert into epcis_events (id, {', '.join(fields)}) values ($1, {placeholders}) "  # noqa: S608
        "on conflict (partner_id, event_id, error_declared) do nothing returning id",
        uuid.uuid4(),
        *msgspec.structs.astuple(event),
    )
    return new_id


async def set_chain_events(conn: asyncpg.Connection, captured_id: uuid.UUID, chain_ids: list[uuid.UUID]) -> None:
    await conn.execute("update epcis_events set chain_event_ids = $2 where id = $1", captured_id, chain_ids)


async def batches_named(
    conn: asyncpg.Connection, lots: list[tuple[str, str]], codes: list[str], serials: list[str]
) -> list[uuid.UUID]:
    """The batches that lot URIs (GTIN + lot), short codes and unit serials name."""
    rows = await conn.fetch(
        """
        select b.id from batches b join products p on p.id = b.product_id
        join unnest($1::text[], $2::text[]) as k(gtin, lot) on p.gtin14 = k.gtin and b.lot = k.lot
        union select id from batches where code = any($3::text[])
        union select batch_id from units where serial = any($4::text[])
        """,
        [g for g, _ in lots],
        [lot for _, lot in lots],
        codes,
        serials,
    )
    return sorted(r["id"] for r in rows)


async def chain_events(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> list[EventRead]:
    rows = await conn.fetch(
        f"select {EVENT_COLUMNS} from events where id = any($1::uuid[])",  # noqa: S608 - constant column list
        ids,
    )
    return msgspec.convert([dict(r) for r in rows], list[EventRead])


async def captured_bodies(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await conn.fetch(
        "select id, body, record_time from epcis_events where id = any($1::uuid[])",
        ids,
    )
    out: dict[uuid.UUID, dict[str, Any]] = {}
    for r in rows:
        body = dict(r["body"])
        body["recordTime"] = r["record_time"].isoformat().replace("+00:00", "Z")
        out[r["id"]] = body
    return out


class Page(msgspec.Struct, kw_only=True):
    source: str
    id: uuid.UUID
    event_time: datetime


async def event_page(conn: asyncpg.Connection, sql: str, params: list[Any]) -> list[Page]:
    """Run the query `query.build_sql` assembled from constant fragments (values only as parameters)."""
    rows = await conn.fetch(sql, *params)
    return msgspec.convert([dict(r) for r in rows], list[Page])


async def insert_named_query(
    conn: asyncpg.Connection, partner_id: uuid.UUID, name: str, query: dict[str, Any]
) -> NamedQueryRead | None:
    row = await conn.fetchrow(
        "insert into epcis_named_queries (id, partner_id, name, query) values ($1, $2, $3, $4) "
        "on conflict (partner_id, name) do nothing returning name, query, created_at",
        uuid.uuid4(),
        partner_id,
        name,
        query,
    )
    return None if row is None else msgspec.convert(dict(row), NamedQueryRead)


async def named_queries(conn: asyncpg.Connection, partner_id: uuid.UUID) -> list[NamedQueryRead]:
    rows = await conn.fetch(
        "select name, query, created_at from epcis_named_queries where partner_id = $1 order by name", partner_id
    )
    return msgspec.convert([dict(r) for r in rows], list[NamedQueryRead])


async def named_query(conn: asyncpg.Connection, partner_id: uuid.UUID, name: str) -> NamedQueryRead | None:
    row = await conn.fetchrow(
        "select name, query, created_at from epcis_named_queries where partner_id = $1 and name = $2",
        partner_id,
        name,
    )
    return None if row is None else msgspec.convert(dict(row), NamedQueryRead)


async def delete_named_query(conn: asyncpg.Connection, partner_id: uuid.UUID, name: str) -> bool:
    deleted = await conn.fetchval(
        "delete from epcis_named_queries where partner_id = $1 and name = $2 returning id", partner_id, name
    )
    return deleted is not None


async def job_partner(conn: asyncpg.Connection, job_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID, str] | None:
    """(partner, client, partner name) of a job: what a resumed job runs as."""
    row = await conn.fetchrow(
        "select j.partner_id, j.client_id, p.name from epcis_capture_jobs j join partners p on p.id = j.partner_id "
        "where j.id = $1",
        job_id,
    )
    return None if row is None else (row["partner_id"], row["client_id"], row["name"])


async def batch_names(conn: asyncpg.Connection, batch_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "select b.id, b.lot, b.code, p.gtin14, o.name as producer from batches b "
        "join products p on p.id = b.product_id join organizations o on o.id = b.organization_id "
        "where b.id = any($1::uuid[])",
        batch_ids,
    )
    return [dict(r) for r in rows]


# --- holdings: which of our batches a partner may capture onto ---------------------------------------------


async def insert_holding(
    conn: asyncpg.Connection, partner_id: uuid.UUID, batch_id: uuid.UUID, granted_by: uuid.UUID
) -> HoldingRead:
    """Idempotent: granting again keeps the first grant."""
    row = await conn.fetchrow(
        """
        with added as (
            insert into partner_batch_holdings (partner_id, batch_id, granted_by) values ($1, $2, $3)
            on conflict (partner_id, batch_id) do nothing
            returning partner_id, batch_id, created_at
        )
        select a.partner_id, p.name as partner_name, a.batch_id, a.created_at from added a
        join partners p on p.id = a.partner_id
        union all
        select h.partner_id, p.name, h.batch_id, h.created_at from partner_batch_holdings h
        join partners p on p.id = h.partner_id
        where h.partner_id = $1 and h.batch_id = $2
        limit 1
        """,
        partner_id,
        batch_id,
        granted_by,
    )
    return msgspec.convert(dict(row), HoldingRead)  # type: ignore[arg-type]


async def delete_holding(conn: asyncpg.Connection, partner_id: uuid.UUID, batch_id: uuid.UUID) -> bool:
    deleted = await conn.fetchval(
        "delete from partner_batch_holdings where partner_id = $1 and batch_id = $2 returning true",
        partner_id,
        batch_id,
    )
    return bool(deleted)


async def holdings(conn: asyncpg.Connection, batch_id: uuid.UUID) -> list[HoldingRead]:
    rows = await conn.fetch(
        """
        select h.partner_id, p.name as partner_name, h.batch_id, h.created_at
        from partner_batch_holdings h join partners p on p.id = h.partner_id
        where h.batch_id = $1 order by h.created_at, h.partner_id
        """,
        batch_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[HoldingRead])


async def held_batches(conn: asyncpg.Connection, partner_id: uuid.UUID, batch_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await conn.fetch(
        "select batch_id from partner_batch_holdings where partner_id = $1 and batch_id = any($2::uuid[])",
        partner_id,
        batch_ids,
    )
    return {r["batch_id"] for r in rows}
