"""Structs on the wire for the shipped 3D models."""

import msgspec


class ModelInfo(msgspec.Struct, kw_only=True):
    slug: str
    title: str
    description: str
    licence: str
    attribution: str
    triangles: int
    bytes: int
    sha256: str
    bbox_min: tuple[float, float, float]
    bbox_max: tuple[float, float, float]
    url: str
