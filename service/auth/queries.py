"""SQL of users and sign-in failures."""

import uuid

import asyncpg
import msgspec

from service.auth.schemas import Role, UserRead

_USER_COLUMNS = "id, phone, full_name, role, organization_id, created_at"


async def insert_user(
    conn: asyncpg.Connection, *, phone: str, password_hash: str, full_name: str, role: Role
) -> UserRead | None:
    row = await conn.fetchrow(
        f"""
        insert into users (phone, password_hash, full_name, role) values ($1, $2, $3, $4)
        on conflict (phone) do nothing
        returning {_USER_COLUMNS}
        """,  # noqa: S608 - constant column list
        phone,
        password_hash,
        full_name,
        role,
    )
    return None if row is None else msgspec.convert(dict(row), UserRead)


async def user_by_id(conn: asyncpg.Connection, user_id: uuid.UUID) -> UserRead | None:
    row = await conn.fetchrow(
        f"select {_USER_COLUMNS} from users where id = $1 and is_active",  # noqa: S608 - constant column list
        user_id,
    )
    return None if row is None else msgspec.convert(dict(row), UserRead)


async def user_credentials(conn: asyncpg.Connection, phone: str) -> tuple[UserRead, str] | None:
    row = await conn.fetchrow(
        f"select {_USER_COLUMNS}, password_hash from users where phone = $1 and is_active",  # noqa: S608
        phone,
    )
    if row is None:
        return None
    data = dict(row)
    password_hash = data.pop("password_hash")
    return msgspec.convert(data, UserRead), password_hash


async def recent_failures(conn: asyncpg.Connection, keys: list[str], window: int) -> int:
    """The highest failure count among the keys, counting only failures inside the window."""
    value = await conn.fetchval(
        """
        select coalesce(max(failures), 0) from login_failures
        where key = any($1::text[]) and window_start > now() - make_interval(secs => $2)
        """,
        keys,
        window,
    )
    return int(value)


async def record_failure(conn: asyncpg.Connection, keys: list[str], window: int) -> None:
    await conn.execute(
        """
        insert into login_failures (key, window_start, failures)
        select k, now(), 1 from unnest($1::text[]) as k
        on conflict (key) do update set
            failures = case when login_failures.window_start > now() - make_interval(secs => $2)
                            then login_failures.failures + 1 else 1 end,
            window_start = case when login_failures.window_start > now() - make_interval(secs => $2)
                                then login_failures.window_start else now() end
        """,
        keys,
        window,
    )


async def clear_failures(conn: asyncpg.Connection, key: str) -> None:
    await conn.execute("delete from login_failures where key = $1", key)


async def delete_stale_failures(conn: asyncpg.Connection, window: int) -> int:
    """Failure counters whose window has passed count for nothing: remove them; returns how many."""
    deleted = await conn.fetch(
        "delete from login_failures where window_start < now() - make_interval(secs => $1) returning 1", window
    )
    return len(deleted)
