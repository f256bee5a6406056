"""Media storage: LocalStore (default) and S3Store (boto3) behind one MediaStore protocol.

This package's surface: the protocol and its types (from base), the factory and the lifespan.
base <- local, base <- s3, and only this module picks one: no cycle.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeAlias

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import NamedDependency

from service.settings import Settings
from service.storage.base import (
    Download,
    LocalFile,
    MediaStore,
    ObjectChanged,
    ObjectInfo,
    RemoteURL,
    UnsafeKey,
    UploadTarget,
    UploadTooLarge,
    check_key,
)
from service.storage.local import LocalStore


@asynccontextmanager
async def build_media_store(settings: Settings) -> AsyncIterator[MediaStore]:
    """The configured store (LocalStore, or S3Store with its boto3 client); for the app and the CLI alike."""
    if settings.media_store == "s3":
        from service.storage.s3 import S3Store, build_s3_client  # boto3 loads only when S3 is configured

        assert settings.s3_bucket is not None  # Settings.check() refuses s3 without a bucket
        client = await asyncio.to_thread(build_s3_client, settings)
        try:
            yield S3Store(client, settings.s3_bucket, settings.upload_url_ttl_seconds)
        finally:
            await asyncio.to_thread(client.close)
        return

    def prepare_root() -> Path:
        root = Path(settings.media_dir).resolve()
        root.mkdir(parents=True, exist_ok=True)
        return root

    root = await asyncio.to_thread(prepare_root)
    yield LocalStore(root, settings.base_url, settings.jwt_secret, settings.upload_url_ttl_seconds)


@asynccontextmanager
async def storage_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Open the configured store, keep it on app.state.media_store, close the S3 client at shutdown."""
    async with build_media_store(app.state.settings) as store:
        app.state.media_store = store
        yield


def provide_media_store(state: State) -> MediaStore:
    """Handlers take `media_store: MediaStoreDep`; the store lives on app.state."""
    store: MediaStore = state.media_store
    return store


MediaStoreDep: TypeAlias = NamedDependency[MediaStore]

__all__ = [
    "Download",
    "LocalFile",
    "LocalStore",
    "MediaStore",
    "MediaStoreDep",
    "ObjectChanged",
    "ObjectInfo",
    "RemoteURL",
    "UnsafeKey",
    "UploadTarget",
    "UploadTooLarge",
    "build_media_store",
    "check_key",
    "provide_media_store",
    "storage_lifespan",
]
