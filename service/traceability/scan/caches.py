"""Per-worker caches of what shoppers read: resolutions, page data, unit status and QR contents.

Entries stay until a change notification names their batch (batches, events, flagged units) or anything
wider changes (products, organizations, certifications and their reviews: everything is dropped, these are
rare). While the
notification feed is down nothing fresh is served from here; resolutions, pages and unit status keep their last
loaded value apart, answered (with an "as of" note) only when the database cannot be reached, for at most
`stale_if_error_seconds` (core/cache.py). Unknown identifiers are never cached, so a batch registered a moment
ago resolves at once.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar

from service.core.cache import InvalidatedCache
from service.core.changes import ChangeFeed
from service.core.prepared import Prepared
from service.traceability.scan.page_data import PageData, UnitInfo
from service.traceability.scan.resolve import Target

_BATCH_SCOPED = ("batches", "events", "units")
_WIDE = ("products", "organizations", "certifications", "certification_reviews", "places", "*")
_MAX_TRACKED = 200_000


class PageEntry(msgspec.Struct, kw_only=True):
    batch_id: uuid.UUID  # the product's id on a product page (/p/{gtin}: not tracked per batch)
    data: PageData
    html: dict[str, str]  # rendered page per language, filled on first view
    version: str  # for ETags: changes whenever the entry is rebuilt
    # encoded answers (routes/pages.py) per language, format and unit state: replayed while the entry lives
    answers: dict[Any, Any] = msgspec.field(default_factory=dict)
    # when the nearby heritage sites could not be had (monotonic clock): the page is rebuilt a little later
    nearby_failed_at: float | None = None


class TraceCaches:
    def __init__(self, feed: ChangeFeed | None, *, stale_seconds: float = 0.0) -> None:
        self.targets: InvalidatedCache[str, Target] = InvalidatedCache(
            feed, maxsize=50_000, ttl_seconds=300, stale_seconds=stale_seconds
        )
        self.pages: InvalidatedCache[str, PageEntry] = InvalidatedCache(
            feed, maxsize=4_096, ttl_seconds=300, stale_seconds=stale_seconds
        )
        # scan counts move with every flush (about a second): the unit status is kept one second at most
        self.units: InvalidatedCache[tuple[str, str], UnitInfo] = InvalidatedCache(
            feed, maxsize=50_000, ttl_seconds=1.0, stale_seconds=stale_seconds
        )
        self.qr_uris: InvalidatedCache[uuid.UUID, str] = InvalidatedCache(feed, maxsize=50_000, ttl_seconds=3600)
        # encoded resolver answers (307 or linkset) per path, query and negotiation headers, with their target
        self.answers: InvalidatedCache[tuple[str, str, str, str], tuple[Prepared, Target]] = InvalidatedCache(
            feed, maxsize=50_000, ttl_seconds=300
        )
        # encoded QR images per batch and drawing options: (ETag, 200, 304)
        self.qr_answers: InvalidatedCache[tuple[Any, ...], tuple[str, Prepared, Prepared]] = InvalidatedCache(
            feed, maxsize=4_096, ttl_seconds=3600
        )
        # product pages (/p/{gtin}) read only product, producer, certificates and places: wide changes drop them
        self.products: InvalidatedCache[str, PageEntry] = InvalidatedCache(
            feed, maxsize=4_096, ttl_seconds=300, stale_seconds=stale_seconds
        )
        self._by_batch: dict[uuid.UUID, set[tuple[str, Any]]] = {}
        if feed is not None:
            feed.subscribe(self.on_change)

    def track(self, batch_id: uuid.UUID, cache: str, key: Any) -> None:
        """Remember which entries belong to a batch, so its notification evicts exactly those."""
        if len(self._by_batch) > _MAX_TRACKED:
            self.clear()
        self._by_batch.setdefault(batch_id, set()).add((cache, key))

    def evict_batch(self, batch_id: uuid.UUID) -> None:
        for cache, key in self._by_batch.pop(batch_id, set()):
            getattr(self, cache).evict(key)
        self.qr_uris.evict(batch_id)

    def clear(self) -> None:
        self._by_batch.clear()
        for cache in (self.targets, self.pages, self.units, self.qr_uris, self.products, self.answers, self.qr_answers):
            cache.clear()

    def on_change(self, table: str, key: str) -> None:
        if table in _BATCH_SCOPED:
            try:
                self.evict_batch(uuid.UUID(key))
            except ValueError:
                self.clear()
        elif table in _WIDE:
            self.clear()


@asynccontextmanager
async def trace_cache_lifespan(app: Litestar) -> AsyncIterator[None]:
    app.state.trace_caches = TraceCaches(
        getattr(app.state, "change_feed", None), stale_seconds=app.state.settings.stale_if_error_seconds
    )
    yield
