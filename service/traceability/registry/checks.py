"""Input rules the register and the batches share: communes, positions, texts per language, quantities, GTINs."""

from decimal import Decimal
from typing import Any

from service.core.errors import InvalidInput
from service.traceability.identifiers.gs1 import GS1Error, normalize_gtin
from service.traceability.registry import communes as places

MAX_LANG_TEXT = 5000


def check_commune(code: str) -> places.Commune:
    found = places.commune(code)
    if found is None:
        raise InvalidInput(
            f"'{code}' is not a commune or ward of Thái Nguyên in the official 2025 list", code="unknown_commune"
        )
    return found


def check_point(lat: float, lon: float) -> None:
    if not places.inside_thai_nguyen(lat, lon):
        if places.inside_thai_nguyen(lon, lat):
            raise InvalidInput("latitude and longitude look swapped", code="coordinates_swapped")
        raise InvalidInput("this point is outside Thái Nguyên province", code="outside_province")


def check_lang_text(field: str, value: dict[str, str], *, require_vi: bool) -> dict[str, str]:
    cleaned = {lang.strip(): text.strip() for lang, text in value.items()}
    if require_vi and not cleaned.get("vi"):
        raise InvalidInput(f"{field} needs a Vietnamese text under 'vi'", code="vietnamese_required")
    for lang, text in cleaned.items():
        if not (2 <= len(lang) <= 12) or not all(ch.isalnum() or ch == "-" for ch in lang):
            raise InvalidInput(f"{field}: '{lang[:20]}' is not a language tag", code="invalid_language")
        if len(text) > MAX_LANG_TEXT:
            raise InvalidInput(f"{field}.{lang} is longer than {MAX_LANG_TEXT} characters", code="text_too_long")
    if len(cleaned) > 20:
        raise InvalidInput(f"{field}: at most 20 languages", code="too_many_languages")
    return cleaned


MAX_QUANTITY = Decimal("1e12")


def check_quantity(value: Decimal, field: str = "quantity", maximum: Decimal = MAX_QUANTITY) -> Decimal:
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{field} must be a positive number", code="invalid_quantity")
    if value > maximum:
        raise InvalidInput(f"{field} is larger than {maximum:f}", code="invalid_quantity")
    return value


def check_gtin(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_gtin(raw)
    except GS1Error as exc:
        raise InvalidInput(str(exc), code="invalid_gtin") from exc


def check_geometry(geometry: dict[str, Any]) -> tuple[float, float]:
    """A GeoJSON Point or Polygon inside the province; returns (lat, lon) of the point or the ring's centre."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if set(geometry) - {"type", "coordinates"}:
        raise InvalidInput("geometry has only type and coordinates", code="invalid_geometry")
    try:
        if kind == "Point":
            lon, lat = _position(coords)
            check_point(lat, lon)
            return lat, lon
        if kind == "Polygon":
            if not isinstance(coords, list) or len(coords) != 1:
                raise InvalidInput("a plot polygon has one outer ring and no holes", code="invalid_geometry")
            ring = [_position(p) for p in coords[0]]
            if len(ring) < 4 or len(ring) > 500 or ring[0] != ring[-1]:
                raise InvalidInput(
                    "a polygon ring has 4 to 500 positions and ends where it starts", code="invalid_geometry"
                )
            for lon, lat in ring:
                check_point(lat, lon)
            points = ring[:-1]
            return sum(p[1] for p in points) / len(points), sum(p[0] for p in points) / len(points)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("geometry coordinates are [longitude, latitude] numbers", code="invalid_geometry") from exc
    raise InvalidInput("geometry is a GeoJSON Point or Polygon", code="invalid_geometry")


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3):
        raise ValueError("position")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError("position")
    return float(value[0]), float(value[1])
