"""The shipped GLB models: valid glTF 2.0 by the Khronos validator, honest metadata, reproducible.

The GLB parsing here is deliberately separate from tools/make_models.py: it reads the file on
disk, so a metadata file left stale after a model changed fails these tests.
"""

import hashlib
import json
import math
import shutil
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
ASSET_DIR = REPO / "assets" / "3d"
VALIDATOR_DIR = REPO / "tools" / "gltf-validator"
GLB_PATHS = sorted(ASSET_DIR.glob("*.glb"))
MAX_BYTES = 60 * 1024

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
COMPONENT_FORMATS = {5120: "b", 5121: "B", 5122: "h", 5123: "H", 5125: "I", 5126: "f"}
TYPE_WIDTHS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
TRIANGLES = 4

Matrix = tuple[float, ...]  # 4x4, column-major as glTF stores it
IDENTITY: Matrix = (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1)


@dataclass(frozen=True)
class Glb:
    version: int
    declared_length: int
    json_chunk: bytes
    document: dict[str, Any]
    binary: bytes


def parse_glb(data: bytes) -> Glb:
    """Split a GLB into its header, JSON chunk and BIN chunk, checking the framing."""
    magic, version, declared_length = struct.unpack_from("<4sII", data, 0)
    assert magic == GLB_MAGIC, f"bad magic {magic!r}"
    json_length, json_type = struct.unpack_from("<II", data, 12)
    assert json_type == CHUNK_JSON, "first chunk must be JSON"
    json_chunk = data[20 : 20 + json_length]
    binary = b""
    offset = 20 + json_length
    if offset < len(data):
        bin_length, bin_type = struct.unpack_from("<II", data, offset)
        assert bin_type == CHUNK_BIN, "second chunk must be BIN"
        binary = data[offset + 8 : offset + 8 + bin_length]
        assert len(binary) == bin_length, "BIN chunk runs past the end of the file"
    return Glb(version, declared_length, json_chunk, json.loads(json_chunk), binary)


def read_accessor(glb: Glb, index: int) -> list[tuple[float, ...]]:
    """Elements of one accessor, read from the BIN chunk (honouring offsets and stride)."""
    accessor = glb.document["accessors"][index]
    view = glb.document["bufferViews"][accessor["bufferView"]]
    assert view["buffer"] == 0, "only the GLB's own buffer is expected"
    fmt = COMPONENT_FORMATS[accessor["componentType"]]
    width = TYPE_WIDTHS[accessor["type"]]
    element = struct.Struct(f"<{width}{fmt}")
    stride = view.get("byteStride", element.size)
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    return [element.unpack_from(glb.binary, start + i * stride) for i in range(accessor["count"])]


def multiply(a: Matrix, b: Matrix) -> Matrix:
    return tuple(sum(a[k * 4 + row] * b[col * 4 + k] for k in range(4)) for col in range(4) for row in range(4))


def local_matrix(node: dict[str, Any]) -> Matrix:
    if "matrix" in node:
        return tuple(node["matrix"])
    tx, ty, tz = node.get("translation", (0, 0, 0))
    x, y, z, w = node.get("rotation", (0, 0, 0, 1))
    sx, sy, sz = node.get("scale", (1, 1, 1))
    rotation = (
        (1 - 2 * (y * y + z * z), 2 * (x * y + z * w), 2 * (x * z - y * w)),
        (2 * (x * y - z * w), 1 - 2 * (x * x + z * z), 2 * (y * z + x * w)),
        (2 * (x * z + y * w), 2 * (y * z - x * w), 1 - 2 * (x * x + y * y)),
    )  # columns
    return (
        *(c * sx for c in rotation[0]), 0,
        *(c * sy for c in rotation[1]), 0,
        *(c * sz for c in rotation[2]), 0,
        tx, ty, tz, 1,
    )  # fmt: skip


def transform(m: Matrix, p: Sequence[float]) -> tuple[float, float, float]:
    return (
        m[0] * p[0] + m[4] * p[1] + m[8] * p[2] + m[12],
        m[1] * p[0] + m[5] * p[1] + m[9] * p[2] + m[13],
        m[2] * p[0] + m[6] * p[1] + m[10] * p[2] + m[14],
    )


@dataclass(frozen=True)
class SceneMeasure:
    triangles: int
    bbox_min: tuple[float, float, float]
    bbox_max: tuple[float, float, float]


def measure_scene(glb: Glb) -> SceneMeasure:
    """Triangles drawn and world-space bounds of the default scene, from the buffer data."""
    doc = glb.document
    triangles = 0
    lo = [math.inf] * 3
    hi = [-math.inf] * 3

    def visit(node_index: int, parent: Matrix) -> None:
        nonlocal triangles
        node = doc["nodes"][node_index]
        world = multiply(parent, local_matrix(node))
        if "mesh" in node:
            for primitive in doc["meshes"][node["mesh"]]["primitives"]:
                assert primitive.get("mode", TRIANGLES) == TRIANGLES
                positions = read_accessor(glb, primitive["attributes"]["POSITION"])
                if "indices" in primitive:
                    triangles += doc["accessors"][primitive["indices"]]["count"] // 3
                else:
                    triangles += len(positions) // 3
                for p in positions:
                    for axis, value in enumerate(transform(world, p)):
                        lo[axis] = min(lo[axis], value)
                        hi[axis] = max(hi[axis], value)
        for child in node.get("children", []):
            visit(child, world)

    for root in doc["scenes"][doc.get("scene", 0)]["nodes"]:
        visit(root, IDENTITY)
    return SceneMeasure(triangles, (lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))


def glb_ids(path: Path) -> str:
    return path.name


