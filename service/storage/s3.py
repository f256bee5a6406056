"""S3Store: media in an S3-protocol bucket (Tigris on Fly, MinIO, AWS); every boto3 call runs in a thread."""

import asyncio
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from service.settings import Settings
from service.storage.base import (
    CHANGED_DETAIL,
    DOWNLOAD_URL_TTL_SECONDS,
    HASH_CHUNK,
    Download,
    ObjectChanged,
    ObjectInfo,
    RemoteURL,
    StorageUnavailable,
    UploadTarget,
    check_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef


R = TypeVar("R")


async def _blocking(call: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """A boto3 call in a thread; an unreachable endpoint (refused, timed out, cut) becomes StorageUnavailable."""
    from botocore.exceptions import ConnectionError as EndpointUnreachable
    from botocore.exceptions import HTTPClientError

    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except (EndpointUnreachable, HTTPClientError) as exc:
        raise StorageUnavailable() from exc


def _is_missing(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


def _precondition_failed(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    return str(exc.response.get("Error", {}).get("Code", "")) in {"412", "PreconditionFailed"}


@dataclass(slots=True)
class S3Store:
    """An S3-protocol bucket (Tigris on Fly, MinIO, AWS); clients PUT and GET through presigned URLs."""

    client: "S3Client" = field(repr=False)
    bucket: str
    url_ttl_seconds: int = 900
    kind: Literal["local", "s3"] = "s3"

    async def create_upload(self, key: str, *, media_id: uuid.UUID, content_type: str, size: int) -> UploadTarget:
        check_key(key)
        expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=self.url_ttl_seconds)
        url = await _blocking(
            self.client.generate_presigned_url,
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=self.url_ttl_seconds,
            HttpMethod="PUT",
        )
        return UploadTarget(url=url, method="PUT", headers={"Content-Type": content_type}, expires_at=expires_at)

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            head = await _blocking(self.client.head_object, Bucket=self.bucket, Key=check_key(key))
        except Exception as exc:
            if _is_missing(exc):
                return None
            raise
        return ObjectInfo(size=int(head["ContentLength"]), version=head["ETag"])

    async def read_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""

        def read() -> bytes:
            obj = self.client.get_object(
                Bucket=self.bucket, Key=check_key(key), Range=f"bytes={start}-{start + length - 1}"
            )
            body = obj["Body"]
            try:
                return body.read()
            finally:
                body.close()

        return await _blocking(read)

    async def sha256(self, key: str, *, version: str | None = None) -> str:
        def digest() -> str:
            try:
                if version is None:
                    obj = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
                else:
                    obj = self.client.get_object(Bucket=self.bucket, Key=check_key(key), IfMatch=version)
            except Exception as exc:
                if _precondition_failed(exc):
                    raise ObjectChanged(CHANGED_DETAIL) from exc
                raise
            body = obj["Body"]
            hasher = hashlib.sha256()
            try:
                for chunk in body.iter_chunks(HASH_CHUNK):
                    hasher.update(chunk)
            finally:
                body.close()
            return hasher.hexdigest()

        return await _blocking(digest)

    async def promote(self, source: str, target: str, *, version: str | None = None) -> None:
        """Server-side copy then delete: the client's upload URL can never overwrite a verified object."""

        def move() -> None:
            copy_source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": check_key(source)}
            try:
                if version is None:
                    copied = self.client.copy_object(Bucket=self.bucket, Key=check_key(target), CopySource=copy_source)
                else:
                    copied = self.client.copy_object(
                        Bucket=self.bucket, Key=check_key(target), CopySource=copy_source, CopySourceIfMatch=version
                    )
            except Exception as exc:
                if _precondition_failed(exc):
                    raise ObjectChanged(CHANGED_DETAIL) from exc
                raise
            # Belt and braces for servers that ignore CopySourceIfMatch: check what was actually copied.
            if version is not None and copied.get("CopyObjectResult", {}).get("ETag") != version:
                self.client.delete_object(Bucket=self.bucket, Key=target)
                raise ObjectChanged(CHANGED_DETAIL)
            self.client.delete_object(Bucket=self.bucket, Key=source)

        await _blocking(move)

    async def delete(self, key: str) -> None:
        await _blocking(self.client.delete_object, Bucket=self.bucket, Key=check_key(key))

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        await _blocking(
            self.client.put_object, Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type
        )

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        await asyncio.to_thread(
            self.client.upload_file,
            str(path),
            self.bucket,
            check_key(key),
            ExtraArgs={"ContentType": content_type},
        )

    async def get_file(self, key: str, path: Path) -> None:
        def fetch() -> None:
            try:
                self.client.download_file(self.bucket, check_key(key), str(path))
            except Exception as exc:
                if _is_missing(exc):
                    raise FileNotFoundError(key) from exc
                raise

        await asyncio.to_thread(fetch)

    async def keys(self, prefix: str) -> list[str]:
        def listing() -> list[str]:
            found: list[str] = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                found.extend(item["Key"] for item in page.get("Contents", []))
            return sorted(found)

        return await asyncio.to_thread(listing)

    async def download(self, key: str, *, content_type: str) -> Download:
        url = await _blocking(
            self.client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": check_key(key), "ResponseContentType": content_type},
            ExpiresIn=DOWNLOAD_URL_TTL_SECONDS,
            HttpMethod="GET",
        )
        return RemoteURL(url=url, expires_in=DOWNLOAD_URL_TTL_SECONDS)


def build_s3_client(settings: Settings) -> "S3Client":
    """A boto3 S3 client with bounded timeouts and standard retries (blocking: call in a thread)."""
    import boto3
    from botocore.config import Config

    # an unreachable store must fail within seconds (media routes answer 503 storage_unavailable), not hang
    config = Config(
        connect_timeout=3,
        read_timeout=20,
        retries={"max_attempts": 3, "mode": "standard"},
        signature_version="s3v4",
        s3={"addressing_style": "path"},
    )
    client: S3Client = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=config,
    )
    return client


__all__ = ["S3Store", "build_s3_client"]
