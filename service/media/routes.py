"""Routes of the media flow: declare, upload (local store), complete, read."""

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post, put, route
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from service.auth.guards import CurrentUserDep
from service.core.db import DB
from service.core.errors import NotFound
from service.core.http_files import IMMUTABLE_CACHE_CONTROL, SKIP_COMPRESSION, serve_bytes, serve_file
from service.media.schemas import MediaCreate, MediaRead, MediaUpload
from service.media.service import (
    UploadQuota,
    complete_media,
    create_media,
    owned_media_read,
    ready_copy,
    ready_media,
    receive_upload,
)
from service.media.types import MAX_UPLOAD_BYTES
from service.settings import Settings
from service.storage import LocalFile, LocalStore, MediaStoreDep, provide_media_store


class MediaController(Controller):
    path = "/api/v1/media"
    tags = ["media"]
    dependencies = {"media_store": Provide(provide_media_store, sync_to_thread=False)}

    @post("/", operation_id="createMedia", status_code=201)
    async def create(
        self,
        current_user: CurrentUserDep,
        db: DB,
        state: State,
        media_store: MediaStoreDep,
        data: JSONBody[MediaCreate],
    ) -> MediaUpload:
        """Declare an upload (purpose, type, size, sha256); returns where to PUT the bytes."""
        settings: Settings = state.settings
        quota = UploadQuota(
            count_per_user=settings.upload_daily_count_per_user,
            bytes_per_user=settings.upload_daily_bytes_per_user,
            count_per_organization=settings.upload_daily_count_per_organization,
            bytes_per_organization=settings.upload_daily_bytes_per_organization,
        )
        return await create_media(db, media_store, current_user, data, quota)

    @put(
        "/{media_id:uuid}/upload",
        operation_id="uploadMediaBytes",
        exclude_from_auth=True,
        status_code=204,
        request_max_body_size=MAX_UPLOAD_BYTES,
        opt={SKIP_COMPRESSION: True},
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        state: State,
        media_store: MediaStoreDep,
        media_id: FromPath[uuid.UUID],
        expires: FromQuery[int],
        sig: FromQuery[str],
    ) -> None:
        """Receive the bytes for a signed upload URL (local store only; S3 uploads go to S3)."""
        if not isinstance(media_store, LocalStore):
            raise NotFound("uploads go straight to object storage here", code="upload_not_local")
        await receive_upload(state.pool, media_store, request, media_id, expires, sig)

    @post("/{media_id:uuid}/complete", operation_id="completeMedia", status_code=200)
    async def complete(
        self,
        current_user: CurrentUserDep,
        db: DB,
        state: State,
        media_store: MediaStoreDep,
        media_id: FromPath[uuid.UUID],
    ) -> MediaRead:
        """Verify what was uploaded (size, real type, sha256) and make it available."""
        settings: Settings = state.settings
        return await complete_media(db, media_store, current_user, media_id, settings.base_url)

    @get("/{media_id:uuid}/meta", operation_id="getMediaMeta")
    async def meta(
        self, current_user: CurrentUserDep, db: DB, state: State, media_id: FromPath[uuid.UUID]
    ) -> MediaRead:
        """The owner's view of a media item, pending or ready."""
        settings: Settings = state.settings
        return await owned_media_read(db, current_user, media_id, settings.base_url)

    @route(
        "/{media_id:uuid}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=lambda _handler, method, _path: "getMedia" if method == "GET" else "headMedia",
        exclude_from_auth=True,
        opt={SKIP_COMPRESSION: True},
    )
    async def download(
        self, request: Request[Any, Any, Any], db: DB, media_store: MediaStoreDep, media_id: FromPath[uuid.UUID]
    ) -> Response[Any]:
        """The bytes of a ready media item (Range, ETag); object storage answers via a short-lived redirect."""
        row, content_type = await ready_media(db, media_id)
        where = await media_store.download(row.storage_key, content_type=content_type)
        if isinstance(where, LocalFile):
            return await serve_file(
                request, where.path, content_type, etag=row.sha256, cache_control=IMMUTABLE_CACHE_CONTROL
            )
        return Redirect(
            where.url, status_code=307, headers={"Cache-Control": f"private, max-age={min(60, where.expires_in // 2)}"}
        )

    @route(
        "/{media_id:uuid}/w/{width:int}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=lambda _handler, method, _path: "getMediaCopy" if method == "GET" else "headMediaCopy",
        exclude_from_auth=True,
        opt={SKIP_COMPRESSION: True},
    )
    async def copy(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        media_store: MediaStoreDep,
        media_id: FromPath[uuid.UUID],
        width: FromPath[int],
    ) -> Response[Any]:
        """A photo's smaller copy (WebP, for srcset); never changes, so cached for a year by anyone."""
        row = await ready_copy(db, media_id, width)
        where = await media_store.download(row.storage_key, content_type=row.content_type)
        if isinstance(where, LocalFile):
            return await serve_file(
                request, where.path, row.content_type, etag=row.sha256, cache_control=IMMUTABLE_CACHE_CONTROL
            )
        # object storage: a presigned redirect cannot be cached for long, and copies are small: pass the bytes on
        data = await media_store.read_range(row.storage_key, 0, row.bytes)
        return serve_bytes(request, data, row.content_type, etag=row.sha256, cache_control=IMMUTABLE_CACHE_CONTROL)


route_handlers: list[ControllerRouterHandler] = [MediaController]
