"""The shipped 3D models (assets/3d), read once per process and served with ETag and Range."""

import asyncio
import functools
from pathlib import Path

from service.tourism.models3d import ModelAsset, load_model_assets

MODELS_DIR = Path(__file__).resolve().parents[2] / "assets" / "3d"
GLB_MIME = "model/gltf-binary"


@functools.cache
def _assets(directory: Path) -> dict[str, ModelAsset]:
    if not directory.is_dir():
        return {}
    return load_model_assets(directory)


@functools.cache
def _glb_bytes(directory: Path, slug: str) -> bytes:
    return (directory / f"{slug}.glb").read_bytes()


def model_assets(directory: Path = MODELS_DIR) -> dict[str, ModelAsset]:
    """Blocking on the first call only (a few small JSON files); later calls hit the cache."""
    return _assets(directory)


async def glb_bytes(slug: str, directory: Path = MODELS_DIR) -> bytes:
    """The GLB bytes, cached in memory: the models are tens of kilobytes and read-only."""
    return await asyncio.to_thread(_glb_bytes, directory, slug)


def model_etag(asset: ModelAsset) -> str:
    return f'"{asset.sha256[:32]}"'
