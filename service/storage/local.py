"""LocalStore: media as files under one directory, uploads PUT to our own signed route."""

import asyncio
import base64
import hashlib
import hmac
import os
import shutil
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

import anyio

from service.core.errors import Forbidden
from service.storage.base import (
    CHANGED_DETAIL,
    Download,
    LocalFile,
    ObjectChanged,
    ObjectInfo,
    UnsafeKey,
    UploadTarget,
    UploadTooLarge,
    check_key,
)


def _file_version(st: os.stat_result) -> str:
    return f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}"


def _signing_key(secret: str) -> bytes:
    """Upload URLs get their own key, derived from the JWT secret, so one never signs for the other."""
    return hmac.new(secret.encode(), b"trace-tour/media-upload-url/v1", hashlib.sha256).digest()


@dataclass(slots=True)
class LocalStore:
    """Files under MEDIA_DIR; uploads come to our own signed PUT route."""

    root: Path
    base_url: str
    signing_secret: str = field(repr=False)
    url_ttl_seconds: int = 900
    kind: Literal["local", "s3"] = "local"

    def path_for(self, key: str) -> Path:
        """Pure path arithmetic (no filesystem calls): the key is checked, the result stays under root."""
        path = Path(os.path.normpath(self.root / check_key(key)))
        if not path.is_relative_to(self.root):
            raise UnsafeKey(f"unsafe storage key: {key!r}")
        return path

    def sign_upload(self, *, media_id: uuid.UUID, expires: int, content_type: str, size: int) -> str:
        message = f"PUT\n{media_id}\n{expires}\n{content_type}\n{size}".encode()
        digest = hmac.new(_signing_key(self.signing_secret), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def verify_upload(self, *, media_id: uuid.UUID, expires: int, signature: str, content_type: str, size: int) -> None:
        """Refuse a tampered or expired upload URL (403 with a code the client can act on)."""
        expected = self.sign_upload(media_id=media_id, expires=expires, content_type=content_type, size=size)
        if not hmac.compare_digest(expected, signature):
            raise Forbidden("the upload URL signature is not valid", code="invalid_signature")
        if expires < int(datetime.now(UTC).timestamp()):
            raise Forbidden("the upload URL has expired; create the upload again", code="upload_url_expired")

    async def create_upload(self, key: str, *, media_id: uuid.UUID, content_type: str, size: int) -> UploadTarget:
        check_key(key)
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=self.url_ttl_seconds)
        expires = int(expires_at.timestamp())
        sig = self.sign_upload(media_id=media_id, expires=expires, content_type=content_type, size=size)
        query = urlencode({"expires": expires, "sig": sig})
        return UploadTarget(
            url=f"{self.base_url}/api/v1/media/{media_id}/upload?{query}",
            method="PUT",
            headers={"Content-Type": content_type},
            expires_at=expires_at,
        )

    async def write_stream(self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int) -> int:
        """Stream a body to a temp file, then rename it into place; nothing partial is ever visible."""
        target = self.path_for(key)
        incoming = self.root / ".incoming"
        await anyio.to_thread.run_sync(lambda: incoming.mkdir(parents=True, exist_ok=True))
        temp = incoming / f"{uuid.uuid4().hex}.part"
        written = 0
        try:
            async with await anyio.open_file(temp, "wb") as out:
                async for chunk in chunks:
                    written += len(chunk)
                    if written > max_bytes:
                        raise UploadTooLarge(f"the body is larger than the declared {max_bytes} bytes")
                    await out.write(chunk)

            def publish() -> None:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)

            await anyio.to_thread.run_sync(publish)
        finally:
            await anyio.to_thread.run_sync(lambda: temp.unlink(missing_ok=True))
        return written

    async def stat(self, key: str) -> ObjectInfo | None:
        path = self.path_for(key)

        def stat() -> ObjectInfo | None:
            try:
                st = path.stat()
            except FileNotFoundError:
                return None
            return ObjectInfo(size=st.st_size, version=_file_version(st))

        return await asyncio.to_thread(stat)

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        path = self.path_for(key)

        def read() -> bytes:
            with path.open("rb") as f:
                f.seek(start)
                return f.read(length)

        return await asyncio.to_thread(read)

    async def sha256(self, key: str, *, version: str | None = None) -> str:
        path = self.path_for(key)

        def digest() -> str:
            with path.open("rb") as f:
                if version is not None and _file_version(os.fstat(f.fileno())) != version:
                    raise ObjectChanged(CHANGED_DETAIL)
                return hashlib.file_digest(f, "sha256").hexdigest()

        return await asyncio.to_thread(digest)

    async def promote(self, source: str, target: str, *, version: str | None = None) -> None:
        source_path, target_path = self.path_for(source), self.path_for(target)

        def move() -> None:
            if version is not None and _file_version(source_path.stat()) != version:
                raise ObjectChanged(CHANGED_DETAIL)
            target_path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source_path, target_path)

        await asyncio.to_thread(move)

    async def delete(self, key: str) -> None:
        path = self.path_for(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path_for(key)

        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
            try:
                temp.write_bytes(data)
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)

        await asyncio.to_thread(write)

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        target = self.path_for(key)

        def write() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
            try:
                shutil.copyfile(path, temp)
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)

        await asyncio.to_thread(write)

    async def get_file(self, key: str, path: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.path_for(key), path)

    async def keys(self, prefix: str) -> list[str]:
        folder = self.path_for(prefix.rstrip("/"))

        def walk() -> list[str]:
            if not folder.is_dir():
                return []
            return sorted(
                p.relative_to(self.root).as_posix()
                for p in folder.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            )

        return await asyncio.to_thread(walk)

    async def download(self, key: str, *, content_type: str) -> Download:
        return LocalFile(self.path_for(key))
