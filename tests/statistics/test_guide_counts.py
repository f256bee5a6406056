"""Anonymous guide counters: plays and offline downloads survive the batching, keep no visitor, and each
editor sees only the sites they created."""

import asyncio

import asyncpg
from litestar import Litestar

from service.core import clock
from tests.support.app import UserFactory
from tests.support.statistics import flush_guide_counts, small_site
from tests.support.tourism import P1, P2, Client, ask, assert_problem, report


async def test_plays_and_downloads_are_counted_after_the_flush(
    app: Litestar, client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    editor = await make_user("editor")
    site = await small_site(client, editor, "den-thu")
    for lang in ("vi", "vi", "vi", "en"):
        answer = await ask(client, report(P1, site=site, lang=lang))
        assert answer["action"] == "play", answer
    assert (await ask(client, report(P2, site=site)))["action"] == "play"
    assert (await ask(client, report((21.60, 105.80), site=site)))["action"] == "none"  # nothing played: no count
    first = await client.get(f"/api/v1/sites/{site}/offline")
    assert first.status_code == 200
    assert (await client.get(f"/api/v1/sites/{site}/offline?lang=en")).status_code == 200
    revalidated = await client.get(f"/api/v1/sites/{site}/offline", headers={"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304  # the visitor already has it: not a download
    await flush_guide_counts(app)

    plays = await client.get("/api/v1/statistics/guide-plays", headers=editor)
    assert plays.status_code == 200, plays.text
    today = clock.today().isoformat()
    assert [(r["period"], r["point"], r["lang"], r["plays"]) for r in plays.json()["rows"]] == [
        (today, "p1", "en", 1),
        (today, "p1", "vi", 3),
        (today, "p2", "vi", 1),
    ]
    downloads = (await client.get("/api/v1/statistics/offline-downloads", headers=editor)).json()
    assert downloads["total"] == 2
    assert downloads["rows"] == [{"period": today, "site": site, "downloads": 2}]

    # a count and its key, nothing about the visitor
    columns = {
        row["column_name"]
        for row in await db.fetch(
            "select column_name from information_schema.columns "
            "where table_name in ('guide_plays_daily', 'offline_downloads_daily')"
        )
    }
    assert columns == {"site_id", "point_slug", "lang", "day", "plays", "downloads"}

    # more plays of the same key add to the row (batched again), never a second row
    await ask(client, report(P1, site=site, lang="en"))
    await flush_guide_counts(app)
    again = (await client.get("/api/v1/statistics/guide-plays.csv", headers=editor)).content.decode("utf-8-sig")
    assert again.splitlines() == [
        "period,site,point,lang,plays",
        f"{today},{site},p1,en,2",
        f"{today},{site},p1,vi,3",
        f"{today},{site},p2,vi,1",
    ]


async def test_an_editor_sees_only_their_sites(
    app: Litestar, client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    mine, theirs = await make_user("editor"), await make_user("editor")
    await small_site(client, mine, "den-cua-toi")
    await small_site(client, theirs, "den-cua-ho")
    await ask(client, report(P1, site="den-cua-toi"))
    await ask(client, report(P1, site="den-cua-ho"))
    await flush_guide_counts(app)

    answer = (await client.get("/api/v1/statistics/guide-plays", headers=mine)).json()
    assert answer["sites"] == ["den-cua-toi"]
    assert {r["site"] for r in answer["rows"]} == {"den-cua-toi"}
    assert_problem(
        await client.get("/api/v1/statistics/guide-plays?site=den-cua-ho", headers=mine), 404, "site_not_found"
    )
    inspector = await make_user("inspector")
    everything = (await client.get("/api/v1/statistics/guide-plays", headers=inspector)).json()
    assert {r["site"] for r in everything["rows"]} == {"den-cua-toi", "den-cua-ho"}
    farmer = await make_user("farmer")
    assert_problem(
        await client.get("/api/v1/statistics/offline-downloads", headers=farmer), 403, "statistics_forbidden"
    )


async def test_plays_counted_while_the_database_refuses_are_written_when_it_answers_again(
    app: Litestar, client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    editor = await make_user("editor")
    site = await small_site(client, editor, "den-thu")
    await db.execute("alter table guide_plays_daily rename to guide_plays_daily_away")  # every flush now fails
    try:
        for _ in range(3):
            assert (await ask(client, report(P1, site=site)))["action"] == "play"
        counter = app.state.guide_counter
        counter.flush_interval = 0.02
        await asyncio.sleep(0.3)  # a dozen failed flushes
        assert not counter.idle, "the counts were dropped instead of kept"
        assert (await ask(client, report(P1, site=site)))["action"] == "play"  # counted meanwhile, same key
    finally:
        await db.execute("alter table guide_plays_daily_away rename to guide_plays_daily")
    await flush_guide_counts(app)
    assert await db.fetchval("select sum(plays) from guide_plays_daily") == 4
