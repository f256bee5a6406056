"""load_model_assets: the shipped metadata decodes, and broken metadata is refused with a reason."""

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.tourism.media.models3d import ModelAsset, ModelAssetError, load_model_assets

ASSET_DIR = Path(__file__).resolve().parents[3] / "assets" / "3d"


def test_loads_every_shipped_model() -> None:
    assets = load_model_assets(ASSET_DIR)

    assert set(assets) == {path.stem for path in ASSET_DIR.glob("*.glb")}
    stele = assets["stele"]
    assert isinstance(stele, ModelAsset)
    assert stele.file == "stele.glb"
    assert stele.title.vi
    assert stele.title.en
    assert stele.licence == "CC-BY-4.0"
    assert stele.bytes == (ASSET_DIR / "stele.glb").stat().st_size
    assert all(lo <= hi for lo, hi in zip(stele.bbox.min, stele.bbox.max, strict=True))


def test_an_empty_directory_has_no_models(tmp_path: Path) -> None:
    assert load_model_assets(tmp_path) == {}


@pytest.fixture
def copied_assets(tmp_path: Path) -> Path:
    for path in ASSET_DIR.glob("stele.*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def edit_metadata(directory: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = directory / "stele.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    change(meta)
    path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.update(polygons=12), "unknown field"),
        (lambda m: m.update(sha256="not-a-hash"), "sha256"),
        (lambda m: m.update(triangles=0), "triangles"),
        (lambda m: m["title"].pop("vi"), "vi"),
        (lambda m: m["bbox"].update(min=[0, 0]), "bbox"),
        (lambda m: m.update(bytes=m["bytes"] + 1), "bytes"),
        (lambda m: m.update(slug="stilt-house"), "does not match"),
        (lambda m: m.update(file="other.glb"), "should be stele.glb"),
        (lambda m: m["bbox"].update(min=[1, 0, 0], max=[0, 1, 1]), "min exceeds max"),
    ],
    ids=[
        "unknown-field",
        "bad-sha256",
        "no-triangles",
        "missing-vietnamese-title",
        "short-bbox",
        "wrong-size",
        "slug-mismatch",
        "file-mismatch",
        "inverted-bbox",
    ],
)
def test_broken_metadata_is_refused(copied_assets: Path, change: Callable[[dict[str, Any]], None], reason: str) -> None:
    edit_metadata(copied_assets, change)

    with pytest.raises(ModelAssetError, match=reason):
        load_model_assets(copied_assets)


def test_metadata_without_its_glb_is_refused(copied_assets: Path) -> None:
    (copied_assets / "stele.glb").unlink()

    with pytest.raises(ModelAssetError, match=re.escape("stele.glb is missing")):
        load_model_assets(copied_assets)


def test_a_glb_without_metadata_is_refused(copied_assets: Path) -> None:
    (copied_assets / "stele.json").unlink()

    with pytest.raises(ModelAssetError, match=re.escape("without metadata: stele.glb")):
        load_model_assets(copied_assets)


def test_malformed_json_is_refused(copied_assets: Path) -> None:
    (copied_assets / "stele.json").write_text("{not json", encoding="utf-8")

    with pytest.raises(ModelAssetError, match=re.escape("stele.json")):
        load_model_assets(copied_assets)
