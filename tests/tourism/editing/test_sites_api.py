"""Editors write, the public reads only what is published."""

from typing import Any

import asyncpg

from tests.support.tourism import SITE, Client, assert_problem, point_payload, site_payload


async def test_draft_is_hidden_until_published(client: Client, editor: dict[str, str], draft_site: str) -> None:
    assert_problem(await client.get(f"/api/v1/sites/{draft_site}"), 404, "site_not_found")
    assert (await client.get("/api/v1/sites")).json() == []
    assert_problem(await client.get(f"/api/v1/sites/{draft_site}/offline"), 404, "site_not_found")
    editor_view = await client.get(f"/api/v1/editor/sites/{draft_site}", headers=editor)
    assert editor_view.status_code == 200
    assert editor_view.json()["status"] == "draft"

    await client.post(f"/api/v1/editor/sites/{draft_site}/publish", headers=editor)
    listing = (await client.get("/api/v1/sites?lang=en")).json()
    assert [s["slug"] for s in listing] == [SITE]
    assert listing[0]["name"] == "Núi Cốc test area"
    assert listing[0]["lang"] == "en"


async def test_site_detail_has_points_tracks_tours_and_models(client: Client, published_site: str) -> None:
    site = (await client.get(f"/api/v1/sites/{published_site}?lang=vi")).json()
    assert site["name"] == "Khu thử nghiệm Hồ Núi Cốc"
    assert [p["slug"] for p in site["points"]] == ["p1", "p2", "p3"]
    p1 = site["points"][0]
    assert p1["model"]["url"].endswith("/api/v1/models/stele.glb")
    assert {t["lang"] for t in p1["tracks"]} == {"vi", "en"}
    assert p1["tracks"][0]["origin"] == "human"
    assert p1["tracks"][0]["machine_generated"] is False
    p3 = site["points"][2]
    assert p3["lang"] == "en"  # only written in English: the fallback says so
    tour = site["tours"][0]
    assert tour["stops"] == ["p1", "p2", "p3"]
    assert 200 < tour["distance_m"] < 300
    assert tour["duration_s"] == round(tour["distance_m"] / 1.1)
    assert site["nearby_producers"] == []
    points = (await client.get(f"/api/v1/sites/{published_site}/points")).json()
    assert len(points) == 3
    tours = (await client.get(f"/api/v1/sites/{published_site}/tours")).json()
    assert tours[0]["route"]["type"] == "LineString"


async def test_unpublish_hides_again(client: Client, editor: dict[str, str], published_site: str) -> None:
    assert (await client.post(f"/api/v1/editor/sites/{published_site}/unpublish", headers=editor)).status_code == 200
    assert_problem(await client.get(f"/api/v1/sites/{published_site}/points"), 404, "site_not_found")


async def test_writes_need_an_editor(client: Client, make_user: Any) -> None:
    farmer = await make_user("farmer")
    response = await client.post("/api/v1/editor/sites", json=site_payload(), headers=farmer)
    assert_problem(response, 403, "forbidden")
    assert_problem(await client.post("/api/v1/editor/sites", json=site_payload()), 401, "unauthorized")
    admin = await make_user("admin")
    assert (await client.post("/api/v1/editor/sites", json=site_payload(), headers=admin)).status_code == 201


async def test_duplicate_slug_conflicts(client: Client, editor: dict[str, str], draft_site: str) -> None:
    assert_problem(
        await client.post("/api/v1/editor/sites", json=site_payload(), headers=editor), 409, "site_slug_taken"
    )
    response = await client.post(
        f"/api/v1/editor/sites/{SITE}/points", json=point_payload("p1", (21.564, 105.722)), headers=editor
    )
    assert_problem(response, 409, "point_slug_taken")


async def test_update_changes_version(client: Client, editor: dict[str, str], draft_site: str) -> None:
    before = (await client.get(f"/api/v1/editor/sites/{draft_site}", headers=editor)).json()["version"]
    response = await client.patch(f"/api/v1/editor/sites/{draft_site}", json={"ranking": "provincial"}, headers=editor)
    assert response.status_code == 200
    assert response.json()["ranking"] == "provincial"
    assert response.json()["version"] > before
    same = await client.patch(f"/api/v1/editor/sites/{draft_site}", json={"ranking": "provincial"}, headers=editor)
    assert same.json()["version"] == response.json()["version"]  # no change, no new version


