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
    copies: list[str]  # the storage keys of its smaller copies (media_renditions, gone with the row)


async def delete_unreferenced_ready_media(
    conn: asyncpg.Connection, *, grace_seconds: float, keep_sha256: list[str], limit: int
) -> list[UnreferencedMedia]:
    """Delete (and return) ready items completed over `grace_seconds` ago that nothing references.

    One statement: the reference check (view `media_references`, migration 0260) and the delete see the same
    snapshot, and the certificate and track foreign keys still refuse a delete a concurrent write depends on.
    """
    rows = await conn.fetch(
        """
        with gone as (
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
        )
        -- the statement's snapshot still holds the copies the cascade removes: their keys, for the store
        select g.id, g.storage_key,
               array(select r.storage_key from media_renditions r where r.media_id = g.id order by r.width) as copies
        from gone g
        """,
        grace_seconds,
        keep_sha256,
        limit,
    )
    return msgspec.convert([dict(r) for r in rows], list[UnreferencedMedia])


async def record_renditions(
    conn: asyncpg.Connection, media_id: uuid.UUID, width: int, height: int, copies: list["RenditionRow"]
) -> None:
    """The original's drawn size and its stored copies (a retried completion writes the same rows again)."""
    await conn.execute("update media set width = $2, height = $3 where id = $1", media_id, width, height)
    await conn.executemany(
        """
        insert into media_renditions (media_id, width, height, content_type, bytes, sha256, storage_key)
        values ($1, $2, $3, $4, $5, $6, $7)
        on conflict (media_id, width) do update set height = excluded.height, content_type = excluded.content_type,
            bytes = excluded.bytes, sha256 = excluded.sha256, storage_key = excluded.storage_key
        """,
        [(media_id, c.width, c.height, c.content_type, c.bytes, c.sha256, c.storage_key) for c in copies],
    )


class RenditionRow(msgspec.Struct, frozen=True, kw_only=True):
    width: int
    height: int
    content_type: str
    bytes: int
    sha256: str
    storage_key: str


async def ready_rendition(conn: asyncpg.Connection, media_id: uuid.UUID, width: int) -> RenditionRow | None:
    """A copy of a ready photo at exactly this width."""
    row = await conn.fetchrow(
        """
        select r.width, r.height, r.content_type, r.bytes, r.sha256, r.storage_key
        from media_renditions r join media m on m.id = r.media_id
        where r.media_id = $1 and r.width = $2 and m.status = 'ready'
        """,
        media_id,
        width,
    )
    return None if row is None else msgspec.convert(dict(row), RenditionRow)


class PictureRow(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    width: int | None
    height: int | None
    copy_widths: list[int]  # narrowest first
    copy_heights: list[int]


async def ready_pictures(conn: asyncpg.Connection, media_ids: list[uuid.UUID]) -> list[PictureRow]:
    """Ready images among the ids, with their size and the widths of their copies, in one query."""
    rows = await conn.fetch(
        """
        select m.id, m.width, m.height,
               array(select r.width from media_renditions r where r.media_id = m.id order by r.width) as copy_widths,
               array(select r.height from media_renditions r where r.media_id = m.id order by r.width)
                   as copy_heights
        from media m
        where m.id = any($1::uuid[]) and m.status = 'ready' and m.content_type like 'image/%'
        """,
        media_ids,
    )
    return msgspec.convert([dict(r) for r in rows], list[PictureRow])
