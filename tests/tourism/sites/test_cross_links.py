"""Site pages and search use whatever answers tourism's ports (here fakes, in the app service/crosslinks.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide
from litestar.testing import AsyncTestClient

from service import tourism
from service.auth.guards import build_jwt_auth
from service.core.db import database_lifespan, provide_connection, provide_read_connection
from service.core.errors import EXCEPTION_HANDLERS
from service.settings import Settings
from service.tourism.ports import NearbyProducer, ProductMatch
from tests.support.tourism import BASE


class FakeNearby:
    """Stands in for traceability's public lookup: another domain, not the database."""

    async def near(self, lat: float, lon: float, radius_km: float, lang: str, limit: int) -> list[NearbyProducer]:
        return [
            NearbyProducer(
                kind="producer", name="HTX Chè Tân Cương", url="https://trace.example.vn/p/1", distance_m=3200
            )
        ]


class FakeProducts:
    async def search(self, q: str, lang: str, limit: int) -> list[ProductMatch]:
        return [ProductMatch(name="Chè Tân Cương", url="https://trace.example.vn/01/089", score=0.5)]


async def test_cross_links_use_the_wired_protocols(settings: Settings, published_site: str) -> None:
    jwt_auth = build_jwt_auth(settings)

    @asynccontextmanager
    async def state_lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.jwt_auth = jwt_auth
        yield

    app = Litestar(
        route_handlers=tourism.route_handlers,
        dependencies={
            "db": Provide(provide_connection),
            "read_db": Provide(provide_read_connection),
            "nearby_producers": Provide(lambda: FakeNearby(), sync_to_thread=False),
            "product_search": Provide(lambda: FakeProducts(), sync_to_thread=False),
        },
        lifespan=[state_lifespan, database_lifespan],
        on_app_init=[jwt_auth.on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with AsyncTestClient(app=app, base_url=BASE) as wired:
        site = (await wired.get(f"/api/v1/sites/{published_site}")).json()
        assert site["nearby_producers"][0]["name"] == "HTX Chè Tân Cương"
        hits = (await wired.get("/api/v1/search", params={"q": "che tan cuong"})).json()["results"]
        assert any(hit["kind"] == "product" for hit in hits)
