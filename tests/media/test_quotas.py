"""Who may upload what, and how much a day: per purpose roles, per user and per organization quotas."""

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.support import factories as f
from tests.support.app import UserFactory, concurrently


def declare_body(purpose: str, content_type: str = "image/png", size: int = 100) -> dict[str, Any]:
    return {
        "purpose": purpose,
        "content_type": content_type,
        "bytes": size,
        "sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
    }


@pytest.fixture
async def quota_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with small daily quotas: two uploads and 1,000 bytes a user, three uploads an organization."""
    small = msgspec.structs.replace(
        settings,
        upload_daily_count_per_user=2,
        upload_daily_bytes_per_user=1_000,
        upload_daily_count_per_organization=3,
        upload_daily_bytes_per_organization=1_000_000,
    )
    async with AsyncTestClient(app=create_app(small), base_url="https://trace.example.vn") as client:
        yield client


@pytest.mark.parametrize(
    ("role", "purpose", "content_type", "status"),
    [
        ("farmer", "model_3d", "model/gltf-binary", 403),
        ("cooperative", "audio_track", "audio/ogg", 403),
        ("editor", "product_photo", "image/png", 403),
        ("inspector", "certificate", "application/pdf", 403),
        ("editor", "model_3d", "model/gltf-binary", 201),
        ("editor", "audio_track", "audio/ogg", 201),
        ("farmer", "product_photo", "image/png", 201),
        ("cooperative", "certificate", "application/pdf", 201),
        ("admin", "model_3d", "model/gltf-binary", 201),
    ],
)
async def test_each_purpose_has_its_roles(
    client: AsyncTestClient[Litestar], make_user: UserFactory, role: str, purpose: str, content_type: str, status: int
) -> None:
    response = await client.post(
        "/api/v1/media", json=declare_body(purpose, content_type), headers=await make_user(role)
    )
    assert response.status_code == status, response.text
    if status == 403:
        f.assert_problem(response, 403, "purpose_not_allowed")


async def declared(client: AsyncTestClient[Litestar], headers: dict[str, str], size: int = 100) -> int:
    response = await client.post("/api/v1/media", json=declare_body("product_photo", size=size), headers=headers)
    return response.status_code


async def test_a_users_daily_count_and_bytes(quota_client: AsyncTestClient[Litestar], make_user: UserFactory) -> None:
    farmer = await make_user("farmer")
    assert (
        await quota_client.post("/api/v1/media", json=declare_body("product_photo", size=600), headers=farmer)
    ).status_code == 201
    too_big = await quota_client.post("/api/v1/media", json=declare_body("product_photo", size=500), headers=farmer)
    problem = f.assert_problem(too_big, 413, "upload_quota_bytes")
    assert "400" in problem["detail"]  # what is left today
    assert int(too_big.headers["retry-after"]) <= 86_400
    assert (
        await quota_client.post("/api/v1/media", json=declare_body("product_photo", size=400), headers=farmer)
    ).status_code == 201
    third = await quota_client.post("/api/v1/media", json=declare_body("product_photo", size=1), headers=farmer)
    f.assert_problem(third, 429, "upload_quota_count")
    assert "retry-after" in third.headers
    other = await make_user("farmer")  # someone else's quota is untouched
    assert (
        await quota_client.post("/api/v1/media", json=declare_body("product_photo"), headers=other)
    ).status_code == 201


async def test_an_organizations_daily_count_is_shared_by_its_members(
    client: AsyncTestClient[Litestar],
    quota_client: AsyncTestClient[Litestar],
    make_user: UserFactory,
    db: asyncpg.Connection,
) -> None:
    owner, org = await f.farm(client, make_user)
    member = await make_user("farmer")
    await f.join_organization(db, member, uuid.UUID(org["id"]))
    for headers in (owner, owner, member):
        assert (
            await quota_client.post("/api/v1/media", json=declare_body("product_photo"), headers=headers)
        ).status_code == 201
    fourth = await quota_client.post("/api/v1/media", json=declare_body("product_photo"), headers=member)
    f.assert_problem(fourth, 429, "upload_quota_count")
    assert "organization" in fourth.json()["detail"]


async def test_parallel_declarations_cannot_all_pass_the_quota(
    quota_client: AsyncTestClient[Litestar], make_user: UserFactory, db: asyncpg.Connection
) -> None:
    farmer = await make_user("farmer")
    responses = await concurrently(
        quota_client,
        [("POST", "/api/v1/media", {"json": declare_body("product_photo"), "headers": farmer}) for _ in range(6)],
    )
    assert sorted(r.status_code for r in responses) == [201, 201, 429, 429, 429, 429]
    assert await db.fetchval("select count(*) from media where owner_id = $1", uuid.UUID(farmer["X-User-Id"])) == 2
