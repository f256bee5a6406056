"""The media upload flow: declare -> PUT the bytes to a signed URL -> complete (verified) -> serve.

Uploads land under a staging key (`incoming/<id>`); only a completed, verified object is moved to
its final key, so a still-valid upload URL can never overwrite media that is already in use.
"""

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post, put, route
from litestar.datastructures import State
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect
from litestar.security.jwt import Token
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from service.auth import CurrentUser
from service.db import DB
from service.errors import Conflict, InvalidInput, NotFound, ServiceError
from service.http_files import IMMUTABLE_CACHE_CONTROL, SKIP_COMPRESSION, serve_file
from service.mediatypes import (
    ALLOWED,
    MAX_UPLOAD_BYTES,
    PURPOSE_FAMILY,
    SNIFF_BYTES,
    MediaKind,
    Purpose,
    kind_of,
    normalize_content_type,
    sniff,
)
from service.settings import Settings
from service.storage import LocalFile, LocalStore, MediaStore, MediaStoreDep, UploadTooLarge, provide_media_store

Sha256Hex = Annotated[str, Meta(pattern="^[0-9a-fA-F]{64}$", description="hex sha256 of the bytes")]

# --- schemas -----------------------------------------------------------------------------------------


class MediaCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    purpose: Purpose
    content_type: Annotated[str, Meta(min_length=3, max_length=100, examples=["image/jpeg"])]
    bytes: Annotated[int, Meta(gt=0, description="exact size of the file")]
    sha256: Sha256Hex


class MediaUpload(msgspec.Struct, kw_only=True):
    """Where to send the bytes: PUT `upload_url` with exactly these headers before `expires_at`."""

    id: uuid.UUID
    upload_url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: datetime


class MediaRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    purpose: str
    status: Literal["pending", "ready"]
    content_type: str | None
    bytes: int
    sha256: str
    url: str
    created_at: datetime


