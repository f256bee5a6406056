"""The shipped 3D models (assets/3d): their metadata, read once per process."""

import functools
from pathlib import Path

from service.tourism.media.models3d import ModelAsset, load_model_assets

MODELS_DIR = Path(__file__).resolve().parents[3] / "assets" / "3d"
GLB_MIME = "model/gltf-binary"


@functools.cache
def _assets(directory: Path) -> dict[str, ModelAsset]:
    if not directory.is_dir():
        return {}
    return load_model_assets(directory)


def model_assets(directory: Path = MODELS_DIR) -> dict[str, ModelAsset]:
    """Blocking on the first call only (a few small JSON files); later calls hit the cache."""
    return _assets(directory)
