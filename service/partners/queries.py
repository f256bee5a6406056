"""SQL for partners and their clients."""

import uuid

import asyncpg
import msgspec

from service.partners.schemas import ClientRead, PartnerRead


class StoredClient(msgspec.Struct, kw_only=True):
    client_id: uuid.UUID
    partner_id: uuid.UUID
    name: str
    secret_sha256: str
    scopes: list[str]
    revoked: bool


async def insert_partner(conn: asyncpg.Connection, name: str, created_by: uuid.UUID) -> PartnerRead:
    row = await conn.fetchrow(
        "insert into partners (id, name, created_by) values ($1, $2, $3) returning id, name, created_at",
        uuid.uuid4(),
        name,
        created_by,
    )
    return msgspec.convert(dict(row), PartnerRead)  # type: ignore[arg-type]


async def list_partners(conn: asyncpg.Connection) -> list[PartnerRead]:
    rows = await conn.fetch("select id, name, created_at from partners order by created_at, id")
    return msgspec.convert([dict(r) for r in rows], list[PartnerRead])


async def partner_exists(conn: asyncpg.Connection, partner_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("select exists(select 1 from partners where id = $1)", partner_id))


CLIENT_COLUMNS = "id as client_id, partner_id, label, scopes, created_at, revoked_at"


async def insert_client(
    conn: asyncpg.Connection, partner_id: uuid.UUID, label: str, secret_sha256: str, scopes: list[str]
) -> ClientRead:
    row = await conn.fetchrow(
        f"insert into partner_clients (id, partner_id, label, secret_sha256, scopes) values ($1, $2, $3, $4, $5) "  # noqa: S608
        f"returning {CLIENT_COLUMNS}",
        uuid.uuid4(),
        partner_id,
        label,
        secret_sha256,
        scopes,
    )
    return msgspec.convert(dict(row), ClientRead)  # type: ignore[arg-type]


async def list_clients(conn: asyncpg.Connection, partner_id: uuid.UUID) -> list[ClientRead]:
    rows = await conn.fetch(
        f"select {CLIENT_COLUMNS} from partner_clients where partner_id = $1 order by created_at, id",  # noqa: S608
        partner_id,
    )
    return msgspec.convert([dict(r) for r in rows], list[ClientRead])


async def revoke_client(conn: asyncpg.Connection, partner_id: uuid.UUID, client_id: uuid.UUID) -> ClientRead | None:
    row = await conn.fetchrow(
        f"update partner_clients set revoked_at = coalesce(revoked_at, now()) "  # noqa: S608
        f"where id = $1 and partner_id = $2 returning {CLIENT_COLUMNS}",
        client_id,
        partner_id,
    )
    return None if row is None else msgspec.convert(dict(row), ClientRead)


async def client(conn: asyncpg.Connection, client_id: uuid.UUID) -> StoredClient | None:
    row = await conn.fetchrow(
        """
        select c.id as client_id, c.partner_id, p.name, c.secret_sha256, c.scopes, c.revoked_at is not null as revoked
        from partner_clients c join partners p on p.id = c.partner_id
        where c.id = $1
        """,
        client_id,
    )
    return None if row is None else msgspec.convert(dict(row), StoredClient)
