"""The statistics' open-data CSVs: listed in the catalogue, small counts never published, drafts left out."""

import csv
import io
import uuid
from datetime import timedelta

import asyncpg
from litestar import Litestar

from service.core import clock
from service.statistics.datasets import GUIDE_PLAYS, OFFLINE_DOWNLOADS, SCANS_BY_CATEGORY, SCANS_BY_COMMUNE
from tests.support.app import UserFactory
from tests.support.factories import Client, farm, stored_batch
from tests.support.statistics import flush_guide_counts, small_site, stored_daily_scans
from tests.support.tourism import P1, ask, report, site_payload


def rows_of(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_small_scan_counts_are_suppressed(client: Client, db: asyncpg.Connection, make_user: UserFactory) -> None:
    _, org = await farm(client, make_user)
    batch = await stored_batch(db, uuid.UUID(org["id"]))
    today = clock.today()
    yesterday = today - timedelta(days=1)
    await stored_daily_scans(db, batch["id"], {yesterday: 3, today: 7})

    answer = await client.get("/open-data/statistics/scans-by-category-daily.csv")
    assert answer.status_code == 200
    assert rows_of(answer.content) == [
        ["day", "category", "scans", "suppressed"],
        [yesterday.isoformat(), "tea", "", "true"],
        [today.isoformat(), "tea", "7", "false"],
    ]
    by_commune = rows_of((await client.get("/open-data/statistics/scans-by-commune-daily.csv")).content)
    assert by_commune[1:] == [
        [yesterday.isoformat(), "05503", "Xã Tân Cương", "", "true"],
        [today.isoformat(), "05503", "Xã Tân Cương", "7", "false"],
    ]


async def test_guide_counts_published_for_published_sites_only(
    app: Litestar, client: Client, make_user: UserFactory
) -> None:
    editor = await make_user("editor")
    site = await small_site(client, editor, "den-mo")
    draft = await client.post("/api/v1/editor/sites", json=site_payload(slug="den-nhap"), headers=editor)
    assert draft.status_code == 201
    for _ in range(6):
        await ask(client, report(P1, site=site))
    await ask(client, report(P1, site=site, lang="en"))
    for _ in range(2):
        assert (await client.get(f"/api/v1/sites/{site}/offline")).status_code == 200
    await flush_guide_counts(app)

    today = clock.today().isoformat()
    plays = rows_of((await client.get("/open-data/statistics/guide-plays-daily.csv")).content)
    assert plays == [
        ["day", "site", "point", "lang", "plays", "suppressed"],
        [today, site, "p1", "en", "", "true"],
        [today, site, "p1", "vi", "6", "false"],
    ]
    downloads = rows_of((await client.get("/open-data/statistics/offline-downloads-daily.csv")).content)
    assert downloads == [["day", "site", "downloads", "suppressed"], [today, site, "", "true"]]


async def test_the_catalogue_lists_the_statistics_with_typed_columns(client: Client) -> None:
    catalog = (await client.get("/open-data/catalog.json")).json()
    listed = {d["id"]: d for d in catalog["datasets"]}
    package = (await client.get("/open-data/datapackage.json")).json()
    resources = {r["name"]: r for r in package["resources"]}
    for dataset in (SCANS_BY_CATEGORY, SCANS_BY_COMMUNE, GUIDE_PLAYS, OFFLINE_DOWNLOADS):
        entry = listed[dataset.id]
        assert entry["url"].startswith("https://") and entry["url"].endswith(".csv")
        fields = resources[dataset.id]["schema"]["fields"]
        assert [c["name"] for c in entry["columns"]] == [f["name"] for f in fields] == [c.name for c in dataset.columns]
        assert all(c["descriptions"]["vi"] and c["descriptions"]["en"] for c in entry["columns"])
        assert next(f for f in fields if f["name"] == "suppressed")["type"] == "boolean"
        count = fields[-2]  # a count below the threshold is an empty cell, never a number under 5
        assert count["type"] == "integer" and count["constraints"] == {"minimum": 5}
