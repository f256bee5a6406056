"""What traceability needs from other domains, as Protocols; service/crosslinks.py wires the answers."""

from typing import Protocol

import msgspec


class PlaceRef(msgspec.Struct, frozen=True, kw_only=True):
    """A heritage site near the farm, as the tourism side describes it."""

    name: str
    url: str
    distance_km: float | None = None
    kind: str | None = None


class NearbySites(Protocol):
    """What the shopper page needs from tourism (the `nearby_sites` dependency, wired in service/crosslinks.py)."""

    async def near(self, lat: float, lon: float, lang: str, limit: int) -> list[PlaceRef]: ...
