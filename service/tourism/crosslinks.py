"""What tourism needs from other domains, declared here and wired by app.py (domains never import each other)."""

from typing import Protocol

import msgspec


class ProducerRef(msgspec.Struct, frozen=True, kw_only=True):
    """An OCOP producer or product near a place, as the traceability domain chooses to describe it."""

    kind: str  # "producer" | "product"
    name: str
    url: str
    distance_m: float
    lat: float | None = None
    lon: float | None = None
    stars: int | None = None


class NearbyProducers(Protocol):
    """Traceability's public lookup of OCOP producers and products around a point."""

    async def near(self, lat: float, lon: float, radius_km: float, lang: str, limit: int) -> list[ProducerRef]: ...


class ProductHit(msgspec.Struct, frozen=True, kw_only=True):
    """An OCOP product matching a search, already ranked by traceability (score in [0, 1])."""

    name: str
    url: str
    score: float
    summary: str = ""


class ProductSearch(Protocol):
    """Traceability's diacritic-insensitive product search."""

    async def search(self, q: str, lang: str, limit: int) -> list[ProductHit]: ...
