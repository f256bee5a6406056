"""SQL for EPCIS subscriptions, their matches and their deliveries."""

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from service.traceability.epcis.schemas import DeliveryRead, SubscriptionRead

SUBSCRIPTION_COLUMNS = "s.id, q.name as query_name, s.destination, s.created_at, s.cancelled_at"
DELIVERY_COLUMNS = "id, kind, status, attempts, last_status, last_error, created_at, delivered_at, next_attempt_at"


class ActiveSubscription(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    partner_id: uuid.UUID
    query_name: str
    query: dict[str, Any]
    since: datetime
    scanned_at: datetime | None


class ClaimedDelivery(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    payload: dict[str, Any]
    attempts: int
    destination: str
    signing_secret: str


async def insert_subscription(
    conn: asyncpg.Connection, partner_id: uuid.UUID, query_id: uuid.UUID, destination: str, secret: str
) -> SubscriptionRead:
    row = await conn.fetchrow(
        f"""
        with s as (
            insert into epcis_subscriptions (id, partner_id, query_id, destination, signing_secret)
            values ($1, $2, $3, $4, $5) returning *
        )
        select {SUBSCRIPTION_COLUMNS} from s join epcis_named_queries q on q.id = s.query_id
        """,  # noqa: S608 - constant column list
        uuid.uuid4(),
        partner_id,
        query_id,
        destination,
        secret,
    )
    return msgspec.convert(dict(row), SubscriptionRead)  # type: ignore[arg-type]


async def query_id(conn: asyncpg.Connection, partner_id: uuid.UUID, name: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "select id from epcis_named_queries where partner_id = $1 and name = $2", partner_id, name
    )
    return found


async def subscriptions(conn: asyncpg.Connection, partner_id: uuid.UUID) -> list[SubscriptionRead]:
    rows = await conn.fetch(
        f"select {SUBSCRIPTION_COLUMNS} from epcis_subscriptions s join epcis_named_queries q on q.id = s.query_id "  # noqa: S608
        "where s.partner_id = $1 order by s.created_at, s.id",
        partner_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[SubscriptionRead])


async def cancel_subscription(conn: asyncpg.Connection, partner_id: uuid.UUID, subscription_id: uuid.UUID) -> bool:
    found = await conn.fetchval(
        "update epcis_subscriptions set cancelled_at = coalesce(cancelled_at, now()) "
        "where id = $1 and partner_id = $2 returning id",
        subscription_id,
        partner_id,
    )
    return found is not None


async def owns_subscription(conn: asyncpg.Connection, partner_id: uuid.UUID, subscription_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval(
            "select exists(select 1 from epcis_subscriptions where id = $1 and partner_id = $2)",
            subscription_id,
            partner_id,
        )
    )


async def deliveries(conn: asyncpg.Connection, subscription_id: uuid.UUID, limit: int) -> list[DeliveryRead]:
    rows = await conn.fetch(
        f"select {DELIVERY_COLUMNS} from epcis_deliveries where subscription_id = $1 "  # noqa: S608
        "order by created_at desc, id limit $2",
        subscription_id,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[DeliveryRead])


async def active_subscriptions(conn: asyncpg.Connection) -> list[ActiveSubscription]:
    rows = await conn.fetch(
        """
        select s.id, s.partner_id, q.name as query_name, q.query, s.since, s.scanned_at
        from epcis_subscriptions s join epcis_named_queries q on q.id = s.query_id
        where s.cancelled_at is null order by s.id
        """
    )
    return msgspec.convert([dict(r) for r in rows], list[ActiveSubscription])


async def mark_scanned(conn: asyncpg.Connection, subscription_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("update epcis_subscriptions set scanned_at = $2 where id = $1", subscription_id, at)


async def new_matches(conn: asyncpg.Connection, subscription_id: uuid.UUID, refs: list[uuid.UUID]) -> set[uuid.UUID]:
    """Record the matches; only those not matched before come back."""
    rows = await conn.fetch(
        "insert into epcis_subscription_matches (subscription_id, event_ref) select $1, unnest($2::uuid[]) "
        "on conflict do nothing returning event_ref",
        subscription_id,
        refs,
    )
    return {r["event_ref"] for r in rows}


async def insert_delivery(
    conn: asyncpg.Connection, subscription_id: uuid.UUID, kind: str, payload: dict[str, Any]
) -> None:
    await conn.execute(
        "insert into epcis_deliveries (id, subscription_id, kind, payload, status) values ($1, $2, $3, $4, 'pending')",
        uuid.uuid4(),
        subscription_id,
        kind,
        payload,
    )


async def claim_due(conn: asyncpg.Connection, limit: int, lease_seconds: float) -> list[ClaimedDelivery]:
    """Take due deliveries for one attempt each: pushed past a lease so no other worker sends them meanwhile."""
    rows = await conn.fetch(
        """
        with due as (
            select id from epcis_deliveries where status = 'pending' and next_attempt_at <= now()
            order by next_attempt_at limit $1 for update skip locked
        )
        update epcis_deliveries d
        set attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
        from due, epcis_subscriptions s
        where d.id = due.id and s.id = d.subscription_id
        returning d.id, d.payload, d.attempts, s.destination, s.signing_secret
        """,
        limit,
        lease_seconds,
    )
    return msgspec.convert([dict(r) for r in rows], list[ClaimedDelivery])


async def record_attempt(
    conn: asyncpg.Connection,
    delivery_id: uuid.UUID,
    *,
    status: str,
    http_status: int | None,
    error: str | None,
    retry_in_seconds: float,
) -> None:
    await conn.execute(
        """
        update epcis_deliveries
        set status = $2, last_status = $3, last_error = $4,
            delivered_at = case when $2 = 'delivered' then now() end,
            next_attempt_at = now() + make_interval(secs => $5)
        where id = $1
        """,
        delivery_id,
        status,
        http_status,
        error,
        retry_in_seconds,
    )
