"""What someone holding the database credentials can do behind the service's back (for the transparency tests)."""

import uuid
from typing import Any

import asyncpg

from service.core.db import init_connection
from service.traceability.batches import queries as eq
from service.traceability.batches.chain import GENESIS_HASH, ChainedEvent, event_hash


async def rewrite_event(db: asyncpg.Connection, batch_id: uuid.UUID, seq: int, details: dict[str, Any]) -> None:
    """Change one event's details with the append-only trigger off, then recompute every later hash and the
    batch's head, so the batch's own /verify finds nothing wrong. Gives `db` the service's JSON codecs."""
    await init_connection(db)
    async with db.transaction():
        await db.execute("alter table events disable trigger events_append_only")
        await db.execute(
            "update events set details = $3::jsonb where batch_id = $1 and seq = $2", batch_id, seq, details
        )
        prev = GENESIS_HASH
        for event in await eq.events_of(db, batch_id):
            hashed = event_hash(ChainedEvent(**{f: getattr(event, f) for f in ChainedEvent.__struct_fields__}), prev)
            await db.execute("update events set prev_hash = $2, hash = $3 where id = $1", event.id, prev, hashed)
            prev = hashed
        await db.execute("update batches set last_hash = $2 where id = $1", batch_id, prev)
        await db.execute("alter table events enable trigger events_append_only")


async def rewrite_leaves_to_match(db: asyncpg.Connection, batch_id: uuid.UUID) -> None:
    """Then also rewrite the batch's logged heads to the new hashes (the log's trigger off too)."""
    async with db.transaction():
        await db.execute("alter table transparency_leaves disable trigger transparency_leaves_append_only")
        await db.execute(
            """
            update transparency_leaves l
            set data = n.data, leaf_hash = sha256('\\x00'::bytea || n.data)
            from (
                select l2.idx, transparency_leaf_data(l2.batch_id, b.code, l2.seq, e.hash, l2.logged_at) as data
                from transparency_leaves l2
                join batches b on b.id = l2.batch_id
                join events e on e.batch_id = l2.batch_id and e.seq = l2.seq
                where l2.batch_id = $1
            ) as n
            where l.idx = n.idx
            """,
            batch_id,
        )
        await db.execute("alter table transparency_leaves enable trigger transparency_leaves_append_only")
