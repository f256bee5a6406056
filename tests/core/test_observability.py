"""Readiness follows the database down and back up; metrics and request ids are there."""

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx
import msgspec
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.core.db import EmbeddedPostgres
from service.settings import Settings
from tests.conftest import TEST_JWT_SECRET


async def test_ready_recovers_when_the_database_comes_back(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    dsn = server.start()
    settings = Settings(env="test", database_url=dsn, media_dir=str(tmp_path / "media"), jwt_secret=TEST_JWT_SECRET)
    try:
        async with AsyncTestClient(create_app(settings)) as client:
            assert (await client.get("/health/ready")).status_code == 200
            await asyncio.to_thread(server.stop)
            down = await client.get("/health/ready")
            assert down.status_code == 503
            assert down.headers["content-type"].startswith("application/problem+json")
            assert down.json()["code"] == "database_unavailable"
            assert (await client.get("/health/live")).status_code == 200, "liveness needs no database"
            await asyncio.to_thread(server.start)
            statuses = []
            for _ in range(20):
                statuses.append((await client.get("/health/ready")).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.25)
            assert statuses[-1] == 200, f"did not recover by itself: {statuses}"
    finally:
        server.stop()


async def test_metrics_report_routes_and_pool(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    await client.get("/health/ready")
    await client.post("/api/v1/auth/login", json={"phone": "0912345678", "password": "x"})
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert "trace_tour_requests_total" in text
    assert 'path="/api/v1/auth/login"' in text
    assert "trace_tour_request_duration_seconds_bucket" in text
    assert "db_pool_connections" in text


async def test_request_id_is_echoed_or_made(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    given = await client.get("/health/live", headers={"X-Request-ID": "phone-42.retry-1"})
    assert given.headers["x-request-id"] == "phone-42.retry-1"
    made = await client.get("/health/live", headers={"X-Request-ID": "<script>"})
    assert made.headers["x-request-id"] != "<script>"
    assert len(made.headers["x-request-id"]) == 32
    problem = await client.get("/nowhere", headers={"X-Request-ID": "abc-123"})
    assert problem.json()["request_id"] == "abc-123"
    # as long as 64 characters a phone's id is kept; a longer one would bloat every log line: a new one instead
    longest = await client.get("/health/live", headers={"X-Request-ID": "r" * 64})
    assert longest.headers["x-request-id"] == "r" * 64
    too_long = await client.get("/health/live", headers={"X-Request-ID": "r" * 65})
    assert too_long.headers["x-request-id"] != "r" * 65
    # two requests without an id get two ids, from the same worker's prefix
    first, second = (await client.get("/health/live"), await client.get("/health/live"))
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert first.headers["x-request-id"][:16] == second.headers["x-request-id"][:16]


async def test_metrics_need_their_token_when_one_is_set(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, metrics_token="m" * 24))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong-token-wrong"})).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": f"Bearer {'m' * 24}"})).status_code == 200


async def test_production_hides_metrics_without_a_token_and_the_schema_unless_enabled(settings: Settings) -> None:
    signing_key = base64.b64encode(b"k" * 32).decode()
    production = msgspec.structs.replace(settings, env="production", jwt_secret="p" * 48, log_signing_key=signing_key)
    async with AsyncTestClient(app=create_app(production)) as client:
        assert (await client.get("/metrics")).status_code == 403
        assert (await client.get("/schema/openapi.json")).status_code == 404
        assert (await client.get("/health/live")).status_code == 200
    enabled = msgspec.structs.replace(production, schema_enabled=True)
    async with AsyncTestClient(app=create_app(enabled)) as client:
        assert (await client.get("/schema/openapi.json")).status_code == 200


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_count_each_route_by_status_with_its_template(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.get("/health/live")).status_code == 200
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await client.get(f"/api/v1/batches/{missing}/qr.png")).status_code == 404
    after = (await client.get("/metrics")).text
    live = {"path": "/health/live", "method": "GET", "status_code": "200"}
    total = "trace_tour_requests_total"
    assert _sample(after, total, **live) - _sample(before, total, **live) == 3
    qr = {"path": "/api/v1/batches/{batch_id}/qr.png", "status_code": "404"}
    assert _sample(after, total, **qr) - _sample(before, total, **qr) == 1
    bucket = {**live, "le": "+Inf"}
    assert _sample(after, "trace_tour_request_duration_seconds_bucket", **bucket) == _sample(
        after, "trace_tour_requests_total", **live
    )
    assert 'path="/metrics"' not in after, "the scrape itself is not counted"


async def test_unknown_paths_and_preflights_count_under_one_series_each(
    client: AsyncTestClient,
) -> None:  # type: ignore[type-arg]
    before = (await client.get("/metrics")).text
    for n in range(3):
        assert (await client.get(f"/api/v1/no-such-thing-{n}")).status_code == 404
    unrouted = {"path": "(no route)", "method": "GET", "status_code": "404"}
    total = "trace_tour_requests_total"
    preflight = {"Origin": "https://shop.example.vn", "Access-Control-Request-Method": "POST"}
    for n in range(2):
        assert (await client.options(f"/api/v1/no-such-thing-{n}", headers=preflight)).status_code == 204
    after = (await client.get("/metrics")).text
    assert _sample(after, total, **unrouted) - _sample(before, total, **unrouted) == 3
    preflights = {"path": "(preflight)", "method": "OPTIONS", "status_code": "204"}
    assert _sample(after, total, **preflights) - _sample(before, total, **preflights) == 2
    assert "no-such-thing" not in after, "a path no route took is never a label"


async def test_requests_in_progress_are_reported_under_their_route(settings: Settings) -> None:
    app = create_app(settings)
    release = asyncio.Event()
    reached = asyncio.Event()
    edge = app.state.edge
    routed = edge.app

    async def slow(scope: Any, receive: Any, send: Any) -> None:  # the route, once routed, is slow to answer
        async def held(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["path"] == "/health/live":
                reached.set()
                await release.wait()
            await send(message)

        await routed(scope, receive, held)

    edge.app = slow
    # httpx's own ASGI transport runs the app on this loop, so two requests can be in flight at once
    async with app.lifespan(), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        waiting = asyncio.create_task(client.get("/health/live"))
        await asyncio.wait_for(reached.wait(), 10)
        during = (await client.get("/metrics")).text
        release.set()
        assert (await waiting).status_code == 200
        after = (await client.get("/metrics")).text
    gauge = "trace_tour_requests_in_progress"
    assert _sample(during, gauge, method="GET", path="/health/live") == 1
    assert _sample(after, gauge, method="GET", path="/health/live") == 0
