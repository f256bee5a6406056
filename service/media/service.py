"""The media upload flow: declare -> PUT the bytes to a signed URL -> complete (verified) -> serve.

Uploads land under a staging key (`incoming/<id>`); only a completed, verified object is moved to
its final key, so a still-valid upload URL can never overwrite media that is already in use.
"""

import asyncio
import contextlib
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import asyncpg
import msgspec
from litestar import Request

from service.auth.schemas import CurrentUser
from service.core import clock
from service.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError, TooManyRequests
from service.media.metadata import FORMATS, strip_metadata
from service.media.queries import (
    RenditionRow,
    delete_unreferenced_ready_media,
    insert_media,
    lock_upload_usage,
    mark_ready,
    media_row,
    ready_media_ids,
    ready_rendition,
    record_renditions,
)
from service.media.renditions import make_renditions
from service.media.schemas import MediaCreate, MediaRead, MediaRow, MediaUpload
from service.media.types import (
    ALLOWED,
    PURPOSE_FAMILIES,
    PURPOSE_ROLES,
    SNIFF_BYTES,
    MediaKind,
    Purpose,
    kind_of,
    normalize_content_type,
    sniff,
)
from service.storage import LocalStore, MediaStore, UploadTooLarge
from service.storage.base import CHANGED_DETAIL, ObjectChanged


class UploadQuota(msgspec.Struct, frozen=True, kw_only=True):
    """Uploads declared per local day (Asia/Ho_Chi_Minh); from the settings of the same names."""

    count_per_user: int
    bytes_per_user: int
    count_per_organization: int
    bytes_per_organization: int


class QuotaBytesExceeded(ServiceError):
    status, code, title = 413, "upload_quota_bytes", "Upload quota exceeded"


def _today_in_vietnam() -> tuple[datetime, int]:
    """Today's start in Vietnam, and the seconds until tomorrow's (the Retry-After of a spent quota)."""
    start = datetime.combine(clock.today(), time.min, tzinfo=clock.VN_TZ)
    return start, max(1, int((start + timedelta(days=1) - clock.now()).total_seconds()))


async def _check_quota(conn: asyncpg.Connection, owner: CurrentUser, size: int, quota: UploadQuota) -> None:
    """429 when the day's count is spent, 413 when the bytes would overflow; for the user and their organization."""
    since, retry_after = _today_in_vietnam()
    usage = await lock_upload_usage(conn, owner.id, since)
    headers = {"Retry-After": str(retry_after)}
    in_org = usage.organization_id is not None
    if usage.user_count + 1 > quota.count_per_user:
        raise TooManyRequests(
            f"you may declare {quota.count_per_user} uploads a day; try again tomorrow",
            code="upload_quota_count",
            headers=headers,
        )
    if in_org and usage.organization_count + 1 > quota.count_per_organization:
        raise TooManyRequests(
            f"your organization may declare {quota.count_per_organization} uploads a day; try again tomorrow",
            code="upload_quota_count",
            headers=headers,
        )
    if usage.user_bytes + size > quota.bytes_per_user:
        left = max(0, quota.bytes_per_user - usage.user_bytes)
        raise QuotaBytesExceeded(
            f"you may upload {quota.bytes_per_user} bytes a day; {left} are left today", headers=headers
        )
    if in_org and usage.organization_bytes + size > quota.bytes_per_organization:
        left = max(0, quota.bytes_per_organization - usage.organization_bytes)
        raise QuotaBytesExceeded(
            f"your organization may upload {quota.bytes_per_organization} bytes a day; {left} are left today",
            headers=headers,
        )


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


def media_read(row: MediaRow, base_url: str) -> MediaRead:
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
    families = PURPOSE_FAMILIES[purpose]
    if kind is None or kind.family not in families:
        allowed = ", ".join(sorted(k.content_type for k in ALLOWED.values() if k.family in families))
        raise InvalidInput(f"a {purpose} must be one of: {allowed}", code="type_not_allowed")
    if size > kind.max_bytes:
        raise InvalidInput(f"{kind.content_type} files may be at most {kind.max_bytes} bytes", code="too_large")
    return kind


async def create_media(
    conn: asyncpg.Connection, store: MediaStore, owner: CurrentUser, data: MediaCreate, quota: UploadQuota
) -> MediaUpload:
    """Check the declaration up-front (role, type, size, the day's quota), record a pending row, hand out the target."""
    if owner.role not in PURPOSE_ROLES[data.purpose]:
        allowed = ", ".join(sorted(PURPOSE_ROLES[data.purpose]))
        raise Forbidden(f"a {data.purpose} may be uploaded by: {allowed}", code="purpose_not_allowed")
    kind = _accepted_kind(data.purpose, data.content_type, data.bytes)
    media_id = uuid.uuid4()
    target = await store.create_upload(
        staging_key(media_id), media_id=media_id, content_type=kind.content_type, size=data.bytes
    )
    async with conn.transaction():  # the quota lock is held until the row is in
        await _check_quota(conn, owner, data.bytes, quota)
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
        raise InvalidInput("the file is not an image, audio, 3D model or PDF type we accept", code="type_not_allowed")
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
        return media_read(row, base_url)
    source = staging_key(media_id)
    info = await store.stat(source)
    if info is None:
        # A previous completion may have moved the object but failed before recording it.
        source = row.storage_key
        info = await store.stat(source)
    if info is None:
        raise Conflict("no bytes have been uploaded for this media yet", code="not_uploaded")
    size, sha256 = row.bytes, row.sha256
    stripped = False
    renditions: Renditions | None = None
    served = b""
    try:
        content_type = await _verify(store, row, source, info.version, info.size)
        if content_type in FORMATS and source != row.storage_key:
            size, sha256, served = await _store_without_metadata(store, row, source, info.size, content_type)
            stripped = True
        elif source != row.storage_key:
            await store.promote(source, row.storage_key, version=info.version)
        if content_type in FORMATS:
            if not stripped:  # promoted, or a retry after the move: the served bytes are the final object
                served = await store.read_range(row.storage_key, 0, info.size)
            renditions = await store_renditions(store, row.storage_key, served, content_type)
    except ServiceError:
        await store.delete(source)
        raise
    async with conn.transaction():
        if renditions is not None:
            await record_renditions(conn, media_id, renditions.width, renditions.height, renditions.copies)
        ready = await mark_ready(conn, media_id, content_type, size, sha256) or await media_row(conn, media_id)
    assert ready is not None, "a completed media row cannot vanish"
    if stripped:  # only now: until the row is ready, a retry starts again from the original upload
        with contextlib.suppress(OSError):
            await store.delete(source)
    return media_read(ready, base_url)


