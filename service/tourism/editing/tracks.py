"""Track rules: the audio is a media item (uploaded, inline, or synthesised), checked, then recorded."""

import base64
import binascii
import hashlib
import uuid
from typing import Any

import asyncpg
import msgspec

from service.auth.schemas import CurrentUser
from service.core.errors import Conflict, InvalidInput, NotFound
from service.media.schemas import MediaRow
from service.media.service import owned_media
from service.storage import MediaStore
from service.tourism.editing import queries
from service.tourism.languages import check_language
from service.tourism.media.audio import (
    OGG_HEAD_BYTES,
    OGG_TAIL_BYTES,
    is_audio_type,
    ogg_opus_duration,
    ogg_opus_duration_of,
    sniff_audio,
)
from service.tourism.media.stored_media import ensure_stored
from service.tourism.sites import queries as reads
from service.tourism.sites.queries import TrackRow
from service.tourism.sites.schemas import Cue, TrackUpload


def check_cues(cues: list[Cue], duration_s: float) -> None:
    previous_start = -1.0
    for number, cue in enumerate(cues, start=1):
        if cue.end <= cue.start:
            raise InvalidInput(f"cue {number} ends before it starts", code="invalid_cues")
        if cue.start < previous_start:
            raise InvalidInput(f"cue {number} starts before the cue before it", code="invalid_cues")
        if cue.end > duration_s + 0.5:
            raise InvalidInput(f"cue {number} ends after the audio ({duration_s} s)", code="invalid_cues")
        previous_start = cue.start


def _duration(measured: float | None, upload: TrackUpload) -> float:
    duration = measured or upload.duration_s
    if duration is None:
        raise InvalidInput("duration_s is needed for audio other than Ogg/Opus", code="duration_required")
    return duration


async def _uploaded_audio(
    conn: asyncpg.Connection, store: MediaStore, user: CurrentUser, media_id: uuid.UUID
) -> MediaRow:
    """A ready audio item the caller owns (admins may use anyone's); a clear 4xx otherwise."""
    row = await owned_media(conn, user, media_id)
    if row.status != "ready":
        raise Conflict(
            "this media upload is not complete yet: PUT the bytes, then POST .../complete", code="media_not_ready"
        )
    if not is_audio_type(row.content_type):
        raise InvalidInput(f"media {media_id} is {row.content_type}, not audio", code="not_audio")
    return row


async def _stored_opus_duration(store: MediaStore, row: MediaRow) -> float | None:
    if row.content_type != "audio/ogg":
        return None
    head = await store.read_range(row.storage_key, 0, OGG_HEAD_BYTES)
    tail_start = max(0, row.bytes - OGG_TAIL_BYTES)
    tail = await store.read_range(row.storage_key, tail_start, row.bytes - tail_start)
    return ogg_opus_duration_of(head, tail)


async def put_track(
    conn: asyncpg.Connection,
    store: MediaStore,
    user: CurrentUser,
    site_slug: str,
    point_slug: str,
    lang: str,
    upload: TrackUpload,
) -> TrackRow:
    """Check the audio (uploaded media or inline base64), then record the track; nothing half-written on 4xx."""
    check_language(lang)
    if (upload.media_id is None) == (upload.audio_base64 is None):
        raise InvalidInput("send exactly one of media_id or audio_base64", code="audio_source")
    site = await reads.site_by_slug(conn, site_slug, published_only=False)
    if site is None:
        raise NotFound(f"there is no site '{site_slug}'", code="site_not_found")
    point = await reads.point_by_slug(conn, site.id, point_slug)
    if point is None:
        raise NotFound(f"site '{site_slug}' has no point '{point_slug}'", code="point_not_found")
    cues: list[dict[str, Any]] = msgspec.to_builtins(upload.cues)

    if upload.media_id is not None:
        row = await _uploaded_audio(conn, store, user, upload.media_id)
        duration = _duration(await _stored_opus_duration(store, row), upload)
        check_cues(upload.cues, duration)
        assert row.content_type is not None  # ready rows carry their sniffed type
        async with conn.transaction():
            return await queries.upsert_track(
                conn,
                point.id,
                _track_values(lang, row.id, row.bytes, row.sha256, row.content_type, duration, upload, cues),
            )

    assert upload.audio_base64 is not None
    try:
        audio = base64.b64decode(upload.audio_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("audio_base64 is not valid base64", code="invalid_base64") from exc
    mime = sniff_audio(audio)
    duration = _duration(ogg_opus_duration(audio) if mime == "audio/ogg" else None, upload)
    check_cues(upload.cues, duration)
    return await store_track(
        conn,
        store,
        user.id,
        point.id,
        lang=lang,
        audio=audio,
        mime=mime,
        duration_s=duration,
        narrator=upload.narrator,
        origin=upload.origin,
        cues=cues,
    )


def _track_values(
    lang: str,
    media_id: uuid.UUID,
    size: int,
    sha256: str,
    mime: str,
    duration_s: float,
    upload: TrackUpload,
    cues: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "lang": lang,
        "media_id": media_id,
        "audio_ref": None,
        "duration_s": round(duration_s, 3),
        "bytes": size,
        "sha256": sha256,
        "mime": mime,
        "narrator": upload.narrator,
        "origin": upload.origin,
        "cues": cues,
    }


async def store_track(
    conn: asyncpg.Connection,
    store: MediaStore,
    owner_id: uuid.UUID,
    point_id: uuid.UUID,
    *,
    lang: str,
    audio: bytes,
    mime: str,
    duration_s: float,
    narrator: str,
    origin: str,
    cues: list[dict[str, Any]],
) -> TrackRow:
    """Bytes first, as a media item (reused when the same bytes are already stored), then the track row."""
    media_id = await ensure_stored(conn, store, owner_id, "audio_track", audio, mime)
    async with conn.transaction():
        return await queries.upsert_track(
            conn,
            point_id,
            {
                "lang": lang,
                "media_id": media_id,
                "audio_ref": None,
                "duration_s": round(duration_s, 3),
                "bytes": len(audio),
                "sha256": hashlib.sha256(audio).hexdigest(),
                "mime": mime,
                "narrator": narrator,
                "origin": origin,
                "cues": cues,
            },
        )
