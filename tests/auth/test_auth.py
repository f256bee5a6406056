"""Sign-up, sign-in, tokens, throttling and role guards, through the real HTTP routes."""

from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.auth.service import normalize_phone
from service.core.errors import InvalidInput
from service.settings import Settings

PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0208 3855 123", "+842083855123"),
    ],
)
def test_vietnamese_numbers_become_e164(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "0912345678901", "not a phone", "+1 000"])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_phone(raw)


async def test_register_login_me(client: AsyncTestClient[Litestar], db: asyncpg.Connection) -> None:
    registered = await client.post(
        "/api/v1/auth/register",
        json={"phone": "0912 345 678", "password": "chè-tân-cương-2025", "full_name": "Nguyễn Văn An"},
    )
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert body["user"]["phone"] == "+84912345678"
    assert body["user"]["role"] == "farmer"
    stored = await db.fetchval("select password_hash from users where phone = '+84912345678'")
    assert stored.startswith("$argon2id$")

    login = await client.post("/api/v1/auth/login", json={"phone": "+84912345678", "password": "chè-tân-cương-2025"})
    assert login.status_code == 200
    token = login.json()["access_token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["full_name"] == "Nguyễn Văn An"


async def test_duplicate_phone_is_a_conflict(client: AsyncTestClient[Litestar]) -> None:
    payload = {"phone": "0987654321", "password": "password-1", "full_name": "A"}
    assert (await client.post("/api/v1/auth/register", json=payload)).status_code == 201
    again = await client.post("/api/v1/auth/register", json={**payload, "phone": "+84 987 654 321"})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith(PROBLEM)
    assert again.json()["code"] == "phone_taken"


async def test_bad_registration_lists_fields(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/v1/auth/register", json={"phone": "0912345678", "password": "short"})
    assert response.status_code == 400
    problem = response.json()
    assert response.headers["content-type"].startswith(PROBLEM)
    assert problem["code"] == "validation_failed"
    assert problem["errors"], problem
    unknown = await client.post(
        "/api/v1/auth/register",
        json={"phone": "0912345678", "password": "long-enough", "full_name": "x", "role": "admin"},
    )
    assert unknown.status_code == 400, "a farmer cannot smuggle a role into self-registration"


async def test_me_needs_a_valid_token(client: AsyncTestClient[Litestar]) -> None:
    missing = await client.get("/api/v1/me")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith(PROBLEM)
    forged = await client.get("/api/v1/me", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert forged.status_code == 401


async def test_login_is_throttled_per_phone(client: AsyncTestClient[Litestar], settings: Settings) -> None:
    await client.post(
        "/api/v1/auth/register", json={"phone": "0911111111", "password": "right-password", "full_name": "B"}
    )
    for _ in range(settings.login_max_attempts):
        wrong = await client.post("/api/v1/auth/login", json={"phone": "0911111111", "password": "wrong-password"})
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "invalid_credentials"
    blocked = await client.post("/api/v1/auth/login", json={"phone": "0911111111", "password": "right-password"})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "login_throttled"
    assert int(blocked.headers["retry-after"]) > 0
    other = await client.post("/api/v1/auth/login", json={"phone": "0922222222", "password": "whatever-1"})
    assert other.status_code == 401, "another phone from the same address is not blocked after 5 failures"


async def test_login_is_throttled_per_address(client: AsyncTestClient[Litestar], settings: Settings) -> None:
    limit = settings.login_max_attempts * 10
    for i in range(limit):
        response = await client.post("/api/v1/auth/login", json={"phone": f"09330{i:05d}", "password": "guess-guess"})
        assert response.status_code == 401
    blocked = await client.post("/api/v1/auth/login", json={"phone": "0944444444", "password": "guess-guess"})
    assert blocked.status_code == 429


async def test_unknown_phone_and_wrong_password_look_the_same(client: AsyncTestClient[Litestar]) -> None:
    await client.post(
        "/api/v1/auth/register", json={"phone": "0955555555", "password": "right-password", "full_name": "C"}
    )
    wrong = await client.post("/api/v1/auth/login", json={"phone": "0955555555", "password": "nope-nope"})
    unknown = await client.post("/api/v1/auth/login", json={"phone": "0966666666", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_role_guards(client: AsyncTestClient[Litestar], app: Litestar, make_user: Any) -> None:
    for role in ("farmer", "cooperative", "editor"):
        denied = await client.get("/api/v1/inspections/queue", headers=await make_user(role))
        assert denied.status_code == 403, role
        assert denied.headers["content-type"].startswith(PROBLEM)
    for role in ("inspector", "admin"):
        assert (await client.get("/api/v1/inspections/queue", headers=await make_user(role))).status_code == 200
    farmer = await make_user("farmer")
    claims_more = app.state.jwt_auth.create_token(
        identifier=farmer["X-User-Id"], token_extras={"role": "admin", "ver": 1}
    )
    assert (
        await client.get("/api/v1/inspections/queue", headers={"Authorization": f"Bearer {claims_more}"})
    ).status_code == 401
    superuser = app.state.jwt_auth.create_token(
        identifier=farmer["X-User-Id"], token_extras={"role": "superuser", "ver": 1}
    )
    assert (
        await client.get("/api/v1/inspections/queue", headers={"Authorization": f"Bearer {superuser}"})
    ).status_code == 401
    assert (await client.get("/api/v1/inspections/queue")).status_code == 401
