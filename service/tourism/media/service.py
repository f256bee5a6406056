"""What the public media routes serve: a published track's captions and audio, and the shipped 3D models."""

import uuid
from typing import Any

import asyncpg
import msgspec

from service.core.errors import NotFound
from service.storage import Download, MediaStore
from service.tourism.media import queries
from service.tourism.media.assets import model_assets
from service.tourism.media.models3d import ModelAsset
from service.tourism.media.narration import Cue as NarrationCue
from service.tourism.media.narration import webvtt
from service.tourism.media.queries import TrackForServing
from service.tourism.media.schemas import ModelInfo
from service.tourism.media.stored_media import model_download, track_download


def render_vtt(cues: list[dict[str, Any]]) -> str:
    """A track's cues (as stored) as a WebVTT caption file."""
    return webvtt([msgspec.convert(cue, NarrationCue) for cue in cues])


async def published_track(conn: asyncpg.Connection, track_id: uuid.UUID) -> TrackForServing:
    track = await queries.published_track(conn, track_id)
    if track is None:
        raise NotFound("there is no published track with this id", code="track_not_found")
    return track


async def track_captions(conn: asyncpg.Connection, track_id: uuid.UUID) -> bytes:
    """The WebVTT transcript of a published track."""
    track = await published_track(conn, track_id)
    return render_vtt(track.cues).encode()


async def track_audio(
    conn: asyncpg.Connection, store: MediaStore, track_id: uuid.UUID
) -> tuple[TrackForServing, Download]:
    """A published track and where its bytes are."""
    track = await published_track(conn, track_id)
    return track, await track_download(store, track)


def model_infos(base_url: str, lang: str) -> list[ModelInfo]:
    """The shipped models, titled in Vietnamese for vi* and in English otherwise."""
    vi = lang.startswith("vi")
    return [
        ModelInfo(
            slug=a.slug,
            title=a.title.vi if vi else a.title.en,
            description=a.description.vi if vi else a.description.en,
            licence=a.licence,
            attribution=a.attribution,
            triangles=a.triangles,
            bytes=a.bytes,
            sha256=a.sha256,
            bbox_min=a.bbox.min,
            bbox_max=a.bbox.max,
            url=f"{base_url}/api/v1/models/{a.slug}.glb",
        )
        for a in model_assets().values()
    ]


async def model_file(conn: asyncpg.Connection, store: MediaStore, name: str) -> tuple[ModelAsset, Download]:
    """A shipped model by file name (`{slug}.glb`) and where its bytes are."""
    asset = model_assets().get(name.removesuffix(".glb")) if name.endswith(".glb") else None
    if asset is None:
        raise NotFound(f"there is no 3D model '{name}'", code="model_not_found")
    return asset, await model_download(conn, store, asset)
