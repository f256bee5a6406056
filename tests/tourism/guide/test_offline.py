"""Offline packs revalidate with 304 and change on edits."""

import hashlib

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
