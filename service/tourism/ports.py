"""What tourism needs from other domains: small Protocols that service/crosslinks.py answers (domains never
import each other). The Struct names say what tourism receives, so none collides with traceability's."""

from typing import Protocol

import msgspec


class NearbyProducer(msgspec.Struct, frozen=True, kw_only=True):
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

    async def near(self, lat: float, lon: float, radius_km: float, lang: str, limit: int) -> list[NearbyProducer]: ...


class ProductMatch(msgspec.Struct, frozen=True, kw_only=True):
    """An OCOP product matching a search, ranked by traceability on the scale of tourism's own hits.

    Higher ranks first: about 1 when every word matched, more when the whole phrase is in the name.
    """

    name: str
    url: str
    score: float
    summary: str = ""


class ProductSearch(Protocol):
    """Traceability's diacritic-insensitive product search."""

    async def search(self, q: str, lang: str, limit: int) -> list[ProductMatch]: ...
