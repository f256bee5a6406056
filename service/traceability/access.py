"""Who may see and change what: the caller's organization is looked up by user id, never trusted from input.

A user manages their own organization and, for a cooperative, its member farms (parent_id). Inspectors
and admins read everything; admins may also write anywhere. Anything else looks like it does not exist.
"""

import uuid

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core.errors import Forbidden, NotFound

READ_ALL_ROLES = ("inspector", "admin")

# The rule in SQL, for the queries that fold it into their own statement (one round trip, not two):
# the organizations user $1 manages are their own and, for a cooperative, its member farms.
VISIBLE_ORGS = (
    "select o.id from organizations o join users u on u.id = $1 "
    "where o.id = u.organization_id or o.parent_id = u.organization_id"
)


def manages_sql(org_id: str, parent_id: str, users: str = "u") -> str:
    """SQL that is true when the joined user row `users` manages the organization with these id/parent columns."""
    return f"coalesce({org_id} = {users}.organization_id or {parent_id} = {users}.organization_id, false)"


async def caller_organization(conn: asyncpg.Connection, user_id: uuid.UUID) -> uuid.UUID | None:
    value: uuid.UUID | None = await conn.fetchval("select organization_id from users where id = $1", user_id)
    return value


async def organization_access(conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID) -> tuple[bool, bool]:
    """(exists and readable, manageable) for this caller, in one round trip."""
    row = await conn.fetchrow(
        f"""
        select o.id, {manages_sql("o.id", "o.parent_id")} as mine
        from organizations o
        left join users u on u.id = $1
        where o.id = $2
        """,  # noqa: S608 - constant SQL fragments, values as parameters
        user.id,
        org_id,
    )
    if row is None:
        return False, False
    mine = bool(row["mine"])
    if user.role == "admin":
        return True, True
    return mine or user.role in READ_ALL_ROLES, mine


async def require_readable(conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID, what: str) -> None:
    readable, _ = await organization_access(conn, user, org_id)
    if not readable:
        raise NotFound(f"no {what} with this id", code=f"{what}_not_found")


async def require_manageable(conn: asyncpg.Connection, user: CurrentUser, org_id: uuid.UUID, what: str) -> None:
    """Writes: members and their cooperative (and admins); others get the same 404 as for a missing id."""
    _, manageable = await organization_access(conn, user, org_id)
    if not manageable:
        raise NotFound(f"no {what} with this id", code=f"{what}_not_found")


def is_reader_of_all(user: CurrentUser) -> bool:
    return user.role in READ_ALL_ROLES


class ActingAuthority(msgspec.Struct, frozen=True, kw_only=True):
    """The authority an inspector acts for: what a verified claim names."""

    id: uuid.UUID
    name: str


async def acting_authority(conn: asyncpg.Connection, user: CurrentUser) -> ActingAuthority:
    """Inspections, recalls and verifications speak for an authority: the caller must belong to one."""
    row = await conn.fetchrow(
        "select a.id, a.name from users u join authorities a on a.id = u.authority_id where u.id = $1", user.id
    )
    if row is None:
        raise Forbidden(
            "only an inspector of an authority (e.g. a provincial Department of Agriculture) may do this",
            code="no_authority",
        )
    return ActingAuthority(id=row["id"], name=row["name"])