def test_the_project_models_are_shipped() -> None:
    assert {"stele", "stilt-house", "tea-leaf"} <= {path.stem for path in GLB_PATHS}


@pytest.fixture(scope="module")
def validator_reports() -> dict[str, Any]:
    """One validator run over every GLB (one Node process, not one per file)."""
    if not (VALIDATOR_DIR / "node_modules" / "gltf-validator" / "package.json").is_file():
        pytest.fail(
            "The Khronos glTF validator is not installed: run `make test`, or "
            "`npm ci --prefix tools/gltf-validator` before running pytest by hand.",
            pytrace=False,
        )
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js (`node`) is needed to run the Khronos glTF validator.", pytrace=False)
    result = subprocess.run(
        [node, str(VALIDATOR_DIR / "validate.mjs"), *(str(path) for path in GLB_PATHS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"validate.mjs failed: {result.stderr}"
    files: dict[str, Any] = json.loads(result.stdout)["files"]
    return files


@pytest.mark.parametrize("glb_path", GLB_PATHS, ids=glb_ids)
def test_khronos_validator_finds_no_errors(glb_path: Path, validator_reports: dict[str, Any]) -> None:
    report = validator_reports[str(glb_path)]
    errors = [message for message in report["messages"] if message["severity"] == 0]
    assert report["numErrors"] == 0, errors
    meta = json.loads(glb_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert report["totalTriangleCount"] == meta["triangles"]


@pytest.mark.parametrize("glb_path", GLB_PATHS, ids=glb_ids)
def test_glb_header_and_structure(glb_path: Path) -> None:
    data = glb_path.read_bytes()
    assert len(data) <= MAX_BYTES, f"{glb_path.name} is {len(data)} bytes"
    glb = parse_glb(data)
    assert glb.version == 2
    assert glb.declared_length == len(data)
    assert len(glb.json_chunk) % 4 == 0
    assert len(glb.binary) % 4 == 0
    doc = glb.document
    assert doc["asset"]["version"] == "2.0"
    assert doc["asset"]["generator"]
    assert doc["buffers"] == [{"byteLength": len(glb.binary)}]
    scene_roots = doc["scenes"][doc["scene"]]["nodes"]
    assert scene_roots
    assert all(node.get("name") for node in doc["nodes"])
    for material in doc["materials"]:
        base_color = material["pbrMetallicRoughness"]["baseColorFactor"]
        assert len(base_color) == 4
        assert all(0.0 <= c <= 1.0 for c in base_color)
    for mesh in doc["meshes"]:
        for primitive in mesh["primitives"]:
            assert {"POSITION", "NORMAL"} <= primitive["attributes"].keys()
            assert "indices" in primitive
            assert "material" in primitive
            position = doc["accessors"][primitive["attributes"]["POSITION"]]
            assert "min" in position
            assert "max" in position


@pytest.mark.parametrize("glb_path", GLB_PATHS, ids=glb_ids)
def test_triangles_face_the_way_their_normals_point(glb_path: Path) -> None:
    """Winding and normals agree, so back-face culling never hides a front face."""
    glb = parse_glb(glb_path.read_bytes())
    for mesh in glb.document["meshes"]:
        for primitive in mesh["primitives"]:
            positions = read_accessor(glb, primitive["attributes"]["POSITION"])
            normals = read_accessor(glb, primitive["attributes"]["NORMAL"])
            indices = [int(i[0]) for i in read_accessor(glb, primitive["indices"])]
            for t in range(0, len(indices), 3):
                a, b, c = (positions[i] for i in indices[t : t + 3])
                ab = [b[k] - a[k] for k in range(3)]
                ac = [c[k] - a[k] for k in range(3)]
                face = (
                    ab[1] * ac[2] - ab[2] * ac[1],
                    ab[2] * ac[0] - ab[0] * ac[2],
                    ab[0] * ac[1] - ab[1] * ac[0],
                )
                shared = [sum(normals[i][k] for i in indices[t : t + 3]) for k in range(3)]
                assert sum(f * s for f, s in zip(face, shared, strict=True)) > 0, (
                    f"{mesh['name']}: triangle {t // 3} is wound against its normals"
                )


@pytest.mark.parametrize("glb_path", GLB_PATHS, ids=glb_ids)
def test_metadata_matches_the_glb_on_disk(glb_path: Path) -> None:
    meta_path = glb_path.with_suffix(".json")
    assert meta_path.is_file(), f"{glb_path.name} has no {meta_path.name}"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    data = glb_path.read_bytes()

    assert meta["slug"] == glb_path.stem
    assert meta["file"] == glb_path.name
    assert meta["bytes"] == len(data)
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    measured = measure_scene(parse_glb(data))
    assert meta["triangles"] == measured.triangles
    assert meta["bbox"]["min"] == pytest.approx(measured.bbox_min, abs=1e-6)
    assert meta["bbox"]["max"] == pytest.approx(measured.bbox_max, abs=1e-6)
    assert meta["licence"] == "CC-BY-4.0"
    assert meta["attribution"] == "Thái Nguyên Trace & Tour project"
    assert meta["generator"] == "tools/make_models.py"
    for text in (meta["title"], meta["description"]):
        assert text["vi"]
        assert text["en"]


def test_regenerating_the_models_gives_identical_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "make_models.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    shipped = {path.name: path.read_bytes() for path in ASSET_DIR.iterdir()}
    regenerated = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert regenerated.keys() == shipped.keys()
    stale = sorted(name for name in shipped if shipped[name] != regenerated[name])
    assert not stale, f"run `python tools/make_models.py` and commit: {stale} differ"
