"""Per-worker caches of the tourism hot paths, dropped by change notifications (service/core/changes.py).

A site's version moves on every content change (migration 0030) and each change of a site row is
announced as `tourism_sites:<slug>` (migration 0031): so the guide's point index and the offline pack's
version are safe to keep until that notification arrives, and are never trusted while it cannot.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from service.core.cache import InvalidatedCache
from service.core.changes import ChangeFeed
from service.core.prepared import Prepared
from service.tourism.guide.counts import GuideCounter
from service.tourism.guide.index import SiteGuide


class TourismCaches:
    def __init__(self, feed: ChangeFeed | None) -> None:
        self.site_versions: InvalidatedCache[str, int] = InvalidatedCache(feed, maxsize=512)
        self.guides: InvalidatedCache[str, SiteGuide] = InvalidatedCache(feed, maxsize=64)
        # the encoded 304 of each site's offline pack per language: (ETag, answer)
        self.offline_304: InvalidatedCache[str, dict[str, tuple[str, Prepared]]] = InvalidatedCache(feed, maxsize=512)
        if feed is not None:
            feed.subscribe(self.on_change)

    def on_change(self, table: str, key: str) -> None:
        if table == "tourism_sites":
            self.site_versions.evict(key)
            self.guides.evict(key)
            self.offline_304.evict(key)
        elif table == "*":
            self.site_versions.clear()
            self.guides.clear()
            self.offline_304.clear()


@asynccontextmanager
async def tourism_lifespan(app: Litestar) -> AsyncIterator[None]:
    app.state.tourism_caches = TourismCaches(getattr(app.state, "change_feed", None))
    # printed A5 signs per (site, version, base URL): a site's new version makes new ones
    app.state.sign_sheets = {}
    # anonymous play and download counts, flushed in batches (counts.py)
    counter = GuideCounter(app.state.pool)
    app.state.guide_counter = counter
    counter.start()
    try:
        yield
    finally:
        await counter.close()
