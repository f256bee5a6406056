"""The shopper pages' data, as the routes need it: from this worker's caches, the database only on a miss.

A miss reads the database on a borrowed connection, releases it, and only then asks tourism for
heritage sites near the farm (with a short timeout: the page never waits on, or fails with, the
other domain).
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from service.core.db import AnyPool, ReadPool, borrow
from service.core.errors import NotFound
from service.media.pictures import media_pictures
from service.media.service import public_url
from service.traceability.ports import NearbySites, PlaceRef
from service.traceability.scan.caches import PageEntry, TraceCaches
from service.traceability.scan.page_data import (
    NotRegistered,
    PageData,
    PageVersion,
    UnitInfo,
    batch_page_data,
    page_version,
    product_page_data,
    registered_qualifiers,
)

log = logging.getLogger("service.traceability.scan.pages")
T = TypeVar("T")


# a page kept without its nearby sites because the tourism side failed is rebuilt after this long
NEARBY_RETRY_SECONDS = 30.0


async def nearby_places(nearby_sites: NearbySites | None, data: PageData, lang: str) -> list[PlaceRef] | None:
    """Heritage sites near the producer; None when the tourism side failed (the page still renders)."""
    p = data.producer
    if nearby_sites is None or p.lat is None or p.lon is None:
        return []
    try:
        return await asyncio.wait_for(nearby_sites.near(p.lat, p.lon, lang, 3), timeout=0.5)
    except Exception:  # a cross-domain failure is logged, the page still renders
        log.warning("nearby sites unavailable", exc_info=True)
        return None


def _with_nearby(entry: PageEntry, nearby: list[PlaceRef] | None) -> PageEntry:
    entry.data.nearby = nearby or []
    entry.nearby_failed_at = None if nearby is not None else time.monotonic()
    return entry


def nearby_retry_due(entry: PageEntry) -> bool:
    """True when the entry was kept without its nearby sites and it is time to ask the tourism side again."""
    failed = entry.nearby_failed_at
    return failed is not None and time.monotonic() - failed >= NEARBY_RETRY_SECONDS


async def _retry_nearby(entry: PageEntry | None, nearby_sites: NearbySites | None, lang: str) -> None:
    """A page kept without its nearby sites (the tourism side failed) asks again once the retry is due.

    Only the tourism side is asked again (the page's own data stands); on success the entry's renderings and
    prepared answers are dropped and its version (so its ETag) changes. One retry at a time per entry.
    """
    if entry is None or not nearby_retry_due(entry):
        return
    entry.nearby_failed_at = time.monotonic()
    nearby = await nearby_places(nearby_sites, entry.data, lang)
    if nearby is not None:
        _with_nearby(entry, nearby)
        entry.html.clear()
        entry.answers.clear()
        entry.version += "|nearby"


async def _photos(conn: asyncpg.Connection, data: PageData, base_url: str) -> None:
    """Photo ids become addresses (`photos`, for apps) and drawable pictures with their copies (`pictures`)."""
    ids = [uuid.UUID(photo) for photo in [*data.photos, *data.batch_photos, *data.farm_photos]]
    drawn = {picture.id: picture for picture in await media_pictures(conn, base_url, ids)}
    data.pictures = [drawn[i] for i in dict.fromkeys(ids[: len(data.photos) + len(data.batch_photos)]) if i in drawn]
    data.farm_picture = next((drawn[uuid.UUID(p)] for p in data.farm_photos if uuid.UUID(p) in drawn), None)
    data.photos = [public_url(base_url, uuid.UUID(photo)) for photo in data.photos]


async def batch_page(
    pool: AnyPool,
    caches: TraceCaches,
    code: str,
    serial: str | None,
    *,
    nearby_sites: NearbySites | None,
    lang: str,
    base_url: str,
) -> tuple[PageEntry, UnitInfo | None, float | None]:
    """A batch's page data (and the unit's status when a serial is given); NotFound for unknown codes.

    The third item is the time (epoch seconds) of the oldest part answered stale while the database is away.
    """

    async def query_page(conn: asyncpg.Connection) -> tuple[PageVersion, PageData] | None:
        version = await page_version(conn, code, None)
        data = None if version is None else await batch_page_data(conn, version.batch_id)
        if version is None or data is None:
            return None
        await _photos(conn, data, base_url)
        return version, data

    async def query_unit(conn: asyncpg.Connection) -> PageVersion | None:
        return await page_version(conn, code, serial)

    async def read(query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """On a replica, an unknown code is asked again of the primary (registered a moment ago)."""
        if isinstance(pool, ReadPool):
            return await pool.read(query, confirm_missing=True)
        async with borrow(pool) as conn:
            return await query(conn)

    async def load_page() -> PageEntry | None:
        found = await read(query_page)
        if found is None:
            return None
        version, data = found
        nearby = await nearby_places(nearby_sites, data, lang)  # connection released
        return _with_nearby(PageEntry(batch_id=version.batch_id, data=data, html={}, version=version.version), nearby)

    async def load_unit() -> UnitInfo | None:
        version = await read(query_unit)
        return None if version is None else version.unit

    entry, as_of = await caches.pages.get_or_stale(code, load_page)
    if as_of is None:
        await _retry_nearby(entry, nearby_sites, lang)
    if entry is None:
        raise NotFound("nothing is registered under this code", code="identifier_not_found")
    caches.track(entry.batch_id, "pages", code)
    unit = None
    if serial is not None:
        unit, unit_as_of = await caches.units.get_or_stale((code, serial), load_unit)
        if unit is None:
            raise NotFound("nothing is registered under this code", code="identifier_not_found")
        caches.track(entry.batch_id, "units", (code, serial))
        if unit_as_of is not None:
            as_of = unit_as_of if as_of is None else min(as_of, unit_as_of)
    return entry, unit, as_of


async def product_page(
    pool: AnyPool,
    caches: TraceCaches,
    gtin14: str,
    *,
    nearby_sites: NearbySites | None,
    lang: str,
    base_url: str,
    lot: str | None = None,
    serial: str | None = None,
) -> tuple[PageEntry, float | None]:
    """The product-level page a bare GTIN resolves to; NotFound for unknown GTINs.

    The plain page is kept in this worker's cache (answered stale, with its time, while the database is
    away, like batch pages). With the lot or serial a shopper scanned (the resolver walked up because it is
    not registered), the page says so; checked here each time, so a hand-made URL cannot claim that a
    registered lot is unknown, and never cached (no notification names a lot that does not exist yet).
    """

    async def load() -> PageEntry | None:
        async with borrow(pool) as conn:  # released before tourism is asked for nearby sites
            data = await product_page_data(conn, gtin14)
            if data is not None:
                await _photos(conn, data, base_url)
            lot_known, serial_known = (
                await registered_qualifiers(conn, gtin14, lot, serial) if lot or serial else (True, True)
            )
        if data is None:
            return None
        if not lot_known or not serial_known:
            data.not_registered = NotRegistered(lot=None if lot_known else lot, serial=None if serial_known else serial)
        nearby = await nearby_places(nearby_sites, data, lang)
        version = f"product|{uuid.uuid4().hex}|{lot}|{serial}"
        return _with_nearby(PageEntry(batch_id=data.product_id, data=data, html={}, version=version), nearby)

    if lot or serial:
        entry, as_of = await load(), None
    else:
        entry, as_of = await caches.products.get_or_stale(gtin14, load)
        if as_of is None:
            await _retry_nearby(entry, nearby_sites, lang)
    if entry is None:
        raise NotFound("no product has this GTIN", code="identifier_not_found")
    return entry, as_of
