"""A strict RFC 7946 checker for the tests: structure, geometry types, [lon, lat] ranges, ring closure."""

import math
from typing import Any

GEOMETRY_TYPES = {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}


def _position(value: Any, where: str) -> None:
    assert isinstance(value, list), f"{where}: a position is an array"
    assert len(value) in (2, 3), f"{where}: a position is [lon, lat(, alt)]"
    assert all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value), where
    lon, lat = value[0], value[1]
    assert -180 <= lon <= 180, f"{where}: longitude {lon} out of range"
    assert -90 <= lat <= 90, f"{where}: latitude {lat} out of range"


def _line(value: Any, where: str) -> None:
    assert isinstance(value, list), f"{where}: a LineString is an array"
    assert len(value) >= 2, f"{where}: a LineString has at least 2 positions"
    for i, p in enumerate(value):
        _position(p, f"{where}[{i}]")


def _ring(value: Any, where: str) -> None:
    assert isinstance(value, list), f"{where}: a linear ring is an array"
    assert len(value) >= 4, f"{where}: a linear ring has at least 4 positions"
    for i, p in enumerate(value):
        _position(p, f"{where}[{i}]")
    assert value[0] == value[-1], f"{where}: the ring is not closed"


def check_geometry(geometry: Any, where: str) -> None:
    assert isinstance(geometry, dict), f"{where}: geometry is an object or null"
    kind = geometry.get("type")
    assert kind in GEOMETRY_TYPES, f"{where}: unknown geometry type {kind!r}"
    coords = geometry.get("coordinates")
    if kind == "Point":
        _position(coords, where)
    elif kind == "MultiPoint":
        for i, p in enumerate(coords):
            _position(p, f"{where}[{i}]")
    elif kind == "LineString":
        _line(coords, where)
    elif kind == "MultiLineString":
        for i, line in enumerate(coords):
            _line(line, f"{where}[{i}]")
    elif kind == "Polygon":
        assert isinstance(coords, list), f"{where}: Polygon coordinates are an array"
        assert coords, f"{where}: a Polygon has at least one ring"
        for i, ring in enumerate(coords):
            _ring(ring, f"{where}[{i}]")
    else:
        for i, polygon in enumerate(coords):
            for j, ring in enumerate(polygon):
                _ring(ring, f"{where}[{i}][{j}]")


def check_feature_collection(doc: Any) -> None:
    assert isinstance(doc, dict), "not a JSON object"
    assert doc.get("type") == "FeatureCollection", "not a FeatureCollection"
    assert "crs" not in doc, "RFC 7946 removed crs"
    assert isinstance(doc.get("features"), list), "features must be an array"
    for index, feature in enumerate(doc["features"]):
        where = f"features[{index}]"
        assert isinstance(feature, dict), f"{where}: not an object"
        assert feature.get("type") == "Feature", f"{where}: not a Feature"
        assert "geometry" in feature, f"{where}: geometry is required"
        assert "properties" in feature, f"{where}: properties are required"
        if "id" in feature:
            assert isinstance(feature["id"], str | int | float), f"{where}: id is a string or number"
        assert feature["properties"] is None or isinstance(feature["properties"], dict), f"{where}: properties"
        if feature["geometry"] is not None:
            check_geometry(feature["geometry"], where)
