"""SQL for the transparency log. Heads are queued by batches.queries in the statement that moves them and logged
by transparency_sequence() right after that commit (migrations 0120, 0280)."""

import uuid
from datetime import datetime

import asyncpg
import msgspec


class LeafRow(msgspec.Struct, kw_only=True):
    idx: int
    data: bytes
    leaf_hash: bytes


class CheckpointRow(msgspec.Struct, kw_only=True):
    tree_size: int
    root_hash: bytes
    issued_at: datetime
    key_id: str
    signature: bytes


class BatchLeaf(msgspec.Struct, kw_only=True):
    batch_id: uuid.UUID
    code: str
    idx: int
    seq: int
    data: bytes
    leaf_hash: bytes


CHECKPOINT_COLUMNS = "tree_size, root_hash, issued_at, key_id, signature"


async def sequence_pending(conn: asyncpg.Connection) -> int:
    """Log any head still queued (its writer died between its commit and the sequencing); how many were."""
    logged: int = await conn.fetchval("select transparency_sequence()")
    return logged


async def log_size(conn: asyncpg.Connection) -> int:
    """Committed leaves: appenders hold the counter's row lock until they commit, so every index below is there."""
    size: int = await conn.fetchval("select size from transparency_log")
    return size


async def leaf_hashes(conn: asyncpg.Connection, start: int, end: int) -> list[bytes]:
    rows = await conn.fetch(
        "select leaf_hash from transparency_leaves where idx >= $1 and idx < $2 order by idx", start, end
    )
    return [r["leaf_hash"] for r in rows]


async def leaves(conn: asyncpg.Connection, start: int, end: int) -> list[LeafRow]:
    rows = await conn.fetch(
        "select idx, data, leaf_hash from transparency_leaves where idx >= $1 and idx < $2 order by idx", start, end
    )
    return msgspec.convert([dict(r) for r in rows], list[LeafRow])


async def latest_checkpoint(conn: asyncpg.Connection, key_id: str) -> CheckpointRow | None:
    row = await conn.fetchrow(
        f"select {CHECKPOINT_COLUMNS} from transparency_checkpoints where key_id = $1 "  # noqa: S608
        "order by tree_size desc limit 1",
        key_id,
    )
    return None if row is None else msgspec.convert(dict(row), CheckpointRow)


async def insert_checkpoint(conn: asyncpg.Connection, checkpoint: CheckpointRow) -> CheckpointRow:
    """The checkpoint of this size: the one given, or the one a concurrent request stored first."""
    row = await conn.fetchrow(
        f"""
        with new as (
            insert into transparency_checkpoints ({CHECKPOINT_COLUMNS}) values ($1, $2, $3, $4, $5)
            on conflict (tree_size, key_id) do nothing
            returning {CHECKPOINT_COLUMNS}
        )
        select {CHECKPOINT_COLUMNS} from new
        union all
        select {CHECKPOINT_COLUMNS} from transparency_checkpoints where tree_size = $1 and key_id = $4
        limit 1
        """,  # noqa: S608 - constant column list
        checkpoint.tree_size,
        checkpoint.root_hash,
        checkpoint.issued_at,
        checkpoint.key_id,
        checkpoint.signature,
    )
    assert row is not None
    return msgspec.convert(dict(row), CheckpointRow)


async def newest_batch_leaf(conn: asyncpg.Connection, code: str, below: int) -> BatchLeaf | None:
    """The newest logged head of the batch with this short code among the first `below` leaves."""
    row = await conn.fetchrow(
        """
        select b.id as batch_id, b.code, l.idx, l.seq, l.data, l.leaf_hash
        from batches b
        join transparency_leaves l on l.batch_id = b.id and l.idx < $2
        where b.code = $1
        order by l.idx desc
        limit 1
        """,
        code,
        below,
    )
    return None if row is None else msgspec.convert(dict(row), BatchLeaf)


async def batch_exists(conn: asyncpg.Connection, code: str) -> bool:
    found: bool = await conn.fetchval("select exists(select 1 from batches where code = $1)", code)
    return found


async def last_logged_at(conn: asyncpg.Connection) -> datetime | None:
    at: datetime | None = await conn.fetchval("select max(issued_at) from transparency_checkpoints")
    return at
