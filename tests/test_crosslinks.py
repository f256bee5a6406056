"""The two domains meet only through app.py's adapters: each side shows what the other publishes."""

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.core.db import init_connection
from service.seed import seed_demo
from service.settings import Settings


async def _seed(db: asyncpg.Connection, settings: Settings) -> None:
    await init_connection(db)
    await seed_demo(db, settings)


async def test_shopper_page_lists_heritage_sites_near_the_farm(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    await _seed(db, settings)
    code = await db.fetchval(
        """
        select b.code from batches b join organizations o on o.id = b.organization_id
        where o.name like 'HTX chè Tân Cương%' and b.status = 'active' order by b.created_at limit 1
        """
    )
    page = await client.get(f"/trace/{code}", headers={"Accept": "application/json"})
    assert page.status_code == 200
    nearby = page.json()["nearby"]
    assert nearby, "Tân Cương tea grows beside Hồ Núi Cốc: the page should say so"
    assert all(place["url"].startswith(settings.base_url) for place in nearby)
    assert nearby == sorted(nearby, key=lambda place: place["distance_km"])
    html = (await client.get(f"/trace/{code}")).text
    assert nearby[0]["name"] in html


async def test_site_lists_ocop_producers_nearby(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    await _seed(db, settings)
    site = (await client.get("/api/v1/sites/ho-nui-coc")).json()
    names = [producer["name"] for producer in site["nearby_producers"]]
    assert any("Tân Cương" in name for name in names), names
    assert not any("phone" in producer for producer in site["nearby_producers"]), "no private contact data"


async def test_search_finds_products_without_diacritics(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    await _seed(db, settings)
    results = (await client.get("/api/v1/search", params={"q": "che tan cuong"})).json()["results"]
    kinds = {result["kind"] for result in results}
    assert "product" in kinds, results
    assert "point" in kinds or "site" in kinds
    assert any("Chè" in result["title"] and result["kind"] == "product" for result in results)


async def test_cross_links_lead_to_pages_people_read(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings
) -> None:
    await _seed(db, settings)
    code = await db.fetchval("select code from batches where lot = 'CD2505-DEMO'")
    nearby = (await client.get(f"/trace/{code}", headers={"Accept": "application/json"})).json()["nearby"]
    assert nearby and all(place["url"].startswith(f"{settings.base_url}/g/") for place in nearby)
    for place in nearby:
        page = await client.get(place["url"].removeprefix(settings.base_url))
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert place["name"] in page.text
    site = (await client.get("/api/v1/sites/ho-nui-coc")).json()
    producer = site["nearby_producers"][0]
    assert producer["url"].startswith(f"{settings.base_url}/producers/")
    page = await client.get(producer["url"].removeprefix(settings.base_url))
    assert page.status_code == 200 and producer["name"] in page.text
