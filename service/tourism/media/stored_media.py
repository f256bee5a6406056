"""Tourism's bytes in the shared media store: content-addressed reuse, the account that owns machine-made
media, and where a track's audio or a GLB model is (a media-store download, or a shipped local file).
"""

import hashlib
import uuid
from pathlib import Path

import asyncpg

from service.core.errors import NotFound
from service.media.service import store_server_bytes
from service.media.types import Purpose
from service.storage import Download, LocalFile, MediaStore, UnsafeKey
from service.tourism.media import queries
from service.tourism.media.assets import GLB_MIME, MODELS_DIR
from service.tourism.media.models3d import ModelAsset
from service.tourism.media.queries import TrackForServing

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"
# An inactive account with an unusable password: it only owns the seed's media and machine narration.
SERVICE_PHONE = "+84200000030"
SERVICE_NAME = "Nội dung du lịch (dữ liệu mẫu, giọng máy) / tourism seed and machine narration"


async def service_account(conn: asyncpg.Connection) -> uuid.UUID:
    """The owner of media the service writes itself (seed audio, models, machine narration)."""
    return await queries.ensure_service_account(conn, SERVICE_PHONE, SERVICE_NAME)


async def ensure_stored(
    conn: asyncpg.Connection,
    store: MediaStore,
    owner_id: uuid.UUID,
    purpose: Purpose,
    data: bytes,
    content_type: str,
) -> uuid.UUID:
    """The media id holding these bytes: an existing item with the same sha256, else a new one.

    Running the seed or the narration again therefore adds no rows and no objects; an object lost from
    the store (a wiped media directory) is written back under its recorded key.
    """
    existing = await queries.ready_media_by_sha256(conn, hashlib.sha256(data).hexdigest(), purpose)
    if existing is None:
        return await store_server_bytes(conn, store, owner_id, purpose, data, content_type)
    if await store.stat(existing.storage_key) is None:
        await store.put_bytes(existing.storage_key, data, existing.content_type or content_type)
    return existing.id


def seed_path(ref: str) -> Path | None:
    """The file of a `seed:` reference (tracks seeded without a store), refusing anything outside the seed dir."""
    if not ref.startswith("seed:"):
        return None
    path = (SEED_DIR / ref.removeprefix("seed:")).resolve()
    return path if path.is_relative_to(SEED_DIR) else None


async def track_download(store: MediaStore, track: TrackForServing) -> Download:
    """Where a track's bytes are: its media item; else (rows written before the media store) a seed file or key."""
    missing = NotFound("the audio of this track is missing from storage", code="track_audio_missing")
    ref = track.audio_ref or ""
    try:
        if track.storage_key is not None:
            return await store.download(track.storage_key, content_type=track.mime)
        if ref.startswith("store:"):
            return await store.download(ref.removeprefix("store:"), content_type=track.mime)
    except UnsafeKey as exc:
        raise missing from exc
    path = seed_path(ref)
    if path is None:
        raise missing
    return LocalFile(path)


async def model_download(conn: asyncpg.Connection, store: MediaStore, asset: ModelAsset) -> Download:
    """A shipped model from the media store when the seed put it there (S3: a presigned URL), else from assets/3d."""
    stored = await queries.ready_media_by_sha256(conn, asset.sha256, "model_3d")
    if stored is not None:
        return await store.download(stored.storage_key, content_type=GLB_MIME)
    return LocalFile(MODELS_DIR / asset.file)
