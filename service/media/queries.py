"""SQL of the media items: one typed function per query."""

import uuid
from datetime import datetime

import asyncpg
import msgspec

from service.media.schemas import MediaRow

_COLUMNS = (
    "id, owner_id, purpose, declared_type, content_type, bytes, sha256, storage_key, status, created_at, expires_at"
)


async def insert_media(
    conn: asyncpg.Connection,
    *,
    media_id: uuid.UUID,
    owner_id: uuid.UUID,
    purpose: str,
    declared_type: str,
    size: int,
    sha256: str,
    storage_key: str,
    expires_at: datetime | None,
    ready: bool,
) -> None:
    await conn.execute(
        """
        insert into media (id, owner_id, purpose, declared_type, content_type, bytes, sha256, storage_key,
                           status, expires_at, completed_at)
        values ($1, $2, $3, $4, case when $9 then $4 end, $5, $6, $7,
                case when $9 then 'ready' else 'pending' end, coalesce($8, now()), case when $9 then now() end)
        """,
        media_id,
        owner_id,
        purpose,
        declared_type,
        size,
        sha256,
        storage_key,
        expires_at,
        ready,
    )


async def media_row(conn: asyncpg.Connection, media_id: uuid.UUID) -> MediaRow | None:
    row = await conn.fetchrow(f"select {_COLUMNS} from media where id = $1", media_id)  # noqa: S608 - constant columns
    return None if row is None else msgspec.convert(dict(row), MediaRow)


async def mark_ready(
    conn: asyncpg.Connection, media_id: uuid.UUID, content_type: str, size: int, sha256: str
) -> MediaRow | None:
    """Ready, with the size and checksum of the bytes served (a photo's metadata may have been stripped)."""
    row = await conn.fetchrow(
        f"""
        update media set status = 'ready', content_type = $2, bytes = $3, sha256 = $4, completed_at = now()
        where id = $1 and status = 'pending'
        returning {_COLUMNS}
        """,  # noqa: S608 - constant columns
        media_id,
        content_type,
        size,
        sha256,
    )
    return None if row is None else msgspec.convert(dict(row), MediaRow)


async def ready_media_ids(conn: asyncpg.Connection, media_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    rows = await conn.fetch("select id from media where id = any($1::uuid[]) and status = 'ready'", media_ids)
    return [row["id"] for row in rows]


class UploadUsage(msgspec.Struct, frozen=True, kw_only=True):
    """What a user and their organization declared since the local day began (pending uploads count too)."""

    organization_id: uuid.UUID | None
    user_count: int
    user_bytes: int
    organization_count: int
    organization_bytes: int


async def lock_upload_usage(conn: asyncpg.Connection, user_id: uuid.UUID, since: datetime) -> UploadUsage:
    """Today's uploads of the user and their organization, under a transaction lock per organization (or user),
    so parallel declarations cannot all pass one quota."""
    organization_id: uuid.UUID | None = await conn.fetchval("select organization_id from users where id = $1", user_id)
    await conn.execute(
        "select pg_advisory_xact_lock(hashtextextended('media-quota:' || $1::uuid::text, 0))",
        organization_id or user_id,
    )
    row = await conn.fetchrow(
        """
        select count(*) filter (where m.owner_id = $1) as user_count,
               coalesce(sum(m.bytes) filter (where m.owner_id = $1), 0)::bigint as user_bytes,
               count(*) as organization_count,
               coalesce(sum(m.bytes), 0)::bigint as organization_bytes
        from media m
        where m.created_at >= $3
          and (m.owner_id = $1 or ($2::uuid is not null
               and m.owner_id in (select id from users where organization_id = $2)))
        """,
        user_id,
        organization_id,
        since,
    )
    assert row is not None
    return msgspec.convert({**dict(row), "organization_id": organization_id}, UploadUsage)


class UnreferencedMedia(msgspec.Struct, frozen=True):
    id: uuid.UUID
    storage_key: str


async def delete_unreferenced_ready_media(
    conn: asyncpg.Connection, *, grace_seconds: float, keep_sha256: list[str], limit: int
) -> list[UnreferencedMedia]:
    """Delete (and return) ready items completed over `grace_seconds` ago that nothing references.

    One statement: the reference check (view `media_references`, migration 0260) and the delete see the same
    snapshot, and the certificate and track foreign keys still refuse a delete a concurrent write depends on.
    """
    rows = await conn.fetch(
        """
        delete from media m
        where m.id in (
            select c.id from media c
            where c.status = 'ready' and c.completed_at < now() - make_interval(secs => $1)
              and c.sha256 <> all($2::text[])
              and not exists (select 1 from media_references r where r.media_id = c.id)
            order by c.completed_at
            limit $3
        )
        returning m.id, m.storage_key
        """,
        grace_seconds,
        keep_sha256,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[UnreferencedMedia])
