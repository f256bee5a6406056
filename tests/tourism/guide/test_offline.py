"""Offline packs revalidate with 304 and change on edits."""

import hashlib

from litestar import Litestar

from service.core.edge import Edge
from tests.support.tourism import BASE, Client, assert_problem


async def test_offline_manifest_etag_304_and_change(
    client: Client, editor: dict[str, str], published_site: str
) -> None:
    url = f"/api/v1/sites/{published_site}/offline?lang=vi"
    first = await client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    manifest = first.json()
    assert manifest["etag"] == etag
    assert manifest["total_bytes"] == sum(f["bytes"] for f in manifest["files"])
    kinds = {f["kind"] for f in manifest["files"]}
    assert kinds == {"audio", "captions", "model"}
    for item in manifest["files"]:
        body = (await client.get(item["url"].removeprefix(BASE))).content
        assert len(body) == item["bytes"], item["url"]
        assert hashlib.sha256(body).hexdigest() == item["sha256"], item["url"]
    p3 = next(p for p in manifest["content"]["points"] if p["slug"] == "p3")
    assert [t["lang"] for t in p3["tracks"]] == ["en"]  # fallback when vi is missing

    revalidated = await client.get(url, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.headers["etag"] == etag
    assert revalidated.content == b""
    assert (await client.get(f"/api/v1/sites/{published_site}/offline?lang=en")).headers["etag"] != etag

    edit = await client.patch(f"/api/v1/editor/sites/{published_site}/points/p2", json={"radius_m": 45}, headers=editor)
    assert edit.status_code == 200, edit.text
    after = await client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert next(p for p in after.json()["content"]["points"] if p["slug"] == "p2")["radius_m"] == 45


async def test_offline_bad_input(client: Client, published_site: str) -> None:
    assert_problem(await client.get(f"/api/v1/sites/{published_site}/offline?lang=xx"), 422, "unknown_language")
    assert_problem(
        await client.get("/api/v1/sites/khong-co/offline", headers={"If-None-Match": '"x"'}), 404, "site_not_found"
    )


async def test_revalidations_are_answered_at_the_edge_and_only_304s(
    app: Litestar, client: Client, published_site: str
) -> None:
    edge: Edge = app.state.edge
    lane = edge.lanes["api"]
    url = f"/api/v1/sites/{published_site}/offline"
    etag = (await client.get(url)).headers["etag"]  # no ?lang: Vietnamese

    def held(query: str, if_none_match: str) -> bool:
        scope = {"path": url, "query_string": query.encode()}
        return lane(scope, {b"if-none-match": if_none_match.encode()}) is not None  # type: ignore[arg-type]

    assert not held("", etag), "nothing is replayed before the route answered a revalidation"
    routed = await client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert routed.status_code == 304
    assert held("", etag) and held("lang=vi", etag) and held("", f'W/{etag}, "older"')
    replayed = await client.get(url + "?lang=vi", headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert replayed.status_code == 304 and replayed.content == b""
    assert sorted(k for k in replayed.headers if k != "x-request-id") == sorted(
        k for k in routed.headers if k != "x-request-id"
    )
    assert replayed.headers["etag"] == etag
    # anything else is the route's: an old ETag (a download), another language, another parameter
    assert not held("", '"older"') and not held("lang=en", etag) and not held("lang=vi&x=1", etag)
    fresh = await client.get(url, headers={"If-None-Match": '"older"'})
    assert fresh.status_code == 200 and fresh.json()["etag"] == etag
