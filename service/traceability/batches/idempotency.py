"""Idempotency keys per user: the same key and body replay the stored answer; another body is refused."""

import hashlib
import uuid
from typing import Any

import asyncpg
import msgspec

from service.core.errors import InvalidInput


class Stored(msgspec.Struct, frozen=True):
    status_code: int
    response: dict[str, Any]


def body_hash(body: msgspec.Struct | Any) -> str:
    """Hash of the decoded body (sorted keys), so whitespace or key order do not make it 'different'."""
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()


def check_replay(stored_hash: str | None, request_hash: str, stored: Stored | None) -> Stored | None:
    if stored is None or stored_hash is None:
        return None
    if stored_hash != request_hash:
        raise InvalidInput(
            "this Idempotency-Key was already used with a different request body", code="idempotency_key_reused"
        )
    return stored


async def lookup(conn: asyncpg.Connection, user_id: uuid.UUID, key: str, request_hash: str) -> Stored | None:
    row = await conn.fetchrow(
        "select request_hash, status_code, response from idempotency_keys where user_id = $1 and key = $2",
        user_id,
        key,
    )
    if row is None:
        return None
    return check_replay(row["request_hash"], request_hash, Stored(row["status_code"], row["response"]))


async def remember(
    conn: asyncpg.Connection,
    user_id: uuid.UUID,
    key: str,
    operation: str,
    request_hash: str,
    status_code: int,
    response: Any,
) -> None:
    """Store inside the caller's transaction, so the answer and the effect commit together."""
    await conn.execute(
        """
        insert into idempotency_keys (user_id, key, operation, request_hash, status_code, response)
        values ($1, $2, $3, $4, $5, $6)
        """,
        user_id,
        key,
        operation,
        request_hash,
        status_code,
        msgspec.to_builtins(response),
    )


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= 200 or not key.isascii() or not key.isprintable():
        raise InvalidInput("Idempotency-Key is 1 to 200 printable ASCII characters", code="invalid_idempotency_key")
    return key


async def purge_expired(conn: asyncpg.Connection, ttl_days: int) -> int:
    """Forget stored answers older than the TTL (a retry after that creates anew); returns how many."""
    deleted = await conn.fetch(
        "delete from idempotency_keys where created_at < now() - make_interval(days => $1) returning 1", ttl_days
    )
    return len(deleted)