@dataclass(frozen=True, slots=True)
class Renditions:
    """A photo's drawn size and the rows of its stored copies."""

    width: int
    height: int
    copies: list[RenditionRow]


def rendition_key(storage_key: str, width: int) -> str:
    """Beside the original: photo/abc.jpg -> photo/abc.w640.webp."""
    return f"{storage_key.rsplit('.', 1)[0]}.w{width}.webp"


async def store_renditions(store: MediaStore, storage_key: str, data: bytes, content_type: str) -> Renditions:
    """Make the photo's smaller copies off the event loop and put them in the store; their rows to record."""
    made = await asyncio.to_thread(make_renditions, data, content_type)
    copies = []
    for copy in made.copies:
        key = rendition_key(storage_key, copy.width)
        await store.put_bytes(key, copy.data, copy.content_type)
        copies.append(
            RenditionRow(
                width=copy.width,
                height=copy.height,
                content_type=copy.content_type,
                bytes=len(copy.data),
                sha256=hashlib.sha256(copy.data).hexdigest(),
                storage_key=key,
            )
        )
    return Renditions(width=made.width, height=made.height, copies=copies)


async def _store_without_metadata(
    store: MediaStore, row: MediaRow, source: str, size: int, content_type: str
) -> tuple[int, str, bytes]:
    """Photos lose EXIF (GPS!), XMP and comments before anyone can download them; (size, sha256, bytes) served."""
    original = await store.read_range(source, 0, size)
    if hashlib.sha256(original).hexdigest() != row.sha256:
        raise ObjectChanged(CHANGED_DETAIL)
    cleaned = await asyncio.to_thread(strip_metadata, original, content_type)
    await store.put_bytes(row.storage_key, cleaned, content_type)
    return len(cleaned), hashlib.sha256(cleaned).hexdigest(), cleaned


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
    renditions = None
    try:
        if real_kind.content_type in FORMATS:
            renditions = await store_renditions(store, key, data, real_kind.content_type)
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
        if renditions is not None:
            await record_renditions(conn, media_id, renditions.width, renditions.height, renditions.copies)
    except BaseException:
        await store.delete(key)
        for copy in renditions.copies if renditions is not None else []:
            await store.delete(copy.storage_key)
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


async def sweep_unreferenced_media(
    conn: asyncpg.Connection,
    store: MediaStore,
    *,
    grace_seconds: float,
    keep_sha256: frozenset[str] = frozenset(),
    batch: int = 500,
) -> int:
    """Remove ready media nothing has referenced for `grace_seconds` after completion; returns how many.

    The grace period keeps an upload that is about to be attached (photos are attached after they are
    uploaded); `keep_sha256` keeps items referenced by content rather than by id (the shipped 3D models).
    Rows go first, in one statement that re-checks every reference; then the bytes: a failure in between
    leaves an orphaned object in the store, never a row whose bytes are gone.
    """
    swept = 0
    while True:
        gone = await delete_unreferenced_ready_media(
            conn, grace_seconds=grace_seconds, keep_sha256=sorted(keep_sha256), limit=batch
        )
        for item in gone:
            for key in (*item.copies, item.storage_key):
                await store.delete(key)
        swept += len(gone)
        if len(gone) < batch:
            return swept


async def owned_media_read(
    conn: asyncpg.Connection, user: CurrentUser, media_id: uuid.UUID, base_url: str
) -> MediaRead:
    """The owner's view of a media item, pending or ready."""
    return media_read(await owned_media(conn, user, media_id), base_url)


async def ready_media(conn: asyncpg.Connection, media_id: uuid.UUID) -> tuple[MediaRow, str]:
    """A media item anyone may download, with its content type; NotFound until it is ready."""
    row = await media_row(conn, media_id)
    if row is None or row.status != "ready" or row.content_type is None:
        raise NotFound("no such media", code="media_not_found")
    return row, row.content_type


async def ready_copy(conn: asyncpg.Connection, media_id: uuid.UUID, width: int) -> RenditionRow:
    """A stored copy of a ready photo at this width; NotFound for any other width."""
    row = await ready_rendition(conn, media_id, width) if 0 < width <= 100_000 else None
    if row is None:
        raise NotFound("this photo has no copy at this width", code="rendition_not_found")
    return row
