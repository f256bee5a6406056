"""The one place where the two domains meet: adapters from one domain's public functions to the
Protocols the other declares. The tourism-side adapters run on the request's own connection (the `db`
dependency): borrowing a second one while the request holds the first could exhaust the pool under load."""

import asyncpg
from litestar.datastructures import State
from litestar.di import Provide

from service.core.db import DB, borrow
from service.tourism import ports as tourism_needs
from service.tourism import public as tourism_public
from service.traceability import ports as traceability_needs
from service.traceability import public as traceability_public


class SitesNearFarms:
    """traceability.ports.NearbySites, answered by tourism's published sites.

    The shopper page asks only on a cache miss, after releasing its own connection: so this one borrows
    lazily instead of holding the request's connection on the hot path.
    """

    def __init__(self, pool: asyncpg.Pool, base_url: str) -> None:
        self.pool = pool
        self.base_url = base_url

    async def near(self, lat: float, lon: float, lang: str, limit: int) -> list[traceability_needs.PlaceRef]:
        async with borrow(self.pool) as conn:
            places_near = await tourism_public.sites_near(conn, lat, lon, lang, limit, base_url=self.base_url)
        return [
            traceability_needs.PlaceRef(
                name=place.name, url=place.url, distance_km=round(place.distance_m / 1000, 1), kind=place.kind
            )
            for place in places_near
        ]


class ProducersNearSites:
    """tourism.ports.NearbyProducers, answered by traceability's public producer lookup."""

    def __init__(self, conn: asyncpg.Connection, base_url: str) -> None:
        self.conn = conn
        self.base_url = base_url

    async def near(
        self, lat: float, lon: float, radius_km: float, lang: str, limit: int
    ) -> list[tourism_needs.NearbyProducer]:
        producers = await traceability_public.producers_near(self.conn, lat, lon, radius_km, lang, limit)
        return [
            tourism_needs.NearbyProducer(
                kind="producer",
                name=producer.name,
                url=f"{self.base_url}/producers/{producer.id}",
                distance_m=round(producer.distance_km * 1000),
                lat=producer.lat,
                lon=producer.lon,
                stars=producer.max_ocop_stars,
            )
            for producer in producers
        ]


class ProductSearchAdapter:
    """tourism.ports.ProductSearch, answered by traceability's accent-folded product search."""

    def __init__(self, conn: asyncpg.Connection, base_url: str) -> None:
        self.conn = conn
        self.base_url = base_url

    async def search(self, q: str, lang: str, limit: int) -> list[tourism_needs.ProductMatch]:
        folded = traceability_public.fold_for_search(q)
        hits = await traceability_public.search_products(self.conn, folded, lang, limit)
        out: list[tourism_needs.ProductMatch] = []
        for rank, hit in enumerate(hits):
            url = f"{self.base_url}/p/{hit.gtin14}" if hit.gtin14 else f"{self.base_url}/producers/{hit.producer_id}"
            # every word matched (that is how traceability searches); the whole phrase in the name ranks higher
            score = 1.5 if folded in traceability_public.fold_for_search(hit.name) else 1.0
            out.append(
                tourism_needs.ProductMatch(
                    name=hit.name,
                    url=url,
                    score=round(score - rank * 0.001, 3),
                    summary=f"{hit.producer_name} · {hit.commune_name}",
                )
            )
        return out


def _sites(state: State) -> SitesNearFarms:
    return SitesNearFarms(state.pool, state.settings.base_url)


def _producers(db: DB, state: State) -> ProducersNearSites:
    return ProducersNearSites(db, state.settings.base_url)


def _products(db: DB, state: State) -> ProductSearchAdapter:
    return ProductSearchAdapter(db, state.settings.base_url)


DEPENDENCIES = {
    "nearby_sites": Provide(_sites, sync_to_thread=False),
    "nearby_producers": Provide(_producers, sync_to_thread=False),
    "product_search": Provide(_products, sync_to_thread=False),
}
