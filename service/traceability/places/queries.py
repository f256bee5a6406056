"""SQL of the place register: one typed function per statement."""

import uuid

import asyncpg
import msgspec

from service.core.db import insert_row, update_row
from service.traceability.access import VISIBLE_ORGS
from service.traceability.places.schemas import PlaceRead

PLACE_COLUMNS = "id, organization_id, names, kind, commune_code, commune_name, gln, lat, lon, created_at, updated_at"


class NewPlace(msgspec.Struct, kw_only=True):
    organization_id: uuid.UUID
    names: dict[str, str]
    kind: str
    commune_code: str
    commune_name: str
    gln: str | None
    lat: float | None
    lon: float | None


class PlaceChanges(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Columns an update may set; UNSET ones keep their value."""

    names: dict[str, str] | msgspec.UnsetType = msgspec.UNSET
    kind: str | msgspec.UnsetType = msgspec.UNSET
    commune_code: str | msgspec.UnsetType = msgspec.UNSET
    commune_name: str | msgspec.UnsetType = msgspec.UNSET
    gln: str | msgspec.UnsetType | None = msgspec.UNSET
    lat: float | msgspec.UnsetType | None = msgspec.UNSET
    lon: float | msgspec.UnsetType | None = msgspec.UNSET


async def insert_place(conn: asyncpg.Connection, row: NewPlace) -> PlaceRead:
    return msgspec.convert(dict(await insert_row(conn, "places", row, PLACE_COLUMNS)), PlaceRead)


async def update_place(conn: asyncpg.Connection, place_id: uuid.UUID, changes: PlaceChanges) -> PlaceRead | None:
    row = await update_row(conn, "places", place_id, changes, PLACE_COLUMNS)
    return None if row is None else msgspec.convert(dict(row), PlaceRead)


async def place(conn: asyncpg.Connection, place_id: uuid.UUID) -> PlaceRead | None:
    row = await conn.fetchrow(f"select {PLACE_COLUMNS} from places where id = $1", place_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), PlaceRead)


async def places_of(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, all_orgs: bool, organization_id: uuid.UUID | None, limit: int
) -> list[PlaceRead]:
    """Places of the organizations the user manages (all for readers of all), optionally of one of them."""
    rows = await conn.fetch(
        f"""
        select {PLACE_COLUMNS} from places p
        where ($2 or p.organization_id in ({VISIBLE_ORGS}))
          and ($3::uuid is null or p.organization_id = $3)
        order by p.names ->> 'vi', p.id
        limit $4
        """,  # noqa: S608 - constant column list
        user_id,
        all_orgs,
        organization_id,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[PlaceRead])


async def delete_place(conn: asyncpg.Connection, place_id: uuid.UUID) -> bool:
    """Delete a place no event names; False when an event names it (the history must keep its words)."""
    used = await conn.fetchval(
        "select exists (select 1 from events where details -> 'place' ->> 'id' = $1::text)", str(place_id)
    )
    if used:
        return False
    await conn.execute("delete from places where id = $1", place_id)
    return True
