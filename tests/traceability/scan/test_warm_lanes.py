"""Warm answers replayed at the edge, before routing: the same answers as the routes, the same side effects."""

import asyncio
import re
from typing import Any
from urllib.parse import quote

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.core.edge import Edge
from tests.support.app import feed_up, flush
from tests.support.factories import GTIN, scan_count, stored_units

SHOP = "https://shop.example.vn"


def _scope(path: str, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("10.0.0.7", 5000),
    }


def _replayable(app: Litestar, path: str, headers: dict[str, str], query: str = "") -> bool:
    """Whether the edge holds an answer for this GET (so it never reaches the router); on the resolver, a scan."""
    edge: Edge = app.state.edge
    lane = edge.lanes[path.split("/")[1]]
    scope = _scope(path, headers, query)
    return lane(scope, dict(scope["headers"])) is not None  # type: ignore[arg-type]


def _parts(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k != "x-request-id")
    return response.status_code, headers, response.content


def _metric(text: str, path: str, status: int) -> float:
    pattern = rf'trace_tour_requests_total\{{[^}}]*path="{re.escape(path)}",status_code="{status}"[^}}]*\}} (\S+)'
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


async def test_pages_and_redirects_are_replayed_before_routing_exactly_as_the_routes_sent_them(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    await feed_up(app)
    page = f"/trace/{batch['code']}"
    resolver = f"/01/{GTIN}/10/{quote(batch['lot'], safe='')}"
    plain = {"Accept-Encoding": "identity"}  # byte for byte (compression is the next test's)
    for path, headers in (
        (page, {**plain, "Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9"}),
        (page, {**plain, "Accept": "application/json"}),
        (f"/p/{GTIN}", {**plain, "Accept": "text/html"}),
        (resolver, {**plain, "Accept": "application/json"}),
    ):
        assert not _replayable(app, path, headers), "nothing is replayed before the route answered once"
        routed = await client.get(path, headers=headers, follow_redirects=False)
        assert routed.status_code in (200, 307), routed.text
        assert _replayable(app, path, headers)
        replayed = await client.get(path, headers=headers, follow_redirects=False)
        assert _parts(replayed) == _parts(routed), path
        assert replayed.headers["x-request-id"] != routed.headers["x-request-id"]
        # the same request from a page on another origin gets the CORS headers too
        cross = await client.get(path, headers={**headers, "Origin": SHOP}, follow_redirects=False)
        assert cross.headers["access-control-allow-origin"] == "*" and cross.content == routed.content
        # what the lane does not know goes to the route: another language, a query, HEAD
        assert not _replayable(app, path, {**headers, "Accept-Language": "fr"})
    english = await client.get(page + "?lang=en", headers={"Accept": "text/html"})
    assert english.headers["content-language"] == "en"
    assert not _replayable(app, page, {"Accept": "text/html"}, query="lang=en"), "a query is the route's to read"
    head = await client.head(page, headers={"Accept": "text/html"})
    assert head.status_code == 200 and head.content == b""


async def test_a_replayed_redirect_still_records_the_scan_with_the_phone_position(
    app: Litestar, client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    await feed_up(app)
    resolver = f"/01/{GTIN}/10/{quote(batch['lot'], safe='')}"
    headers = {"Accept": "application/json", "X-Scan-Position": "21.5937,105.8480"}
    for _ in range(4):
        assert (await client.get(resolver, headers=headers, follow_redirects=False)).status_code == 307
    await flush(app)
    assert await scan_count(db) == 4
    assert _replayable(app, resolver, headers)  # (asking the lane is a scan too: counted after)
    rounded = await db.fetch("select lat, lon from scans where batch_id = $1", batch["id"])
    assert {(float(r["lat"]), float(r["lon"])) for r in rounded} == {(21.59, 105.85)}, "positions are kept coarse"


async def test_a_replayed_page_revalidates_and_a_recall_ends_the_replay_at_once(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any], make_user: Any
) -> None:
    await feed_up(app)
    page = f"/trace/{batch['code']}"
    first = await client.get(page, headers={"Accept": "application/json"})
    etag = first.headers["etag"]
    again = await client.get(page, headers={"Accept": "application/json", "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert _replayable(app, page, {"Accept": "application/json", "If-None-Match": etag})
    inspector = await make_user("inspector")
    recalled = await client.post(
        f"/api/v1/batches/{batch['id']}/recall", json={"reason": "Dư lượng thuốc vượt ngưỡng"}, headers=inspector
    )
    assert recalled.status_code in (200, 201), recalled.text
    assert not _replayable(app, page, {"Accept": "application/json"})
    after = await client.get(page, headers={"Accept": "application/json", "If-None-Match": etag})
    assert after.status_code == 200 and after.json()["status"] == "recalled"


async def test_a_replayed_unit_page_follows_the_units_scans(
    app: Litestar, client: AsyncTestClient[Litestar], db: Any, batch: dict[str, Any]
) -> None:
    await feed_up(app)
    serial = (await stored_units(db, batch["id"], 1))[0]
    page = f"/trace/{batch['code']}/{serial}"
    before = (await client.get(page, headers={"Accept": "application/json"})).json()
    assert (await client.get(page, headers={"Accept": "application/json"})).json() == before
    assert _replayable(app, page, {"Accept": "application/json"})
    scanned = await client.get(f"/01/{GTIN}/21/{quote(serial, safe='')}", follow_redirects=False)
    assert scanned.status_code == 307
    await flush(app)
    await asyncio.sleep(1.1)  # a unit's scan facts are held one second at most
    after = (await client.get(page, headers={"Accept": "application/json"})).json()
    assert after["unit"]["scan_count"] == before["unit"]["scan_count"] + 1


async def test_a_replayed_page_is_gzipped_for_phones_that_ask(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    await feed_up(app)
    page = f"/trace/{batch['code']}"
    plain = await client.get(page, headers={"Accept": "text/html", "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = [
        await client.get(page, headers={"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br"})
        for _ in range(2)
    ]
    assert _replayable(app, page, {"Accept": "text/html", "Accept-Encoding": "gzip"})
    for answer in zipped:  # httpx inflates: the same page, sent compressed
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.content == plain.content
        assert int(answer.headers["content-length"]) < len(plain.content) / 2
        vary = {v.strip().lower() for v in answer.headers["vary"].split(",")}
        assert {"accept", "accept-language", "accept-encoding"} <= vary


async def test_replayed_answers_are_counted_under_their_routes(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    await feed_up(app)
    page = f"/trace/{batch['code']}"
    resolver = f"/01/{GTIN}/10/{quote(batch['lot'], safe='')}"
    before = (await client.get("/metrics")).text  # one collector per process: count what this test adds
    for _ in range(3):
        assert (await client.get(page, headers={"Accept": "*/*"})).status_code == 200
        assert (await client.get(resolver, headers={"Accept": "*/*"}, follow_redirects=False)).status_code == 307
    assert _replayable(app, page, {"Accept": "*/*"}) and _replayable(app, resolver, {"Accept": "*/*"})
    metrics = (await client.get("/metrics")).text
    assert _metric(metrics, "/trace/{code}", 200) - _metric(before, "/trace/{code}", 200) == 3
    assert _metric(metrics, "/01/{rest}", 307) - _metric(before, "/01/{rest}", 307) == 3


async def test_an_odd_host_header_is_left_to_the_router(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any]
) -> None:
    await feed_up(app)
    page = f"/trace/{batch['code']}"
    assert (await client.get(page)).status_code == 200
    refused = await client.get(page, headers={"Host": "bad host\\name"})
    assert refused.status_code == 400, "the router refuses a malformed Host; the lane must not answer it"


async def test_a_page_kept_without_its_nearby_sites_stays_warm_until_asking_again_is_due(
    app: Litestar, client: AsyncTestClient[Litestar], batch: dict[str, Any], monkeypatch: Any
) -> None:
    """The tourism side timing out under load must not send every request of a popular page through routing."""
    from service.traceability.ports import PlaceRef
    from service.traceability.scan import pages

    await feed_up(app)
    asked: list[str] = []

    async def away(nearby_sites: Any, data: Any, lang: str) -> list[PlaceRef] | None:
        asked.append(lang)
        return None  # as nearby_places answers when the tourism side failed or took too long

    monkeypatch.setattr(pages, "nearby_places", away)
    page = f"/trace/{batch['code']}"
    headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
    first = await client.get(page, headers=headers)
    assert first.status_code == 200 and first.json()["nearby"] == []
    assert _replayable(app, page, headers), "kept without nearby sites, the page is still answered warm"
    assert _parts(await client.get(page, headers=headers)) == _parts(first)
    assert asked == ["vi"], "not asked again before the retry is due"

    async def back(nearby_sites: Any, data: Any, lang: str) -> list[PlaceRef] | None:
        asked.append(lang)
        return [PlaceRef(name="Hồ Núi Cốc", url="https://trace.example.vn/g/ho-nui-coc", distance_km=4.2)]

    monkeypatch.setattr(pages, "nearby_places", back)
    monkeypatch.setattr(pages, "NEARBY_RETRY_SECONDS", 0.0)
    assert not _replayable(app, page, headers), "once the retry is due the route answers, and asks again"
    later = await client.get(page, headers=headers)
    assert [place["name"] for place in later.json()["nearby"]] == ["Hồ Núi Cốc"]
    assert later.headers["etag"] != first.headers["etag"] and len(asked) == 2
    assert _replayable(app, page, headers), "whole again, the page is replayed as before"