async def _counts(db: asyncpg.Connection) -> tuple[int, int, int, int]:
    row = await db.fetchrow(
        """select (select count(*) from tourism_sites), (select count(*) from tourism_points),
                  (select count(*) from tourism_tracks), (select count(*) from tourism_tours)"""
    )
    assert row is not None
    return row[0], row[1], row[2], row[3]


async def test_bad_coordinates_are_refused(client: Client, editor: dict[str, str], db: asyncpg.Connection) -> None:
    swapped = await client.post("/api/v1/editor/sites", json=site_payload(lat=105.722, lon=21.564), headers=editor)
    body = assert_problem(swapped, 422, "coordinates_swapped")
    assert "swapped" in body["detail"]
    hanoi = await client.post("/api/v1/editor/sites", json=site_payload(lat=21.028, lon=105.834), headers=editor)
    assert_problem(hanoi, 422, "outside_province")
    nonsense = await client.post("/api/v1/editor/sites", json=site_payload(lat=123.0, lon=500.0), headers=editor)
    assert_problem(nonsense, 422, "coordinates_out_of_range")
    assert await _counts(db) == (0, 0, 0, 0)


async def test_unknown_language_is_refused(client: Client, editor: dict[str, str], db: asyncpg.Connection) -> None:
    texts = {"xx": {"name": "Nope"}}
    assert_problem(
        await client.post("/api/v1/editor/sites", json=site_payload(texts=texts), headers=editor),
        422,
        "unknown_language",
    )
    assert await _counts(db) == (0, 0, 0, 0)
    assert_problem(await client.get("/api/v1/sites?lang=qq"), 422, "unknown_language")


async def test_bad_points_are_refused(
    client: Client, editor: dict[str, str], draft_site: str, db: asyncpg.Connection
) -> None:
    before = await _counts(db)
    url = f"/api/v1/editor/sites/{draft_site}/points"
    negative = await client.post(url, json=point_payload("neg", (21.564, 105.722), radius_m=-5), headers=editor)
    assert_problem(negative, 400, "validation_failed")
    bowtie = [[105.720, 21.560], [105.724, 21.564], [105.724, 21.560], [105.720, 21.564], [105.720, 21.560]]
    crossing = await client.post(url, json=point_payload("bow", (21.562, 105.722), polygon=bowtie), headers=editor)
    assert_problem(crossing, 422, "polygon_self_intersecting")
    open_ring = [[105.720, 21.560], [105.724, 21.560], [105.724, 21.564], [105.720, 21.564]]
    unclosed = await client.post(url, json=point_payload("open", (21.562, 105.722), polygon=open_ring), headers=editor)
    assert_problem(unclosed, 422, "polygon_not_closed")
    model = await client.post(url, json=point_payload("m", (21.562, 105.722), model="pagoda"), headers=editor)
    assert_problem(model, 422, "unknown_model")
    swapped = await client.post(url, json=point_payload("sw", (105.722, 21.562)), headers=editor)
    assert_problem(swapped, 422, "coordinates_swapped")
    assert await _counts(db) == before


async def test_valid_polygon_zone_is_accepted(client: Client, editor: dict[str, str], draft_site: str) -> None:
    square = [[105.720, 21.560], [105.724, 21.560], [105.724, 21.564], [105.720, 21.564], [105.720, 21.560]]
    response = await client.post(
        f"/api/v1/editor/sites/{draft_site}/points",
        json=point_payload("sq", (21.562, 105.722), polygon=square),
        headers=editor,
    )
    assert response.status_code == 201, response.text
    assert response.json()["polygon"] == square


async def test_tour_with_unknown_stop_is_refused(
    client: Client, editor: dict[str, str], draft_site: str, db: asyncpg.Connection
) -> None:
    before = await _counts(db)
    response = await client.post(
        f"/api/v1/editor/sites/{draft_site}/tours",
        json={
            "slug": "lac-duong",
            "mode": "boat",
            "stops": ["p1", "khong-co"],
            "route": {"type": "LineString", "coordinates": [[105.722, 21.564], [105.7229, 21.5649]]},
        },
        headers=editor,
    )
    body = assert_problem(response, 422, "unknown_stop")
    assert "khong-co" in body["detail"]
    swapped_route = await client.post(
        f"/api/v1/editor/sites/{draft_site}/tours",
        json={
            "slug": "lac-duong",
            "mode": "boat",
            "stops": ["p1"],
            "route": {"type": "LineString", "coordinates": [[21.564, 105.722], [21.5649, 105.7229]]},
        },
        headers=editor,
    )
    assert_problem(swapped_route, 422, "coordinates_swapped")
    assert await _counts(db) == before
