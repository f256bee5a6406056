"""Rules of the place register: Vietnamese name required, an official commune, a checked GLN, a coarse position."""

import uuid

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core.errors import Conflict, InvalidInput, NotFound
from service.traceability import access
from service.traceability.identifiers.gs1 import gtin_check_digit
from service.traceability.places import queries as q
from service.traceability.places.schemas import PlaceCreate, PlaceRead, PlaceUpdate
from service.traceability.registry.checks import check_commune, check_lang_text, check_point
from service.traceability.registry.service import target_organization

MAX_NAME = 200
# About 100 m: enough to find a shop or a packhouse on a map, not a pinpoint.
POSITION_DIGITS = 3


def check_gln(gln: str | None) -> str | None:
    """A GLN has the GTIN-13 check digit (GS1 General Specifications 7.9)."""
    if gln is not None and gtin_check_digit(gln[:-1]) != int(gln[-1]):
        raise InvalidInput(f"GLN {gln}: the check digit should be {gtin_check_digit(gln[:-1])}", code="invalid_gln")
    return gln


def check_names(names: dict[str, str]) -> dict[str, str]:
    cleaned = check_lang_text("names", names, require_vi=True)
    if any(len(name) > MAX_NAME or not name for name in cleaned.values()):
        raise InvalidInput(f"each name is 1 to {MAX_NAME} characters", code="invalid_place_name")
    return cleaned


def coarse_position(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    if (lat is None) != (lon is None):
        raise InvalidInput("give lat and lon together", code="incomplete_position")
    if lat is None or lon is None:
        return None, None
    check_point(lat, lon)
    return round(lat, POSITION_DIGITS), round(lon, POSITION_DIGITS)


async def _gln_free(conn: asyncpg.Connection, gln: str | None, place_id: uuid.UUID | None) -> None:
    if gln is None:
        return
    taken = await conn.fetchval("select id from places where gln = $1", gln)
    if taken is not None and taken != place_id:
        raise Conflict("another place has this GLN", code="gln_taken")


async def create_place(conn: asyncpg.Connection, user: CurrentUser, data: PlaceCreate) -> PlaceRead:
    names = check_names(data.names)
    commune = check_commune(data.commune_code)
    gln = check_gln(data.gln)
    lat, lon = coarse_position(data.lat, data.lon)
    async with conn.transaction():
        org_id = await target_organization(conn, user, data.organization_id)
        await _gln_free(conn, gln, None)
        row = q.NewPlace(
            organization_id=org_id,
            names=names,
            kind=data.kind,
            commune_code=commune.code,
            commune_name=commune.name,
            gln=gln,
            lat=lat,
            lon=lon,
        )
        return await q.insert_place(conn, row)


async def public_place(conn: asyncpg.Connection, place_id: uuid.UUID) -> PlaceRead:
    """Places are public (what a shopper reads on the page): names, kind, commune, a coarse position."""
    found = await q.place(conn, place_id)
    if found is None:
        raise NotFound("no place with this id", code="place_not_found")
    return found


async def list_places(
    conn: asyncpg.Connection, user: CurrentUser, organization_id: uuid.UUID | None, limit: int
) -> list[PlaceRead]:
    return await q.places_of(
        conn, user.id, all_orgs=access.is_reader_of_all(user), organization_id=organization_id, limit=limit
    )


async def _managed(conn: asyncpg.Connection, user: CurrentUser, place_id: uuid.UUID) -> PlaceRead:
    found = await q.place(conn, place_id)
    if found is None:
        raise NotFound("no place with this id", code="place_not_found")
    await access.require_manageable(conn, user, found.organization_id, "place")
    return found


async def update_place(
    conn: asyncpg.Connection, user: CurrentUser, place_id: uuid.UUID, data: PlaceUpdate
) -> PlaceRead:
    changes = q.PlaceChanges()
    if not isinstance(data.names, msgspec.UnsetType):
        changes.names = check_names(data.names)
    if not isinstance(data.kind, msgspec.UnsetType):
        changes.kind = data.kind
    if not isinstance(data.commune_code, msgspec.UnsetType):
        commune = check_commune(data.commune_code)
        changes.commune_code, changes.commune_name = commune.code, commune.name
    if not isinstance(data.gln, msgspec.UnsetType):
        changes.gln = check_gln(data.gln)
    async with conn.transaction():
        found = await _managed(conn, user, place_id)
        if not isinstance(data.lat, msgspec.UnsetType) or not isinstance(data.lon, msgspec.UnsetType):
            lat = found.lat if isinstance(data.lat, msgspec.UnsetType) else data.lat
            lon = found.lon if isinstance(data.lon, msgspec.UnsetType) else data.lon
            changes.lat, changes.lon = coarse_position(lat, lon)
        if not isinstance(changes.gln, msgspec.UnsetType):
            await _gln_free(conn, changes.gln, place_id)
        updated = await q.update_place(conn, place_id, changes)
        assert updated is not None  # locked in by _managed in this transaction
        return updated


async def delete_place(conn: asyncpg.Connection, user: CurrentUser, place_id: uuid.UUID) -> None:
    async with conn.transaction():
        await _managed(conn, user, place_id)
        if not await q.delete_place(conn, place_id):
            raise Conflict("events name this place: it stays so their history keeps its words", code="place_in_use")


async def usable_place(conn: asyncpg.Connection, user: CurrentUser, place_id: uuid.UUID) -> PlaceRead:
    """A place an event may name: one the caller's organization manages (or any, for an admin)."""
    found = await q.place(conn, place_id)
    if found is None:
        raise InvalidInput("no place with this id", code="place_not_found")
    _, manageable = await access.organization_access(conn, user, found.organization_id)
    if not manageable:
        raise InvalidInput("this place belongs to another organization", code="place_not_yours")
    return found
