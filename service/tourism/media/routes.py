"""Public media routes: track audio and captions, the shipped 3D models (Range, ETag, 304, or a 307 to S3)."""

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, route
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.params import FromPath
from litestar.response import Redirect

from service.core.db import DB
from service.core.errors import NotFound
from service.core.http_files import SKIP_COMPRESSION, serve_bytes, serve_file
from service.storage import Download, LocalFile, MediaStoreDep, provide_media_store
from service.tourism.languages import check_language
from service.tourism.media import service
from service.tourism.media.assets import GLB_MIME
from service.tourism.media.schemas import ModelInfo
from service.tourism.params import LangQuery, base_url, get_and_head_ids

VTT_MIME = "text/vtt; charset=utf-8"


async def deliver(
    request: Request[Any, Any, Any], where: Download, content_type: str, *, etag: str, cache_control: str
) -> Response[Any]:
    """Serve a local file (Range, ETag, 304, HEAD) or send the client to object storage with a 307."""
    if isinstance(where, LocalFile):
        return await serve_file(request, where.path, content_type, etag=etag, cache_control=cache_control)
    return Redirect(
        where.url, status_code=307, headers={"Cache-Control": f"private, max-age={min(60, where.expires_in // 2)}"}
    )


def _id_with_suffix(name: str, suffix: str) -> uuid.UUID:
    if not name.endswith(suffix):
        raise NotFound(f"tracks are served as {{id}}{suffix}", code="track_not_found")
    try:
        return uuid.UUID(name.removesuffix(suffix))
    except ValueError as exc:
        raise NotFound("there is no track with this id", code="track_not_found") from exc


class SiteMediaController(Controller):
    path = "/api/v1"
    tags = ["tourism: media"]
    dependencies = {"media_store": Provide(provide_media_store, sync_to_thread=False)}

    @route(
        "/tracks/{track_file:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("track_captions"),
        summary="Get a track's captions",
        exclude_from_auth=True,
        media_type=VTT_MIME,
        opt={SKIP_COMPRESSION: True},
    )
    async def captions(self, request: Request[Any, Any, Any], db: DB, track_file: FromPath[str]) -> Response[Any]:
        """The transcript of a published track as WebVTT (`{id}.vtt`)."""
        body = await service.track_captions(db, _id_with_suffix(track_file, ".vtt"))
        return serve_bytes(request, body, VTT_MIME, cache_control="public, max-age=300")

    @route(
        "/tracks/{track_id:uuid}/audio",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("track_audio"),
        summary="Get a track's audio",
        exclude_from_auth=True,
        opt={SKIP_COMPRESSION: True},
    )
    async def audio(
        self, request: Request[Any, Any, Any], db: DB, media_store: MediaStoreDep, track_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        """Track audio with Range, ETag and 304, or a 307 to a short-lived presigned URL when media live in S3."""
        track, where = await service.track_audio(db, media_store, track_id)
        return await deliver(request, where, track.mime, etag=track.sha256, cache_control="public, max-age=3600")

    @get("/models", operation_id="list_models", summary="List the 3D models", exclude_from_auth=True)
    async def list_models(self, state: State, lang: LangQuery = "vi") -> list[ModelInfo]:
        """The 3D models shipped with the service, with licence and measurements."""
        check_language(lang)
        return service.model_infos(base_url(state), lang)

    @route(
        "/models/{model_file:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("get_model_glb"),
        summary="Get a 3D model",
        exclude_from_auth=True,
        opt={SKIP_COMPRESSION: True},
    )
    async def model_glb(
        self, request: Request[Any, Any, Any], db: DB, media_store: MediaStoreDep, model_file: FromPath[str]
    ) -> Response[Any]:
        """A GLB model (`{slug}.glb`) with a strong ETag and Range, or a 307 to object storage."""
        asset, where = await service.model_file(db, media_store, model_file)
        return await deliver(request, where, GLB_MIME, etag=asset.sha256, cache_control="public, max-age=86400")
