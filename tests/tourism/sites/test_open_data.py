"""GeoJSON of sites, points and tours; search; sites near a place."""

import math
from typing import Any

import asyncpg
import pytest

from service.tourism.geo import haversine_m
from service.tourism.public import sites_near
from service.tourism.sites.search import fold_for_search as fold
from tests.support.geojson import check_feature_collection
from tests.support.tourism import Client, assert_problem

BBOX = (21.3, 22.8, 105.4, 106.3)


def _inside_province(feature: dict[str, Any]) -> None:
    coords = feature["geometry"]["coordinates"]
    positions = {"Point": [coords], "LineString": coords, "Polygon": coords[0] if coords else []}[
        feature["geometry"]["type"]
    ]
    for lon, lat in positions:
        assert BBOX[0] <= lat <= BBOX[1], feature["id"]
        assert BBOX[2] <= lon <= BBOX[3], feature["id"]


@pytest.mark.parametrize("path", ["/api/v1/sites.geojson", "/open-data/sites.geojson"])
async def test_geojson_is_rfc7946_with_lon_lat(client: Client, seeded: str, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    doc = response.json()
    check_feature_collection(doc)
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert kinds.count("site") == 4
    assert kinds.count("point") == 20
    assert kinds.count("tour") == 5
    for feature in doc["features"]:
        _inside_province(feature)
    nui_coc = next(f for f in doc["features"] if f["id"] == "site/ho-nui-coc")
    lon, lat = nui_coc["geometry"]["coordinates"]
    assert lon > 100 > lat  # [lon, lat], never the other way round
    point = next(f for f in doc["features"] if f["properties"]["kind"] == "point")
    assert point["properties"]["zone_radius_m"] > 0
    tour = next(f for f in doc["features"] if f["properties"]["kind"] == "tour")
    assert tour["geometry"]["type"] == "LineString"


def test_geojson_checker_catches_mistakes() -> None:
    for bad in (
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [21.5, 105.8]}}
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "LineString", "coordinates": [[105.8, 21.5]]},
                }
            ],
        },
        {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]},
        {"type": "Feature", "features": []},
    ):
        with pytest.raises(AssertionError):
            check_feature_collection(bad)


def test_folding_handles_vietnamese() -> None:
    assert fold("Hồ Núi Cốc") == "ho nui coc"
    assert fold("ĐỒI Tỉn Keo, Định Hóa!") == "doi tin keo dinh hoa"
    assert fold("Chè Tân Cương") == "che tan cuong"


async def test_search_is_diacritic_insensitive_and_ranked(client: Client, seeded: str) -> None:
    response = await client.get("/api/v1/search", params={"q": "ho nui coc"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results, "nothing found"
    assert results[0]["kind"] == "site"
    assert results[0]["site"] == "ho-nui-coc"
    assert "Núi Cốc" in results[0]["title"]
    tea = (await client.get("/api/v1/search", params={"q": "che tan cuong"})).json()["results"]
    assert any(hit["kind"] == "point" and hit["site"] == "ho-nui-coc" for hit in tea)
    english = (await client.get("/api/v1/search", params={"q": "Dinh Hoa", "lang": "en"})).json()["results"]
    assert english[0]["site"] == "atk-dinh-hoa"
    assert english[0]["lang"] == "en"
    prefix = (await client.get("/api/v1/search", params={"q": "phuong ho"})).json()["results"]
    assert prefix
    assert prefix[0]["site"] == "hang-phuong-hoang"
    nothing = (await client.get("/api/v1/search", params={"q": "!!!"})).json()["results"]
    assert nothing == []
    assert_problem(await client.get("/api/v1/search", params={"q": "x", "lang": "zz"}), 422, "unknown_language")


async def test_sites_near_lists_nearest_first(db: asyncpg.Connection, seeded: str) -> None:
    places = await sites_near(db, 21.5600, 105.7300, "en", 5)
    assert places
    assert places[0].site == "ho-nui-coc"
    assert [p.distance_m for p in places] == sorted(p.distance_m for p in places)
    assert all(p.lang == "en" for p in places)
    assert await sites_near(db, 10.77, 106.70, "vi", 5) == []  # Hồ Chí Minh City: nothing within 50 km


async def test_sites_near_are_the_nearest_of_many_points_measured_on_the_sphere(
    db: asyncpg.Connection, seeded: str
) -> None:
    """A site with hundreds of points: the few nearest come back, as the great-circle distance orders them."""
    site = await db.fetchval("select id from tourism_sites where slug = 'ho-nui-coc'")
    here = (21.5600, 105.7300)
    # three hundred points 1-3.4 km north and south, and one in the corner of the 50 km search box (55 km away)
    await db.executemany(
        "insert into tourism_points (site_id, slug, lat, lon, radius_m, texts) values ($1, $2, $3, $4, 30, $5)",
        [
            *(
                (site, f"ring-{i}", here[0] + 0.009 * (1 + i % 25 / 10) * (-1) ** i, here[1] + 0.0001 * i, {})
                for i in range(300)
            ),
            (site, "corner", here[0] + 0.35, here[1] + 0.35 / math.cos(math.radians(here[0])), {}),
        ],
    )
    everything = await sites_near(db, *here, "vi", 10_000)
    assert len(everything) > 300
    assert all(p.distance_m <= 50_000 for p in everything)
    assert "corner" not in {p.slug for p in everything}, "inside the box, outside the circle"
    expected = sorted(everything, key=lambda p: (p.distance_m, p.kind != "site", p.slug))
    assert everything == expected
    nearest = await sites_near(db, *here, "vi", 4)
    assert nearest == everything[:4], "the limit keeps the nearest, not the first found"
    assert nearest[0].distance_m == pytest.approx(haversine_m(*here, nearest[0].lat, nearest[0].lon), abs=0.1)
    assert await sites_near(db, *here, "vi", 0) == []