class MediaRow(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    owner_id: uuid.UUID
    purpose: str
    declared_type: str
    content_type: str | None
    bytes: int
    sha256: str
    storage_key: str
    status: Literal["pending", "ready"]
    created_at: datetime
    expires_at: datetime


# --- queries -----------------------------------------------------------------------------------------

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


async def mark_ready(conn: asyncpg.Connection, media_id: uuid.UUID, content_type: str) -> MediaRow | None:
    row = await conn.fetchrow(
        f"""
        update media set status = 'ready', content_type = $2, completed_at = now()
        where id = $1 and status = 'pending'
        returning {_COLUMNS}
        """,  # noqa: S608 - constant columns
        media_id,
        content_type,
    )
    return None if row is None else msgspec.convert(dict(row), MediaRow)


async def ready_media_ids(conn: asyncpg.Connection, media_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    rows = await conn.fetch("select id from media where id = any($1::uuid[]) and status = 'ready'", media_ids)
    return [row["id"] for row in rows]


# --- services ----------------------------------------------------------------------------------------


def staging_key(media_id: uuid.UUID) -> str:
    return f"incoming/{media_id}"


def final_key(purpose: str, media_id: uuid.UUID, kind: MediaKind) -> str:
    return f"{purpose}/{media_id}.{kind.extension}"


def public_url(base_url: str, media_id: uuid.UUID) -> str:
    """The stable public address of a media item (it redirects or serves, depending on the store)."""
    return f"{base_url.rstrip('/')}/api/v1/media/{media_id}"


async def media_urls(conn: asyncpg.Connection, base_url: str, media_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Public URLs of those media that are ready, in one query (for lists of products, POIs, tracks)."""
    return {media_id: public_url(base_url, media_id) for media_id in await ready_media_ids(conn, media_ids)}


def _read(row: MediaRow, base_url: str) -> MediaRead:
    return MediaRead(
        id=row.id,
        purpose=row.purpose,
        status=row.status,
        content_type=row.content_type,
        bytes=row.bytes,
        sha256=row.sha256,
        url=public_url(base_url, row.id),
        created_at=row.created_at,
    )


def _accepted_kind(purpose: str, content_type: str, size: int) -> MediaKind:
    kind = kind_of(content_type)
    family = PURPOSE_FAMILY[purpose]
    if kind is None or kind.family != family:
        allowed = ", ".join(sorted(k.content_type for k in ALLOWED.values() if k.family == family))
        raise InvalidInput(f"a {purpose} must be one of: {allowed}", code="type_not_allowed")
    if size > kind.max_bytes:
        raise InvalidInput(f"{kind.content_type} files may be at most {kind.max_bytes} bytes", code="too_large")
    return kind


async def create_media(
    conn: asyncpg.Connection, store: MediaStore, owner: CurrentUser, data: MediaCreate
) -> MediaUpload:
    """Check the declaration up-front, record a pending row and hand out the upload target."""
    kind = _accepted_kind(data.purpose, data.content_type, data.bytes)
    media_id = uuid.uuid4()
    target = await store.create_upload(
        staging_key(media_id), media_id=media_id, content_type=kind.content_type, size=data.bytes
    )
    await insert_media(
        conn,
        media_id=media_id,
        owner_id=owner.id,
        purpose=data.purpose,
        declared_type=kind.content_type,
        size=data.bytes,
        sha256=data.sha256.lower(),
        storage_key=final_key(data.purpose, media_id, kind),
        expires_at=target.expires_at,
        ready=False,
    )
    return MediaUpload(
        id=media_id, upload_url=target.url, method=target.method, headers=target.headers, expires_at=target.expires_at
    )


async def owned_media(conn: asyncpg.Connection, user: CurrentUser, media_id: uuid.UUID) -> MediaRow:
    """The row when the caller owns it (or is an admin); otherwise it does not exist for them."""
    row = await media_row(conn, media_id)
    if row is None or (row.owner_id != user.id and user.role != "admin"):
        raise NotFound("no such media", code="media_not_found")
    return row


async def _verify(store: MediaStore, row: MediaRow, key: str, version: str, size: int) -> str:
    """Size, real type (magic bytes) and checksum of what arrived; returns the real content type."""
    if size != row.bytes:
        raise InvalidInput(f"{size} bytes arrived but {row.bytes} were declared", code="size_mismatch")
    real = sniff(await store.read_range(key, 0, SNIFF_BYTES))
    kind = ALLOWED.get(real) if real else None
    if kind is None:
        raise InvalidInput("the file is not an image, audio or 3D model type we accept", code="type_not_allowed")
    declared = ALLOWED[row.declared_type]
    if kind.family != declared.family:
        raise InvalidInput(
            f"declared {declared.content_type} but the file is {kind.content_type}", code="type_mismatch"
        )
    if size > kind.max_bytes:
        raise InvalidInput(f"{kind.content_type} files may be at most {kind.max_bytes} bytes", code="too_large")
    if await store.sha256(key, version=version) != row.sha256:
        raise InvalidInput("the sha256 of the uploaded bytes does not match the declared one", code="checksum_mismatch")
    return kind.content_type


async def complete_media(
    conn: asyncpg.Connection, store: MediaStore, user: CurrentUser, media_id: uuid.UUID, base_url: str
) -> MediaRead:
    """Verify the upload and mark it ready; on any failure the bytes are deleted and the row stays pending."""
    row = await owned_media(conn, user, media_id)
    if row.status == "ready":
        return _read(row, base_url)
    source = staging_key(media_id)
    info = await store.stat(source)
    if info is None:
        # A previous completion may have moved the object but failed before recording it.
        source = row.storage_key
        info = await store.stat(source)
    if info is None:
        raise Conflict("no bytes have been uploaded for this media yet", code="not_uploaded")
    try:
        content_type = await _verify(store, row, source, info.version, info.size)
        if source != row.storage_key:
            await store.promote(source, row.storage_key, version=info.version)
    except ServiceError:
        await store.delete(source)
        raise
    ready = await mark_ready(conn, media_id, content_type) or await media_row(conn, media_id)
    assert ready is not None, "a completed media row cannot vanish"
    return _read(ready, base_url)


async def receive_upload(
    pool: asyncpg.Pool, store: LocalStore, request: Request[Any, Any, Any], media_id: uuid.UUID, expires: int, sig: str
) -> None:
    """LocalStore's PUT: the signature authorises it; the connection is held only for the lookup."""
    async with pool.acquire() as conn:
        row = await media_row(conn, media_id)  # type: ignore[arg-type]  # the pool's proxy is a Connection
    if row is None:
        raise NotFound("no such media", code="media_not_found")
    store.verify_upload(
        media_id=media_id, expires=expires, signature=sig, content_type=row.declared_type, size=row.bytes
    )
    if normalize_content_type(request.headers.get("content-type", "")) != row.declared_type:
        raise ServiceError(
            f"send the bytes with Content-Type: {row.declared_type}", code="content_type_mismatch", status=415
        )
    if row.status == "ready":
        raise Conflict("this media is already complete", code="already_completed")
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > row.bytes:
        raise UploadTooLarge(f"the body is larger than the declared {row.bytes} bytes")
    await store.write_stream(staging_key(media_id), request.stream(), max_bytes=row.bytes)


async def store_server_bytes(
    conn: asyncpg.Connection, store: MediaStore, owner_id: uuid.UUID, purpose: Purpose, data: bytes, content_type: str
) -> uuid.UUID:
    """Server-side writes (seed, narration): checked like uploads, stored, recorded ready; returns the id."""
    kind = _accepted_kind(purpose, content_type, len(data))
    real = sniff(data[:SNIFF_BYTES])
    real_kind = ALLOWED.get(real) if real else None
    if real_kind is None or real_kind.family != kind.family:
        raise InvalidInput(f"the bytes are not {kind.content_type}", code="type_mismatch")
    media_id = uuid.uuid4()
    key = final_key(purpose, media_id, real_kind)
    await store.put_bytes(key, data, real_kind.content_type)
    try:
        await insert_media(
            conn,
            media_id=media_id,
            owner_id=owner_id,
            purpose=purpose,
            declared_type=real_kind.content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            storage_key=key,
            expires_at=None,
            ready=True,
        )
    except BaseException:
        await store.delete(key)
        raise
    return media_id


async def sweep_abandoned_uploads(conn: asyncpg.Connection, store: MediaStore, *, grace_seconds: int = 3600) -> int:
    """Remove pending uploads whose URL expired over `grace_seconds` ago, bytes first; returns how many."""
    rows = await conn.fetch(
        """
        select id, storage_key from media
        where status = 'pending' and expires_at < now() - make_interval(secs => $1)
        order by expires_at limit 500
        """,
        grace_seconds,
    )
    swept = 0
    for row in rows:
        try:
            deleted = await conn.fetchval(
                "delete from media where id = $1 and status = 'pending' returning id", row["id"]
            )
        except asyncpg.ForeignKeyViolationError:
            continue  # something refers to it: leave it for a person to look at
        if deleted is not None:
            await store.delete(staging_key(row["id"]))
            await store.delete(row["storage_key"])
            swept += 1
    return swept


# --- routes ------------------------------------------------------------------------------------------


class MediaController(Controller):
    path = "/api/v1/media"
    tags = ["media"]
    dependencies = {"media_store": Provide(provide_media_store, sync_to_thread=False)}

    @post("/", operation_id="createMedia", status_code=201)
    async def create(
        self, request: Request[CurrentUser, Token, Any], db: DB, media_store: MediaStoreDep, data: JSONBody[MediaCreate]
    ) -> MediaUpload:
        """Declare an upload (purpose, type, size, sha256); returns where to PUT the bytes."""
        return await create_media(db, media_store, request.user, data)

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
        request: Request[CurrentUser, Token, Any],
        db: DB,
        state: State,
        media_store: MediaStoreDep,
        media_id: FromPath[uuid.UUID],
    ) -> MediaRead:
        """Verify what was uploaded (size, real type, sha256) and make it available."""
        settings: Settings = state.settings
        return await complete_media(db, media_store, request.user, media_id, settings.base_url)

    @get("/{media_id:uuid}/meta", operation_id="getMediaMeta")
    async def meta(
        self, request: Request[CurrentUser, Token, Any], db: DB, state: State, media_id: FromPath[uuid.UUID]
    ) -> MediaRead:
        """The owner's view of a media item, pending or ready."""
        settings: Settings = state.settings
        return _read(await owned_media(db, request.user, media_id), settings.base_url)

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
        row = await media_row(db, media_id)
        if row is None or row.status != "ready" or row.content_type is None:
            raise NotFound("no such media", code="media_not_found")
        where = await media_store.download(row.storage_key, content_type=row.content_type)
        if isinstance(where, LocalFile):
            return await serve_file(
                request, where.path, row.content_type, etag=row.sha256, cache_control=IMMUTABLE_CACHE_CONTROL
            )
        return Redirect(
            where.url, status_code=307, headers={"Cache-Control": f"private, max-age={min(60, where.expires_in // 2)}"}
        )


route_handlers: list[ControllerRouterHandler] = [MediaController]
