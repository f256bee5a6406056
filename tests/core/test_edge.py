"""The edge layer: a web page on another origin can read the public API, and every answer has its request id."""

import logging
from typing import Any

import pytest
from litestar import Litestar

from service.core.edge import Edge
from tests.support import factories as f

SHOP = "https://shop.example.vn"


async def test_a_page_on_another_origin_reads_the_public_api(client: f.Client) -> None:
    response = await client.get("/open-data/catalog.json", headers={"Origin": SHOP})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert exposed == {"ETag", "Link", "Location", "X-Request-ID"}  # what a script needs of the resolver's answers
    assert "origin" not in response.headers.get("vary", "").lower()


async def test_requests_without_an_origin_get_no_cors_headers(client: f.Client) -> None:
    response = await client.get("/open-data/catalog.json")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert len(response.headers["x-request-id"]) == 32


async def test_a_preflight_is_answered_for_any_method_and_the_headers_asked(client: f.Client) -> None:
    response = await client.options(
        "/api/v1/batches",
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, idempotency-key",
        },
    )
    assert response.status_code == 204 and response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"].split(", ")
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "idempotency-key", "content-type"} <= allowed
    assert response.headers["access-control-max-age"] == "600"
    assert response.headers["x-request-id"]


async def test_a_request_with_a_cookie_is_answered_for_its_origin_only_and_keeps_its_own_vary(
    client: f.Client,
) -> None:
    response = await client.get(
        "/open-data/catalog",
        headers={"Origin": SHOP, "Cookie": "tt_lang=en", "Accept": "application/json"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["access-control-allow-origin"] == SHOP
    vary = {v.strip() for v in response.headers["vary"].split(",")}
    assert {"Accept", "Origin"} <= vary, "the answer's own Vary is kept, Origin joins it"


@pytest.mark.parametrize("path", ["/nowhere", "/api/v1/batches/00000000-0000-0000-0000-000000000000"])
async def test_refusals_carry_the_request_id_in_the_header_and_the_problem(client: f.Client, path: str) -> None:
    """Unrouted paths too: the id is made before routing, so a phone's report can be found in the logs."""
    response = await client.get(path, headers={"Origin": SHOP})
    assert response.status_code in (401, 404)
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_a_failing_warm_lane_costs_the_user_nothing(app: Litestar, client: f.Client, caplog: Any) -> None:
    """A lane is asked before routing; if it breaks, the route answers (and the failure is logged)."""

    def broken(*_: Any) -> None:
        raise KeyError("a bug in a lane")

    edge: Edge = app.state.edge
    edge.lanes["open-data"] = broken
    edge.body_lanes["/api/v1/guide/position"] = broken
    with caplog.at_level(logging.ERROR, logger="service.edge"):
        page = await client.get("/open-data/catalog.json")
        report = await client.post(
            "/api/v1/guide/position", json={"site": "khong-co", "lat": 21.6, "lon": 105.8, "accuracy_m": 5}
        )
    assert page.status_code == 200 and page.json()
    assert report.status_code == 404 and report.json()["code"] == "site_not_found", "the route read the whole body"
    assert sum("a warm lane failed" in r.getMessage() for r in caplog.records) == 2
