"""Which of our batches a partner holds, and so may capture events onto: the batch's producer (or an admin)
hands a batch to a partner (a supermarket it ships to, an exporter) and may take it back.

Capture asks `held` for the batches an event names; an event naming one it does not hold is refused.
"""

import uuid

import asyncpg

from service.auth.schemas import CurrentUser
from service.core.errors import NotFound
from service.partners import queries as pq
from service.traceability.batches import queries as bq
from service.traceability.epcis import queries as q
from service.traceability.epcis.schemas import HoldingRead


async def _require_managed_batch(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID) -> None:
    """The batch's producer (or an admin) only; anyone else is told it does not exist."""
    locked = await bq.lock_batch(conn, batch_id, user.id)
    if locked is None or not (locked.mine or user.role == "admin"):
        raise NotFound("no batch with this id", code="batch_not_found")


async def grant(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, partner_id: uuid.UUID) -> HoldingRead:
    async with conn.transaction():
        await _require_managed_batch(conn, user, batch_id)
        if not await pq.partner_exists(conn, partner_id):
            raise NotFound("no partner with this id", code="partner_not_found")
        return await q.insert_holding(conn, partner_id, batch_id, user.id)


async def revoke(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID, partner_id: uuid.UUID) -> None:
    async with conn.transaction():
        await _require_managed_batch(conn, user, batch_id)
        if not await q.delete_holding(conn, partner_id, batch_id):
            raise NotFound("this partner does not hold this batch", code="holding_not_found")


async def list_holders(conn: asyncpg.Connection, user: CurrentUser, batch_id: uuid.UUID) -> list[HoldingRead]:
    async with conn.transaction():
        await _require_managed_batch(conn, user, batch_id)
        return await q.holdings(conn, batch_id)
