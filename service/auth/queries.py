"""SQL of users, their token versions and the attempt counters that throttle sign-in and registration."""

import uuid

import asyncpg
import msgspec

from service.auth.schemas import Account, AccountRead, Role, Standing, UserRead

_USER_COLUMNS = "id, phone, full_name, role, organization_id, created_at"
_ACCOUNT_COLUMNS = f"{_USER_COLUMNS}, is_active, updated_at"


def _account(row: asyncpg.Record) -> Account:
    data = dict(row)
    version = data.pop("token_version")
    return Account(user=msgspec.convert(data, UserRead), token_version=version)


async def insert_user(
    conn: asyncpg.Connection, *, phone: str, password_hash: str, full_name: str, role: Role
) -> Account | None:
    row = await conn.fetchrow(
        f"""
        insert into users (phone, password_hash, full_name, role) values ($1, $2, $3, $4)
        on conflict (phone) do nothing
        returning {_USER_COLUMNS}, token_version
        """,  # noqa: S608 - constant column list
        phone,
        password_hash,
        full_name,
        role,
    )
    return None if row is None else _account(row)


async def phone_taken(conn: asyncpg.Connection, phone: str) -> bool:
    return bool(await conn.fetchval("select exists (select 1 from users where phone = $1)", phone))


async def user_by_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> UserRead | None:
    row = await conn.fetchrow(
        f"select {_USER_COLUMNS} from users where id = $1 and is_active",  # noqa: S608 - constant column list
        user_id,
    )
    return None if row is None else msgspec.convert(dict(row), UserRead)


async def user_credentials(conn: asyncpg.Connection, phone: str) -> tuple[Account, str] | None:
    row = await conn.fetchrow(
        f"select {_USER_COLUMNS}, token_version, password_hash from users where phone = $1 and is_active",  # noqa: S608
        phone,
    )
    if row is None:
        return None
    data = dict(row)
    password_hash: str = data.pop("password_hash")
    version = data.pop("token_version")
    return Account(user=msgspec.convert(data, UserRead), token_version=version), password_hash


async def password_hash_of(conn: asyncpg.Connection, user_id: uuid.UUID) -> str | None:
    value: str | None = await conn.fetchval("select password_hash from users where id = $1 and is_active", user_id)
    return value


async def standing(conn: asyncpg.Connection, user_id: uuid.UUID) -> Standing | None:
    row = await conn.fetchrow("select token_version, role, is_active from users where id = $1", user_id)
    return None if row is None else msgspec.convert(dict(row), Standing)


async def search_accounts(
    conn: asyncpg.Connection,
    *,
    name_pattern: str | None,
    phone_pattern: str | None,
    role: Role | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[AccountRead], int]:
    """Accounts matching a name (ILIKE pattern) or phone digits (LIKE pattern), newest first, and the total."""
    rows = await conn.fetch(
        f"""
        select {_ACCOUNT_COLUMNS}, count(*) over () as total
        from users
        where ($1::text is null or full_name ilike $1 or ($2::text is not null and phone like $2))
          and ($3::text is null or role = $3)
          and ($4::boolean is null or is_active = $4)
        order by created_at desc, id
        limit $5 offset $6
        """,  # noqa: S608 - constant column list
        name_pattern,
        phone_pattern,
        role,
        active,
        limit,
        offset,
    )
    total = int(rows[0]["total"]) if rows else await _count_accounts(conn, name_pattern, phone_pattern, role, active)
    items = [msgspec.convert({k: v for k, v in dict(r).items() if k != "total"}, AccountRead) for r in rows]
    return items, total


async def _count_accounts(
    conn: asyncpg.Connection,
    name_pattern: str | None,
    phone_pattern: str | None,
    role: Role | None,
    active: bool | None,
) -> int:
    value = await conn.fetchval(
        """
        select count(*) from users
        where ($1::text is null or full_name ilike $1 or ($2::text is not null and phone like $2))
          and ($3::text is null or role = $3)
          and ($4::boolean is null or is_active = $4)
        """,
        name_pattern,
        phone_pattern,
        role,
        active,
    )
    return int(value)


async def account(conn: asyncpg.Connection, user_id: uuid.UUID) -> AccountRead | None:
    row = await conn.fetchrow(f"select {_ACCOUNT_COLUMNS} from users where id = $1", user_id)  # noqa: S608
    return None if row is None else msgspec.convert(dict(row), AccountRead)


async def update_account(
    conn: asyncpg.Connection, user_id: uuid.UUID, *, role: Role | None, is_active: bool | None
) -> AccountRead | None:
    """Set role and/or activity; the token version moves only when something changed."""
    row = await conn.fetchrow(
        f"""
        update users set
            role = coalesce($2, role),
            is_active = coalesce($3, is_active),
            -- an inspector who leaves the role leaves their authority too (users_authority_role_check)
            authority_id = case when coalesce($2, role) in ('inspector', 'admin') then authority_id end,
            token_version = token_version
                + case when (role, is_active) is distinct from (coalesce($2, role), coalesce($3, is_active))
                       then 1 else 0 end,
            updated_at = now()
        where id = $1
        returning {_ACCOUNT_COLUMNS}
        """,  # noqa: S608 - constant column list
        user_id,
        role,
        is_active,
    )
    return None if row is None else msgspec.convert(dict(row), AccountRead)


async def set_password(conn: asyncpg.Connection, user_id: uuid.UUID, password_hash: str) -> Account | None:
    """A new password hash, and a new token version: every token issued before it stops working."""
    row = await conn.fetchrow(
        f"""
        update users set password_hash = $2, token_version = token_version + 1, updated_at = now()
        where id = $1
        returning {_USER_COLUMNS}, token_version
        """,  # noqa: S608 - constant column list
        user_id,
        password_hash,
    )
    return None if row is None else _account(row)


async def charge_attempt(conn: asyncpg.Connection, keys: list[str], window: int) -> list[int]:
    """Count one attempt against each (distinct) key inside its window, in one statement; the counts after it.

    Counted before the work it guards: two parallel attempts serialise on the row and see 1 and 2, never 0 and 0.
    """
    rows = await conn.fetch(
        """
        insert into throttle_counters as t (key, window_start, hits)
        select k, now(), 1 from unnest($1::text[]) as k
        on conflict (key) do update set
            hits = case when t.window_start > now() - make_interval(secs => $2) then t.hits + 1 else 1 end,
            window_start = case when t.window_start > now() - make_interval(secs => $2)
                                then t.window_start else now() end
        returning key, hits
        """,
        keys,
        window,
    )
    counts = {row["key"]: int(row["hits"]) for row in rows}
    return [counts[key] for key in keys]


async def refund_attempt(conn: asyncpg.Connection, key: str) -> None:
    """An attempt that succeeded does not count against its key."""
    await conn.execute("update throttle_counters set hits = greatest(hits - 1, 0) where key = $1", key)


async def clear_attempts(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute("delete from throttle_counters where key = $1", key)


async def delete_stale_counters(conn: asyncpg.Connection, older_than_seconds: int) -> int:
    """Throttle counters whose window began long ago count for nothing: remove them; returns how many."""
    deleted = await conn.fetch(
        "delete from throttle_counters where window_start < now() - make_interval(secs => $1) returning 1",
        older_than_seconds,
    )
    return len(deleted)
