"""Statistics API (signed in, role-scoped, JSON or CSV) and the statistics' open-data CSVs (public, suppressed)."""

import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, Response, get
from litestar.params import FromQuery, QueryParameter

from service.auth.guards import CurrentUserDep
from service.core.db import DB, ReadDB
from service.statistics import datasets
from service.statistics.schemas import Bucket, DownloadStats, PlayStats, ScanBy, ScanStats
from service.statistics.service import (
    download_stats,
    downloads_csv,
    play_stats,
    plays_csv,
    scan_stats,
    scans_csv,
)

Since = Annotated[date | None, QueryParameter(description="first local day (default: 29 days before until)")]
Until = Annotated[date | None, QueryParameter(description="last local day (default: today, Vietnam)")]
BucketQuery = Annotated[Bucket, QueryParameter(description="day, week (from Monday) or month")]
SiteQuery = Annotated[str | None, QueryParameter(min_length=1, max_length=80, description="one site's slug")]
CSV_TYPE = "text/csv; charset=utf-8; header=present"


def _csv(body: bytes, name: str) -> Response[bytes]:
    return Response(
        body,
        media_type=CSV_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "private, no-cache"},
    )


class StatisticsController(Controller):
    path = "/api/v1/statistics"
    tags = ["statistics"]

    @get("/scans", operation_id="statistics_scans")
    async def scans(
        self,
        db: DB,
        current_user: CurrentUserDep,
        since: Since = None,
        until: Until = None,
        bucket: BucketQuery = "day",
        by: FromQuery[ScanBy] = "product",
        product_id: FromQuery[uuid.UUID | None] = None,
    ) -> ScanStats:
        """Counted scans in the caller's scope per period, by product, batch, commune, category or phone's commune."""
        return await scan_stats(db, current_user, since=since, until=until, bucket=bucket, by=by, product_id=product_id)

    @get("/scans.csv", operation_id="statistics_scans_csv", media_type=CSV_TYPE)
    async def scans_export(
        self,
        db: DB,
        current_user: CurrentUserDep,
        since: Since = None,
        until: Until = None,
        bucket: BucketQuery = "day",
        by: FromQuery[ScanBy] = "product",
        product_id: FromQuery[uuid.UUID | None] = None,
    ) -> Response[bytes]:
        """The same counts as /scans, as CSV."""
        stats = await scan_stats(
            db, current_user, since=since, until=until, bucket=bucket, by=by, product_id=product_id
        )
        return _csv(scans_csv(stats), f"scans-{stats.since}-{stats.until}")

    @get("/guide-plays", operation_id="statistics_guide_plays")
    async def plays(
        self,
        db: DB,
        current_user: CurrentUserDep,
        since: Since = None,
        until: Until = None,
        bucket: BucketQuery = "day",
        site: SiteQuery = None,
    ) -> PlayStats:
        """Guide plays per period, site, point and language, for the caller's sites."""
        return await play_stats(db, current_user, since=since, until=until, bucket=bucket, site=site)

    @get("/guide-plays.csv", operation_id="statistics_guide_plays_csv", media_type=CSV_TYPE)
    async def plays_export(
        self,
        db: DB,
        current_user: CurrentUserDep,
        since: Since = None,
        until: Until = None,
        bucket: BucketQuery = "day",
        site: SiteQuery = None,
    ) -> Response[bytes]:
        """The same counts as /guide-plays, as CSV."""
        stats = await play_stats(db, current_user, since=since, until=until, bucket=bucket, site=site)
        return _csv(plays_csv(stats), f"guide-plays-{stats.since}-{stats.until}")

    @get("/offline-downloads", operation_id="statistics_offline_downloads")
    async def downloads(
        self,
        db: DB,
        current_user: CurrentUserDep,
        since: Since = None,
        until: Until = None,
        bucket: BucketQuery = "day",
        site: SiteQuery = None,
    ) -> DownloadStats:
        """Offline packs downloaded per period and site, for the caller's sites."""
        return await download_stats(db, current_user, since=since, until=until, bucket=bucket, site=site)

    @get("/offline-downloads.csv", operation_id="statistics_offline_downloads_csv", media_type=CSV_TYPE)
    async def downloads_export(
        self,
        db: DB,
        current_user: CurrentUserDep,
        since: Since = None,
        until: Until = None,
        bucket: BucketQuery = "day",
        site: SiteQuery = None,
    ) -> Response[bytes]:
        """The same counts as /offline-downloads, as CSV."""
        stats = await download_stats(db, current_user, since=since, until=until, bucket=bucket, site=site)
        return _csv(downloads_csv(stats), f"offline-downloads-{stats.since}-{stats.until}")


class StatisticsOpenDataController(Controller):
    path = "/open-data/statistics"
    tags = ["open data"]

    @get("/scans-by-category-daily.csv", operation_id="open_data_scans_by_category", exclude_from_auth=True,
         media_type=CSV_TYPE)  # fmt: skip
    async def scans_by_category(self, read_db: ReadDB) -> Response[bytes]:
        """Counted scans per product category and day, last 365 days; counts below 5 left empty."""
        return _open(await datasets.scans_by_category_csv(read_db))

    @get("/scans-by-commune-daily.csv", operation_id="open_data_scans_by_commune", exclude_from_auth=True,
         media_type=CSV_TYPE)  # fmt: skip
    async def scans_by_commune(self, read_db: ReadDB) -> Response[bytes]:
        """Counted scans per producer's commune and day, last 365 days; counts below 5 left empty."""
        return _open(await datasets.scans_by_commune_csv(read_db))

    @get("/guide-plays-daily.csv", operation_id="open_data_guide_plays", exclude_from_auth=True,
         media_type=CSV_TYPE)  # fmt: skip
    async def guide_plays(self, read_db: ReadDB) -> Response[bytes]:
        """Guide plays per published site, point, language and day; counts below 5 left empty."""
        return _open(await datasets.guide_plays_csv(read_db))

    @get("/offline-downloads-daily.csv", operation_id="open_data_offline_downloads", exclude_from_auth=True,
         media_type=CSV_TYPE)  # fmt: skip
    async def offline_downloads(self, read_db: ReadDB) -> Response[bytes]:
        """Offline packs downloaded per published site and day; counts below 5 left empty."""
        return _open(await datasets.offline_downloads_csv(read_db))


def _open(body: bytes) -> Response[bytes]:
    return Response(body, media_type=CSV_TYPE, headers={"Cache-Control": "public, max-age=3600"})
