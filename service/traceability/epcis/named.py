"""Named queries: a partner saves the parameters of GET /epcis/events under a name and reruns them."""

import asyncpg
import msgspec

from service.core.errors import Conflict, NotFound
from service.partners.schemas import Partner
from service.traceability.epcis import queries as q
from service.traceability.epcis.query import parse_query
from service.traceability.epcis.schemas import NamedQueryCreate, NamedQueryRead


async def create(conn: asyncpg.Connection, partner: Partner, data: NamedQueryCreate) -> NamedQueryRead:
    parsed = parse_query(data.query)  # refuse what could never run
    stored = await q.insert_named_query(conn, partner.partner_id, data.name, msgspec.to_builtins(parsed))
    if stored is None:
        raise Conflict("a query with this name exists: delete it first", code="query_name_taken")
    return stored


async def list_all(conn: asyncpg.Connection, partner: Partner) -> list[NamedQueryRead]:
    return await q.named_queries(conn, partner.partner_id)


async def get_one(conn: asyncpg.Connection, partner: Partner, name: str) -> NamedQueryRead:
    found = await q.named_query(conn, partner.partner_id, name)
    if found is None:
        raise NotFound("no saved query with this name", code="query_not_found")
    return found


async def remove(conn: asyncpg.Connection, partner: Partner, name: str) -> None:
    if not await q.delete_named_query(conn, partner.partner_id, name):
        raise NotFound("no saved query with this name", code="query_not_found")
