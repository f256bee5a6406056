"""3D model assets shipped in assets/3d: their metadata files, decoded and checked with msgspec.

Each `<slug>.glb` has a `<slug>.json` beside it (written by tools/make_models.py) carrying its
titles, licence and measurements. The service reads them once at startup, so a malformed or
orphaned file stops the start instead of surfacing as a broken model in a visitor's browser.
"""

import pathlib
from typing import Annotated

import msgspec
from msgspec import Meta

ModelSlug = Annotated[str, Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=64)]
GlbFileName = Annotated[str, Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*\.glb$", max_length=68)]
Sha256Hex = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
NonEmptyText = Annotated[str, Meta(min_length=1)]
Point3 = tuple[float, float, float]


class LocalizedText(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The same text in Vietnamese and English; both are required for a shipped model."""

    vi: NonEmptyText
    en: NonEmptyText


class BoundingBox(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Axis-aligned bounds of the whole scene, in metres, glTF axes (+Y up)."""

    min: Point3
    max: Point3


class ModelAsset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Metadata of one GLB model, as stored in assets/3d/<slug>.json."""

    slug: ModelSlug
    file: GlbFileName
    title: LocalizedText
    description: LocalizedText
    licence: NonEmptyText
    attribution: NonEmptyText
    triangles: Annotated[int, Meta(ge=1)]
    bytes: Annotated[int, Meta(ge=1)]
    sha256: Sha256Hex
    bbox: BoundingBox
    generator: NonEmptyText


class ModelAssetError(Exception):
    """A metadata file in the model directory is malformed or does not fit its GLB."""


def load_model_assets(directory: pathlib.Path) -> dict[str, ModelAsset]:
    """Read every `*.json` in `directory` as a ModelAsset, keyed by slug (blocking file I/O).

    Checks what is cheap at startup: the schema, that names agree (`stele.json` describes
    `stele.glb`), that the GLB exists with the stated size, and that no GLB lacks metadata.
    Content hashes and geometry are checked by the test suite, not on every start.
    """
    assets: dict[str, ModelAsset] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            asset = msgspec.json.decode(path.read_bytes(), type=ModelAsset)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
            raise ModelAssetError(f"{path.name}: {exc}") from exc
        if asset.slug != path.stem:
            raise ModelAssetError(f"{path.name}: slug {asset.slug!r} does not match file name")
        if asset.file != f"{asset.slug}.glb":
            raise ModelAssetError(f"{path.name}: file {asset.file!r} should be {asset.slug}.glb")
        glb = directory / asset.file
        if not glb.is_file():
            raise ModelAssetError(f"{path.name}: {asset.file} is missing")
        size = glb.stat().st_size
        if size != asset.bytes:
            raise ModelAssetError(f"{path.name}: {asset.file} has {size} bytes, metadata says {asset.bytes}")
        if any(lo > hi for lo, hi in zip(asset.bbox.min, asset.bbox.max, strict=True)):
            raise ModelAssetError(f"{path.name}: bbox min exceeds max")
        assets[asset.slug] = asset
    orphans = sorted(p.name for p in directory.glob("*.glb") if p.stem not in assets)
    if orphans:
        raise ModelAssetError(f"GLB files without metadata: {', '.join(orphans)}")
    return assets
