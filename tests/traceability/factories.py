"""Small builders for traceability tests: real HTTP through the app, no shortcuts into the database."""

import uuid
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

TAN_CUONG = "05503"  # Xã Tân Cương
TAN_CUONG_POINT = {"type": "Point", "coordinates": [105.7626, 21.5638]}  # [lon, lat]
PROBLEM = "application/problem+json"

Client = AsyncTestClient[Litestar]


async def organization(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "household",
        "name": f"Hộ chè {uuid.uuid4().hex[:6]}",
        "commune_code": TAN_CUONG,
        "lat": 21.5638,
        "lon": 105.7626,
        "contact_phone": "0912 345 678",
        "contact_email": "ho.che@example.vn",
    } | overrides
    response = await client.post("/api/v1/organizations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def product(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"names": {"vi": "Chè búp Tân Cương", "en": "Tân Cương tea buds"}, "category": "tea"} | overrides
    response = await client.post("/api/v1/products", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def plot(client: Client, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body = {"name": "Đồi chè số 1", "commune_code": TAN_CUONG, "geometry": TAN_CUONG_POINT, "crops": ["chè"]}
    response = await client.post("/api/v1/plots", json=body | overrides, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def batch(client: Client, headers: dict[str, str], product_id: str, **overrides: Any) -> dict[str, Any]:
    body = {"product_id": product_id, "quantity": "120.5", "unit": "kg", "harvest_date": "2025-06-01"} | overrides
    response = await client.post("/api/v1/batches", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def event(client: Client, headers: dict[str, str], batch_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/api/v1/batches/{batch_id}/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def farm(client: Client, make_user: Any, role: str = "farmer") -> tuple[dict[str, str], dict[str, Any]]:
    """A signed-in user with their own organization."""
    headers = await make_user(role)
    kind = "cooperative" if role == "cooperative" else "household"
    return headers, await organization(client, headers, kind=kind)


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = dict(response.json())
    if code is not None:
        assert body["code"] == code, body
    return body
