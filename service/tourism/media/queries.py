"""SQL behind tourism's bytes: tracks served to the public, media reused by content hash, the service account."""

import uuid
from typing import Any

import asyncpg
import msgspec


class TrackForServing(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    lang: str
    media_id: uuid.UUID | None
    audio_ref: str | None
    bytes: int
    sha256: str
    mime: str
    cues: list[dict[str, Any]]
    storage_key: str | None


async def published_track(conn: asyncpg.Connection, track_id: uuid.UUID) -> TrackForServing | None:
    """A track of a published site, with the media row's storage key when it has one."""
    row = await conn.fetchrow(
        """
        select t.id, t.lang, t.media_id, t.audio_ref, t.bytes, t.sha256, t.mime, t.cues, m.storage_key
        from tourism_tracks t
        join tourism_points p on p.id = t.point_id
        join tourism_sites s on s.id = p.site_id
        left join media m on m.id = t.media_id
        where t.id = $1 and s.status = 'published'
        """,
        track_id,
    )
    return None if row is None else msgspec.convert(dict(row), TrackForServing)


class StoredMedia(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    storage_key: str
    content_type: str | None


async def ready_media_by_sha256(conn: asyncpg.Connection, sha256: str, purpose: str) -> StoredMedia | None:
    """The oldest ready media item with these bytes, if any (same sha256 = same bytes)."""
    row = await conn.fetchrow(
        """
        select id, storage_key, content_type from media
        where sha256 = $1 and purpose = $2 and status = 'ready'
        order by created_at, id limit 1
        """,
        sha256,
        purpose,
    )
    return None if row is None else msgspec.convert(dict(row), StoredMedia)


async def ensure_service_account(conn: asyncpg.Connection, phone: str, full_name: str) -> uuid.UUID:
    """An inactive editor account with an unusable password, created once; its id."""
    await conn.execute(
        """
        insert into users (phone, password_hash, full_name, role, is_active)
        values ($1, '!tourism-service-no-login', $2, 'editor', false)
        on conflict (phone) do nothing
        """,
        phone,
        full_name,
    )
    user_id: uuid.UUID = await conn.fetchval("select id from users where phone = $1", phone)
    return user_id
