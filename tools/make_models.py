"""Build the project's low-poly GLB models for heritage points of interest, with metadata.

The geometry is made here from numbers, so the output is byte-for-byte reproducible and owes
nothing to outside sources. Each model is glTF 2.0 binary (GLB): metres, +Y up, flat-shaded
boxes and prisms or smooth grids, one PBR metallic-roughness material per part, no textures.

Usage: python tools/make_models.py [OUT_DIR]   (default: assets/3d next to this file's repo)
"""

import argparse
import hashlib
import json
import math
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Vec3 = tuple[float, float, float]

GENERATOR = "tools/make_models.py"
ASSET_GENERATOR = "Thái Nguyên Trace & Tour tools/make_models.py"
ATTRIBUTION = "Thái Nguyên Trace & Tour project"
LICENCE = "CC-BY-4.0"

GLB_MAGIC = 0x46546C67  # b"glTF"
GLB_VERSION = 2
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942

FLOAT = 5126
UNSIGNED_SHORT = 5123
UNSIGNED_INT = 5125
ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963
TRIANGLES = 4


# --- vector helpers -------------------------------------------------------------------------


def add(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def scale(a: Vec3, s: float) -> Vec3:
    return (a[0] * s, a[1] * s, a[2] * s)


def dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def cross(a: Vec3, b: Vec3) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def normalize(a: Vec3) -> Vec3:
    length = math.sqrt(dot(a, a))
    if length < 1e-12:
        raise ValueError(f"cannot normalise a zero vector {a}")
    return scale(a, 1.0 / length)


def centroid(points: Sequence[Vec3]) -> Vec3:
    n = len(points)
    return (
        sum(p[0] for p in points) / n,
        sum(p[1] for p in points) / n,
        sum(p[2] for p in points) / n,
    )


def newell_normal(polygon: Sequence[Vec3]) -> Vec3:
    """Unit normal of a planar polygon, following its winding (robust for any vertex order)."""
    nx = ny = nz = 0.0
    for i, a in enumerate(polygon):
        b = polygon[(i + 1) % len(polygon)]
        nx += (a[1] - b[1]) * (a[2] + b[2])
        ny += (a[2] - b[2]) * (a[0] + b[0])
        nz += (a[0] - b[0]) * (a[1] + b[1])
    return normalize((nx, ny, nz))


# --- mesh building --------------------------------------------------------------------------


@dataclass
class Mesh:
    """Triangles with per-vertex normals; faces are wound counter-clockwise seen from outside."""

    positions: list[Vec3] = field(default_factory=list)
    normals: list[Vec3] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)

    def add_polygon(self, corners: Sequence[Vec3], outward: Vec3) -> None:
        """A flat convex polygon, fan-triangulated, turned to face along `outward`."""
        normal = newell_normal(corners)
        if dot(normal, outward) < 0:
            corners = list(reversed(corners))
            normal = scale(normal, -1.0)
        first = len(self.positions)
        self.positions.extend(corners)
        self.normals.extend([normal] * len(corners))
        for i in range(1, len(corners) - 1):
            self.indices.extend((first, first + i, first + i + 1))

    def add_prism(self, base: Sequence[Vec3], extrude: Vec3) -> None:
        """A convex planar polygon swept along `extrude`: caps plus one quad per edge."""
        top = [add(p, extrude) for p in base]
        middle = add(centroid(base), scale(extrude, 0.5))
        for face in (list(base), top):
            self.add_polygon(face, sub(centroid(face), middle))
        for i, a in enumerate(base):
            b = base[(i + 1) % len(base)]
            side = [a, b, add(b, extrude), add(a, extrude)]
            self.add_polygon(side, sub(centroid(side), middle))

    def add_box(self, center: Vec3, half_x: Vec3, half_y: Vec3, half_z: Vec3) -> None:
        """A box of any orientation, given its centre and three half-extent edge vectors."""
        bottom_center = sub(center, half_y)
        base = [
            add(bottom_center, add(scale(half_x, sx), scale(half_z, sz)))
            for sx, sz in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        self.add_prism(base, scale(half_y, 2.0))

    def add_block(self, lo: Vec3, hi: Vec3) -> None:
        """An axis-aligned box between two corners."""
        center = scale(add(lo, hi), 0.5)
        self.add_box(
            center,
            ((hi[0] - lo[0]) / 2, 0.0, 0.0),
            (0.0, (hi[1] - lo[1]) / 2, 0.0),
            (0.0, 0.0, (hi[2] - lo[2]) / 2),
        )

    def add_beam(self, start: Vec3, end: Vec3, width: float, depth: float, side: Vec3) -> None:
        """A square-section member from `start` to `end`; `side` picks the width direction."""
        axis = scale(sub(end, start), 0.5)
        across = normalize(sub(side, scale(normalize(axis), dot(side, normalize(axis)))))
        third = normalize(cross(axis, across))
        self.add_box(scale(add(start, end), 0.5), scale(across, width / 2), axis, scale(third, depth / 2))

    def add_smooth(
        self, positions: Sequence[Vec3], normals: Sequence[Vec3], triangles: Sequence[Sequence[int]]
    ) -> None:
        """Shared-vertex triangles, each turned to agree with its vertices' normals."""
        first = len(self.positions)
        self.positions.extend(positions)
        self.normals.extend(normals)
        for a, b, c in triangles:
            face = cross(sub(positions[b], positions[a]), sub(positions[c], positions[a]))
            if dot(face, add(add(normals[a], normals[b]), normals[c])) < 0:
                b, c = c, b
            self.indices.extend((first + a, first + b, first + c))

    def add_tube(self, centers: Sequence[Vec3], radii: Sequence[float], sides: int) -> None:
        """A smooth tube through `centers` with a flat cap at each end."""
        rings: list[list[Vec3]] = []
        ring_normals: list[list[Vec3]] = []
        for i, center in enumerate(centers):
            before = centers[max(i - 1, 0)]
            after = centers[min(i + 1, len(centers) - 1)]
            tangent = normalize(sub(after, before))
            across = normalize(cross(tangent, (0.0, 1.0, 0.0)))
            up = cross(across, tangent)
            directions = [
                add(scale(across, math.cos(a)), scale(up, math.sin(a)))
                for a in (2 * math.pi * j / sides for j in range(sides))
            ]
            ring_normals.append([normalize(d) for d in directions])
            rings.append([add(center, scale(d, radii[i])) for d in directions])
        positions = [p for ring in rings for p in ring]
        normals = [n for ring in ring_normals for n in ring]
        triangles: list[tuple[int, int, int]] = []
        for i in range(len(centers) - 1):
            for j in range(sides):
                a, b = i * sides + j, i * sides + (j + 1) % sides
                c, d = a + sides, b + sides
                triangles.extend(((a, b, d), (a, d, c)))
        self.add_smooth(positions, normals, triangles)
        self.add_polygon(rings[0], sub(centers[0], centers[1]))
        self.add_polygon(rings[-1], sub(centers[-1], centers[-2]))

    @property
    def triangle_count(self) -> int:
        return len(self.indices) // 3


# --- scene description ----------------------------------------------------------------------


@dataclass(frozen=True)
class Material:
    name: str
    srgb: str  # "#rrggbb", as a person would pick it; glTF wants linear factors
    roughness: float
    double_sided: bool = False

    def to_gltf(self) -> dict[str, Any]:
        linear = [round(srgb_to_linear(int(self.srgb[i : i + 2], 16) / 255), 4) for i in (1, 3, 5)]
        material: dict[str, Any] = {
            "name": self.name,
            "pbrMetallicRoughness": {
                "baseColorFactor": [*linear, 1.0],
                "metallicFactor": 0.0,
                "roughnessFactor": self.roughness,
            },
        }
        if self.double_sided:
            material["doubleSided"] = True
        return material


def srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else math.pow((c + 0.055) / 1.055, 2.4)


@dataclass(frozen=True)
class Part:
    node: str
    material: Material
    mesh: Mesh


@dataclass(frozen=True)
class Model:
    slug: str
    root: str
    title: dict[str, str]
    description: dict[str, str]
    parts: list[Part]


# --- the models -----------------------------------------------------------------------------

STONE = Material("weathered-stone", "#8c8e87", 0.9)
STONE_DARK = Material("base-stone", "#6f6d66", 0.95)
INSCRIPTION = Material("inscription-panel", "#4f524d", 0.7)


def stele() -> Model:
    """A memorial stele: two-step plinth, slightly tapered slab, inscription panel, roofed cap."""
    plinth = Mesh()
    plinth.add_block((-0.8, 0.0, -0.45), (0.8, 0.3, 0.45))
    plinth.add_block((-0.65, 0.3, -0.35), (0.65, 0.5, 0.35))

    body = Mesh()
    thickness = 0.22
    body.add_prism(
        [
            (-0.45, 0.5, -thickness / 2),
            (0.45, 0.5, -thickness / 2),
            (0.42, 2.2, -thickness / 2),
            (-0.42, 2.2, -thickness / 2),
        ],
        (0.0, 0.0, thickness),
    )

    panel = Mesh()  # stands 8 mm proud of the front face, so no coplanar flicker
    front = thickness / 2
    panel.add_block((-0.32, 0.75, front - 0.002), (0.32, 1.95, front + 0.008))

    cap = Mesh()
    cap.add_block((-0.5, 2.2, -0.17), (0.5, 2.32, 0.17))
    cap.add_prism([(-0.54, 2.32, -0.21), (-0.54, 2.32, 0.21), (-0.54, 2.5, 0.0)], (1.08, 0.0, 0.0))
    return Model(
        slug="stele",
        root="Stele",
        title={"vi": "Bia đá tưởng niệm", "en": "Memorial stone stele"},
        description={
            "vi": "Mô hình đơn giản một tấm bia đá trên bệ hai cấp, có ô khắc chữ và mũ bia, "
            "theo kiểu bia tại các khu di tích như Khu di tích 915 hay ATK Định Hóa. "
            "Không phải bản đo vẽ một tấm bia cụ thể.",
            "en": "A simple model of a stone stele on a two-step plinth, with an inscription "
            "panel and a roofed cap, in the manner of steles at heritage sites such as the "
            "915 relic site or ATK Định Hóa. Not a survey of any particular stele.",
        },
        parts=[
            Part("plinth", STONE_DARK, plinth),
            Part("stele-body", STONE, body),
            Part("inscription-panel", INSCRIPTION, panel),
            Part("stele-cap", STONE, cap),
        ],
    )


POST_WOOD = Material("post-wood", "#5a3b24", 0.85)
FOOTING_STONE = Material("footing-stone", "#7d7a72", 0.95)
FLOOR_BAMBOO = Material("floor-bamboo", "#b08f5a", 0.8)
WALL_WOOD = Material("wall-wood", "#8a5b34", 0.85)
SHUTTER = Material("window-shutter", "#3e2b1c", 0.85)
ROOF_THATCH = Material("roof-palm-thatch", "#9d8752", 0.95)
LADDER_WOOD = Material("ladder-wood", "#6b4a2d", 0.85)


def stilt_house() -> Model:
    """A Tày-style stilt house: posts on stones, raised floor with porch, walls, gable roof."""
    floor_y, floor_top = 1.8, 1.92
    wall_top, ridge_y = 3.9, 5.8
    half_w, half_d = 3.9, 2.4  # walls' outer faces
    porch_edge = 3.2
    post_xs = (-3.75, -1.25, 1.25, 3.75)
    post_zs = (-2.25, 0.0, 2.25, 3.05)

    posts, footings, beams = Mesh(), Mesh(), Mesh()
    for x in post_xs:
        for z in post_zs:
            posts.add_block((x - 0.09, 0.12, z - 0.09), (x + 0.09, floor_y, z + 0.09))
            footings.add_block((x - 0.16, 0.0, z - 0.16), (x + 0.16, 0.12, z + 0.16))
    for z in post_zs:  # sills under the floor, resting on the posts
        beams.add_block((-3.95, floor_y - 0.16, z - 0.08), (3.95, floor_y, z + 0.08))

    floor = Mesh()
    floor.add_block((-4.0, floor_y, -2.5), (4.0, floor_top, porch_edge))

    walls = Mesh()
    t = 0.06
    walls.add_block((-half_w, floor_top, -half_d), (half_w, wall_top, -half_d + t))  # back
    for x0 in (-half_w, half_w - t):  # ends
        walls.add_block((x0, floor_top, -half_d + t), (x0 + t, wall_top, half_d - t))
    door_half, door_top = 0.5, 3.5
    front_z = (half_d - t, half_d)
    walls.add_block((-half_w, floor_top, front_z[0]), (-door_half, wall_top, front_z[1]))
    walls.add_block((door_half, floor_top, front_z[0]), (half_w, wall_top, front_z[1]))
    walls.add_block((-door_half, door_top, front_z[0]), (door_half, wall_top, front_z[1]))
    slope = (ridge_y - wall_top) / half_d
    for x0 in (-half_w, half_w - t):  # gable triangles up to the roof's underside
        walls.add_prism([(x0, wall_top, -half_d), (x0, wall_top, half_d), (x0, ridge_y, 0.0)], (t, 0.0, 0.0))

    windows = Mesh()
    for x in (-2.3, 2.3):
        windows.add_block((x - 0.45, 2.6, half_d), (x + 0.45, 3.3, half_d + 0.015))

    roof = Mesh()
    eave_z, roof_t, roof_half_x = 3.35, 0.18, 4.5
    eave_y = ridge_y - slope * eave_z
    for sign in (-1.0, 1.0):
        roof.add_prism(
            [
                (-roof_half_x, ridge_y, 0.0),
                (-roof_half_x, eave_y, sign * eave_z),
                (-roof_half_x, eave_y + roof_t, sign * eave_z),
                (-roof_half_x, ridge_y + roof_t, 0.0),
            ],
            (2 * roof_half_x, 0.0, 0.0),
        )
    roof.add_block((-roof_half_x - 0.05, ridge_y + 0.1, -0.14), (roof_half_x + 0.05, ridge_y + 0.3, 0.14))

    ladder = Mesh()
    foot_z, top_y = porch_edge + 1.15, floor_top + 0.06
    rail_x = 0.28  # rails start 21 mm up so their tilted feet stop at the ground
    for x in (-rail_x, rail_x):
        ladder.add_beam((x, 0.021, foot_z), (x, top_y, porch_edge), 0.06, 0.08, (1.0, 0.0, 0.0))
    rungs = 6
    for i in range(1, rungs + 1):
        f = i / (rungs + 1)
        y, z = f * top_y, foot_z + f * (porch_edge - foot_z)
        ladder.add_beam((-rail_x, y, z), (rail_x, y, z), 0.05, 0.04, (0.0, 0.0, 1.0))

    return Model(
        slug="stilt-house",
        root="StiltHouse",
        title={"vi": "Nhà sàn ATK Định Hóa", "en": "Stilt house at ATK Định Hóa"},
        description={
            "vi": "Mô hình đơn giản một ngôi nhà sàn kiểu người Tày ở An toàn khu Định Hóa: "
            "cột gỗ kê trên đá tảng, sàn tre có hiên, vách gỗ, mái lá cọ hai mái và cầu thang. "
            "Kích thước ước lượng, không phải bản đo vẽ.",
            "en": "A simple model of a Tày-style stilt house (nhà sàn) of the Định Hóa "
            "safety zone (ATK): wooden posts on footing stones, a bamboo floor with a porch, "
            "timber walls, a palm-thatch gable roof and a ladder. Approximate proportions, "
            "not a measured survey.",
        },
        parts=[
            Part("footings", FOOTING_STONE, footings),
            Part("posts", POST_WOOD, posts),
            Part("floor-beams", POST_WOOD, beams),
            Part("floor", FLOOR_BAMBOO, floor),
            Part("walls", WALL_WOOD, walls),
            Part("windows", SHUTTER, windows),
            Part("roof", ROOF_THATCH, roof),
            Part("ladder", LADDER_WOOD, ladder),
        ],
    )


LEAF_GREEN = Material("tea-leaf-blade", "#3d7a2c", 0.45, double_sided=True)
MIDRIB_GREEN = Material("tea-leaf-midrib", "#8db34e", 0.55)
PETIOLE_GREEN = Material("tea-leaf-petiole", "#6e8c3a", 0.6)

LEAF_LENGTH = 0.09
LEAF_HALF_WIDTH = 0.0175


def leaf_half_width(u: float) -> float:
    """Elliptic-lanceolate outline: widest a little below the middle, pointed tip."""
    g = math.pow(u, 0.65) * math.pow(1.0 - u, 0.85)
    g_max = math.pow(0.65 / 1.5, 0.65) * math.pow(0.85 / 1.5, 0.85)
    return max(LEAF_HALF_WIDTH * g / g_max, 0.0012)


def leaf_point(u: float, v: float) -> Vec3:
    """A point on the blade: u runs base (0) to tip (1), v across from -1 to 1."""
    half = leaf_half_width(u)
    arch = 0.007 * math.sin(math.pi * u) - 0.006 * u**3  # bowed, with the tip drooping
    fold = 0.3 * half * math.pow(abs(v), 1.6)  # margins lifted either side of the midrib groove
    blister = 0.0006 * math.sin(6 * math.pi * u) * abs(v) * (1 - abs(v))
    sway = 0.003 * math.sin(math.pi * u)  # the midrib curves a little to one side
    return (u * LEAF_LENGTH, arch + fold + blister, sway + v * half)


def tea_leaf() -> Model:
    """A Tân Cương tea leaf: serrated curved blade, raised midrib, short petiole."""
    rows, across = 40, 8
    positions: list[Vec3] = []
    for i in range(rows):
        u = i / rows
        tooth = 0.93 if (i % 2 == 1 and 0.08 < u < 0.94) else 1.0  # serrated margin
        for j in range(across + 1):
            v = -1.0 + 2.0 * j / across
            v_margin = v * tooth if j in (0, across) else v
            positions.append(leaf_point(u, v_margin))
    tip = len(positions)
    positions.append(leaf_point(1.0, 0.0))

    triangles: list[tuple[int, int, int]] = []
    for i in range(rows - 1):
        for j in range(across):
            a = i * (across + 1) + j
            b, c, d = a + 1, a + across + 1, a + across + 2
            triangles.extend(((a, c, d), (a, d, b)))
    last = (rows - 1) * (across + 1)
    triangles.extend((last + j, tip, last + j + 1) for j in range(across))

    # Smooth normals: area-weighted face normals, each face turned to face up (+Y).
    sums: list[Vec3] = [(0.0, 0.0, 0.0)] * len(positions)
    for a, b, c in triangles:
        face = cross(sub(positions[b], positions[a]), sub(positions[c], positions[a]))
        if face[1] < 0:
            face = scale(face, -1.0)
        for k in (a, b, c):
            sums[k] = add(sums[k], face)
    blade = Mesh()
    blade.add_smooth(positions, [normalize(s) for s in sums], triangles)

    midrib = Mesh()
    steps = 24
    centers, radii = [], []
    for i in range(steps + 1):
        u = 0.96 * i / steps
        radius = 0.0011 * (1.0 - u) + 0.00025
        x, y, z = leaf_point(u, 0.0)
        centers.append((x, y + 0.4 * radius, z))
        radii.append(radius)
    midrib.add_tube(centers, radii, 6)

    petiole = Mesh()
    base = leaf_point(0.0, 0.0)
    stalk = [(base[0] - 0.009 + 0.0025 * k, base[1] - 0.0012 * (1 - k / 4) ** 2, base[2]) for k in range(5)]
    petiole.add_tube(stalk, [0.0013] * len(stalk), 6)

    return Model(
        slug="tea-leaf",
        root="TeaLeaf",
        title={"vi": "Lá chè Tân Cương", "en": "Tân Cương tea leaf"},
        description={
            "vi": "Mô hình một lá chè Tân Cương (Camellia sinensis) theo kích thước thật, "
            "khoảng 9 cm: phiến lá cong có mép răng cưa, gân chính nổi và cuống lá ngắn.",
            "en": "A life-size model of a Tân Cương tea leaf (Camellia sinensis), about 9 cm "
            "long: a curved blade with a serrated margin, a raised midrib and a short petiole.",
        },
        parts=[
            Part("leaf-blade", LEAF_GREEN, blade),
            Part("midrib", MIDRIB_GREEN, midrib),
            Part("petiole", PETIOLE_GREEN, petiole),
        ],
    )


MODELS = (stele, stilt_house, tea_leaf)


# --- GLB writing ----------------------------------------------------------------------------


def as_float32(values: Sequence[float]) -> list[float]:
    """Round to float32 so accessor min/max equal exactly what is stored in the buffer."""
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def pad4(data: bytes, fill: bytes) -> bytes:
    return data + fill * (-len(data) % 4)


@dataclass(frozen=True)
class BuiltModel:
    glb: bytes
    triangles: int
    bbox_min: Vec3
    bbox_max: Vec3


def build_glb(model: Model) -> BuiltModel:
    """Lay out one buffer (a bufferView per accessor) and wrap JSON and BIN into a GLB."""
    binary = bytearray()
    buffer_views: list[dict[str, Any]] = []
    accessors: list[dict[str, Any]] = []
    meshes: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = [{"name": model.root, "children": []}]
    materials: list[dict[str, Any]] = []
    material_index: dict[str, int] = {}
    lo = [math.inf] * 3
    hi = [-math.inf] * 3
    triangles = 0

    def add_view(data: bytes, target: int) -> int:
        buffer_views.append({"buffer": 0, "byteOffset": len(binary), "byteLength": len(data), "target": target})
        binary.extend(pad4(data, b"\0"))
        return len(buffer_views) - 1

    for part in model.parts:
        mesh = part.mesh
        if part.material.name not in material_index:
            material_index[part.material.name] = len(materials)
            materials.append(part.material.to_gltf())
        flat_positions = as_float32([c for p in mesh.positions for c in p])
        flat_normals = [c for n in mesh.normals for c in n]
        count = len(mesh.positions)
        p_min = [min(flat_positions[k::3]) for k in range(3)]
        p_max = [max(flat_positions[k::3]) for k in range(3)]
        lo = [min(a, b) for a, b in zip(lo, p_min, strict=True)]
        hi = [max(a, b) for a, b in zip(hi, p_max, strict=True)]

        position_view = add_view(struct.pack(f"<{3 * count}f", *flat_positions), ARRAY_BUFFER)
        accessors.append(
            {
                "bufferView": position_view,
                "componentType": FLOAT,
                "count": count,
                "type": "VEC3",
                "min": p_min,
                "max": p_max,
            }
        )
        normal_view = add_view(struct.pack(f"<{3 * count}f", *flat_normals), ARRAY_BUFFER)
        accessors.append({"bufferView": normal_view, "componentType": FLOAT, "count": count, "type": "VEC3"})
        wide = count > 65535
        index_format, index_type = ("I", UNSIGNED_INT) if wide else ("H", UNSIGNED_SHORT)
        index_data = struct.pack(f"<{len(mesh.indices)}{index_format}", *mesh.indices)
        index_view = add_view(index_data, ELEMENT_ARRAY_BUFFER)
        accessors.append(
            {"bufferView": index_view, "componentType": index_type, "count": len(mesh.indices), "type": "SCALAR"}
        )
        meshes.append(
            {
                "name": part.node,
                "primitives": [
                    {
                        "attributes": {"POSITION": len(accessors) - 3, "NORMAL": len(accessors) - 2},
                        "indices": len(accessors) - 1,
                        "material": material_index[part.material.name],
                        "mode": TRIANGLES,
                    }
                ],
            }
        )
        nodes[0]["children"].append(len(nodes))
        nodes.append({"name": part.node, "mesh": len(meshes) - 1})
        triangles += mesh.triangle_count

    document = {
        "asset": {
            "version": "2.0",
            "generator": ASSET_GENERATOR,
            "copyright": f"{ATTRIBUTION}, {LICENCE}",
        },
        "scene": 0,
        "scenes": [{"name": model.root, "nodes": [0]}],
        "nodes": nodes,
        "meshes": meshes,
        "materials": materials,
        "accessors": accessors,
        "bufferViews": buffer_views,
        "buffers": [{"byteLength": len(binary)}],
    }
    json_chunk = pad4(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), b" ")
    bin_chunk = bytes(binary)  # every view was padded already
    total = 12 + 8 + len(json_chunk) + 8 + len(bin_chunk)
    glb = b"".join(
        (
            struct.pack("<III", GLB_MAGIC, GLB_VERSION, total),
            struct.pack("<II", len(json_chunk), CHUNK_JSON),
            json_chunk,
            struct.pack("<II", len(bin_chunk), CHUNK_BIN),
            bin_chunk,
        )
    )
    return BuiltModel(glb, triangles, (lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]))


def metadata(model: Model, built: BuiltModel) -> dict[str, Any]:
    return {
        "slug": model.slug,
        "file": f"{model.slug}.glb",
        "title": model.title,
        "description": model.description,
        "licence": LICENCE,
        "attribution": ATTRIBUTION,
        "triangles": built.triangles,
        "bytes": len(built.glb),
        "sha256": hashlib.sha256(built.glb).hexdigest(),
        "bbox": {
            "min": [round(c, 6) for c in built.bbox_min],
            "max": [round(c, 6) for c in built.bbox_max],
        },
        "generator": GENERATOR,
    }


def write_models(out_dir: Path) -> list[dict[str, Any]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for make in MODELS:
        model = make()
        built = build_glb(model)
        meta = metadata(model, built)
        (out_dir / meta["file"]).write_bytes(built.glb)
        text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
        (out_dir / f"{model.slug}.json").write_text(text, encoding="utf-8")
        written.append(meta)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default_out = Path(__file__).resolve().parents[1] / "assets" / "3d"
    parser.add_argument("out_dir", nargs="?", type=Path, default=default_out)
    args = parser.parse_args(argv)
    for meta in write_models(args.out_dir):
        print(f"{meta['file']}: {meta['triangles']} triangles, {meta['bytes']} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
