"""Anonymous guide counters: plays per point, language and day, offline packs per site and day.

`GuideCounter.play` and `.download` cost a dict increment on the hot path (the guide itself keeps no visitor
state and reads no database); a task adds the totals to the daily rollups once a second, in one transaction,
and on shutdown before the pool closes. Nothing about the visitor is kept: no address, position, agent or id.
What cannot be written while the database is away stays in memory and is added on the next flush.
"""

import uuid
from collections import Counter
from datetime import date

import asyncpg
import msgspec

from service.core import clock
from service.core.counting import BatchedCounter

# distinct keys kept while the database is away; past this, new keys wait for the next flush to free room
_MAX_KEYS = 100_000

PlayKey = tuple[str, str, str, date]  # site slug, point slug, language, local day
DownloadKey = tuple[str, date]  # site slug, local day
_Taken = tuple[Counter[PlayKey], Counter[DownloadKey]]


class GuideCounter(BatchedCounter[_Taken]):
    name = "guide counts"

    def __init__(self, pool: asyncpg.Pool, *, flush_interval: float = 1.0) -> None:
        super().__init__(pool, flush_interval=flush_interval)
        self._plays: Counter[PlayKey] = Counter()
        self._downloads: Counter[DownloadKey] = Counter()

    def play(self, site: str, point: str, lang: str) -> None:
        """One guide answer that starts a track."""
        key = (site, point, lang, clock.today())
        if key in self._plays or len(self._plays) < _MAX_KEYS:
            self._plays[key] += 1

    def download(self, site: str) -> None:
        """One offline pack served whole."""
        key = (site, clock.today())
        if key in self._downloads or len(self._downloads) < _MAX_KEYS:
            self._downloads[key] += 1

    def _take(self) -> _Taken:
        taken = (self._plays, self._downloads)
        self._plays, self._downloads = Counter(), Counter()
        return taken

    def _size(self, taken: _Taken) -> int:
        return len(taken[0]) + len(taken[1])

    async def _write(self, conn: asyncpg.Connection, taken: _Taken) -> None:
        await add_plays(conn, taken[0])
        await add_downloads(conn, taken[1])

    def _give_back(self, taken: _Taken) -> None:
        self._plays.update(taken[0])
        self._downloads.update(taken[1])

    def _pending(self) -> int:
        return len(self._plays) + len(self._downloads)


async def add_plays(conn: asyncpg.Connection, plays: Counter[PlayKey]) -> None:
    """Keys of sites that no longer exist are dropped by the join."""
    if not plays:
        return
    keys = list(plays)
    await conn.execute(
        """
        insert into guide_plays_daily as g (site_id, point_slug, lang, day, plays)
        select s.id, k.point, k.lang, k.day, k.n
        from unnest($1::text[], $2::text[], $3::text[], $4::date[], $5::int[]) as k(site, point, lang, day, n)
        join tourism_sites s on s.slug = k.site
        on conflict (site_id, point_slug, lang, day) do update set plays = g.plays + excluded.plays
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        [k[3] for k in keys],
        [plays[k] for k in keys],
    )


async def add_downloads(conn: asyncpg.Connection, downloads: Counter[DownloadKey]) -> None:
    if not downloads:
        return
    keys = list(downloads)
    await conn.execute(
        """
        insert into offline_downloads_daily as d (site_id, day, downloads)
        select s.id, k.day, k.n
        from unnest($1::text[], $2::date[], $3::int[]) as k(site, day, n)
        join tourism_sites s on s.slug = k.site
        on conflict (site_id, day) do update set downloads = d.downloads + excluded.downloads
        """,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [downloads[k] for k in keys],
    )


# --- reads (offered to other packages through service/tourism/public.py) ------------------------------


class SiteRef(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    slug: str
    name: str
    published: bool


class PlayCount(msgspec.Struct, frozen=True, kw_only=True):
    period: date
    site: str
    point: str
    lang: str
    plays: int


class DownloadCount(msgspec.Struct, frozen=True, kw_only=True):
    period: date
    site: str
    downloads: int


async def sites_for(conn: asyncpg.Connection, editor_id: uuid.UUID | None, lang: str) -> list[SiteRef]:
    """Sites an editor created (editor_id), or every site (None)."""
    rows = await conn.fetch(
        """
        select id, slug, coalesce(texts -> $2 ->> 'name', texts -> 'vi' ->> 'name', slug) as name,
               status = 'published' as published
        from tourism_sites where $1::uuid is null or created_by = $1
        order by slug
        """,
        editor_id,
        lang,
    )
    return msgspec.convert([dict(r) for r in rows], list[SiteRef])


async def plays_by_period(
    conn: asyncpg.Connection, site_ids: list[uuid.UUID], since: date, until: date, bucket: str
) -> list[PlayCount]:
    """`bucket` is day, week or month (checked by the caller); a period is named by its first day."""
    rows = await conn.fetch(
        """
        select date_trunc($4::text, g.day::timestamp)::date as period, s.slug as site, g.point_slug as point,
               g.lang,
               sum(g.plays)::int as plays
        from guide_plays_daily g join tourism_sites s on s.id = g.site_id
        where g.site_id = any($1::uuid[]) and g.day between $2 and $3
        group by 1, 2, 3, 4 order by 1, 2, 3, 4
        """,
        site_ids,
        since,
        until,
        bucket,
    )
    return msgspec.convert([dict(r) for r in rows], list[PlayCount])


async def downloads_by_period(
    conn: asyncpg.Connection, site_ids: list[uuid.UUID], since: date, until: date, bucket: str
) -> list[DownloadCount]:
    rows = await conn.fetch(
        """
        select date_trunc($4::text, d.day::timestamp)::date as period, s.slug as site,
               sum(d.downloads)::int as downloads
        from offline_downloads_daily d join tourism_sites s on s.id = d.site_id
        where d.site_id = any($1::uuid[]) and d.day between $2 and $3
        group by 1, 2 order by 1, 2
        """,
        site_ids,
        since,
        until,
        bucket,
    )
    return msgspec.convert([dict(r) for r in rows], list[DownloadCount])
