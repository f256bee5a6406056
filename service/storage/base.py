"""What a media store is: the MediaStore protocol, its value types and errors (implemented in local and s3).

Both stores hand the client an upload target (a URL to PUT the bytes to), then let the media
service inspect what arrived (size, first bytes, sha256) before it is marked ready.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from service.core.errors import ServiceError

HASH_CHUNK = 1024 * 1024
CHANGED_DETAIL = "the upload was replaced while it was being checked; complete it again"
DOWNLOAD_URL_TTL_SECONDS = 300
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class UnsafeKey(ValueError):
    """A storage key that could escape the store's root; keys are made by us, so this is a bug."""


class UploadTooLarge(ServiceError):
    status, code, title = 413, "too_large", "Payload too large"


class StorageUnavailable(ServiceError):
    """The object store cannot be reached (refused, timed out): a clear 503 in seconds, never a hang or a 500."""

    status, code, title = 503, "storage_unavailable", "Service unavailable"

    def __init__(self, detail: str = "the media store cannot be reached right now; try again in a minute") -> None:
        super().__init__(detail, headers={"Retry-After": "30"})


class ObjectChanged(ServiceError):
    """The upload was replaced while we were checking it: the client should complete again."""

    status, code, title = 409, "upload_changed", "Conflict"


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a store knows about an object: its size and a version that changes when it is rewritten."""

    size: int
    version: str


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """Where and how the client sends the bytes."""

    url: str
    method: Literal["PUT"]
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LocalFile:
    """The object is a file on this machine: serve it ourselves (Range, ETag)."""

    path: Path


@dataclass(frozen=True, slots=True)
class RemoteURL:
    """The object lives elsewhere: send the client there (a short-lived presigned URL)."""

    url: str
    expires_in: int


Download: TypeAlias = LocalFile | RemoteURL


def check_key(key: str) -> str:
    """Keys are relative slash-separated names of safe characters: no '..', no absolute paths."""
    if len(key) > 512 or not _SAFE_KEY.match(key) or any(part in {".", ".."} for part in key.split("/")):
        raise UnsafeKey(f"unsafe storage key: {key!r}")
    return key


@runtime_checkable
class MediaStore(Protocol):
    """What the media flow needs from a store; keys come from the service, never from clients."""

    kind: Literal["local", "s3"]

    async def create_upload(self, key: str, *, media_id: uuid.UUID, content_type: str, size: int) -> UploadTarget:
        """A URL the client PUTs the bytes to, valid for the configured upload TTL."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None:
        """Size and version of the object under the key, or None when nothing is there."""
        ...

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to `length` bytes from `start` (fewer at the end of the object)."""
        ...

    async def sha256(self, key: str, *, version: str | None = None) -> str:
        """Hex sha256 of the whole object, streamed; ObjectChanged if it is no longer `version`."""
        ...

    async def promote(self, source: str, target: str, *, version: str | None = None) -> None:
        """Move a verified upload to its final key (server-side); ObjectChanged if it was replaced meanwhile."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing object is fine."""
        ...

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Server-side write (seed, narration): the whole object at once."""
        ...

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Server-side write of a file too large to hold in memory (archives, backups); streamed."""
        ...

    async def get_file(self, key: str, path: Path) -> None:
        """Copy the object into a local file (restore); streamed. FileNotFoundError when it is missing."""
        ...

    async def keys(self, prefix: str) -> list[str]:
        """Every key under the prefix (a folder name ending in '/'), sorted."""
        ...

    async def download(self, key: str, *, content_type: str) -> Download:
        """How a reader gets the object: a local file to serve, or a presigned URL."""
        ...
