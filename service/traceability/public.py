"""What traceability offers other domains (tourism's cross-links, through service/crosslinks.py).

Each function costs one round trip and returns only public data: no contact details, no people,
no private notes of other organizations.
"""

import uuid

import asyncpg

from service.core.errors import NotFound
from service.traceability.registry import queries
from service.traceability.registry.commune_centres import CommuneCentre, commune_centres
from service.traceability.registry.communes import fold_for_search
from service.traceability.registry.schemas import OrganizationPublic, ProducerSummary, ProductSummary
from service.traceability.scan.rollups import (
    UNKNOWN_COMMUNE,
    CommuneCount,
    ScanCount,
    ScanDimension,
    first_scans_by_commune,
    last_rollup_day,
    product_organization,
    scans_by_period,
    visible_organizations,
)

__all__ = [
    "UNKNOWN_COMMUNE",
    "CommuneCentre",
    "CommuneCount",
    "OrganizationPublic",
    "ProducerSummary",
    "ProductSummary",
    "ScanCount",
    "ScanDimension",
    "commune_centres",
    "first_scans_by_commune",
    "fold_for_search",
    "last_rollup_day",
    "producer",
    "producers_near",
    "product_organization",
    "scans_by_period",
    "search_products",
    "visible_organizations",
]


async def producer(conn: asyncpg.Connection, org_id: uuid.UUID) -> OrganizationPublic:
    """A producer's public profile."""
    found = await queries.public_producer(conn, org_id)
    if found is None:
        raise NotFound("no producer with this id", code="producer_not_found")
    return found


async def producers_near(
    conn: asyncpg.Connection, lat: float, lon: float, radius_km: float, lang: str = "vi", limit: int = 10
) -> list[ProducerSummary]:
    """Producers with a location within radius_km, nearest first, with their product names."""
    return await queries.producers_near(conn, lat, lon, radius_km, lang, limit)


async def search_products(
    conn: asyncpg.Connection, folded_query: str, lang: str = "vi", limit: int = 20
) -> list[ProductSummary]:
    """Products whose names contain every word of the (accent-folded) query."""
    return await queries.products_matching(conn, folded_query, lang, limit)
