"""Revocable sessions: a deactivation, a new role or a new password ends the user's tokens on the next request."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.support.app import UserFactory, feed_connected
from tests.support.factories import BASE, Client, assert_problem


async def test_deactivation_ends_the_token_on_the_very_next_request(
    app: Litestar, client: Client, make_user: UserFactory
) -> None:
    await feed_connected(app)
    admin, farmer = await make_user("admin"), await make_user("farmer")
    assert (await client.get("/api/v1/me", headers=farmer)).status_code == 200  # its standing is cached now
    changed = await client.patch(f"/api/v1/admin/users/{farmer['X-User-Id']}", json={"is_active": False}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["is_active"] is False
    assert_problem(await client.get("/api/v1/me", headers=farmer), 401)
    refused = await client.post(
        "/api/v1/auth/login", json={"phone": farmer["X-Phone"], "password": "mật-khẩu-an-toàn-1"}
    )
    assert refused.status_code == 401

    back = await client.patch(f"/api/v1/admin/users/{farmer['X-User-Id']}", json={"is_active": True}, headers=admin)
    assert back.json()["is_active"] is True
    assert_problem(await client.get("/api/v1/me", headers=farmer), 401)  # the old token stays dead
    again = await client.post("/api/v1/auth/login", json={"phone": farmer["X-Phone"], "password": "mật-khẩu-an-toàn-1"})
    assert again.status_code == 200
    fresh = {"Authorization": f"Bearer {again.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200


async def test_a_new_role_ends_the_tokens_of_the_old_one(client: Client, make_user: UserFactory) -> None:
    admin, user = await make_user("admin"), await make_user("inspector")
    assert (await client.get("/api/v1/scans/alerts", headers=user)).status_code == 200
    demoted = await client.patch(f"/api/v1/admin/users/{user['X-User-Id']}", json={"role": "farmer"}, headers=admin)
    assert demoted.json()["role"] == "farmer"
    assert_problem(await client.get("/api/v1/scans/alerts", headers=user), 401)


async def test_changing_my_password_ends_my_other_tokens(client: Client, make_user: UserFactory) -> None:
    user = await make_user("farmer")
    second = await client.post("/api/v1/auth/login", json={"phone": user["X-Phone"], "password": "mật-khẩu-an-toàn-1"})
    other_device = {"Authorization": f"Bearer {second.json()['access_token']}"}
    wrong = await client.post(
        "/api/v1/me/password", json={"old_password": "not-mine-at-all", "new_password": "chè-mới-2025"}, headers=user
    )
    assert_problem(wrong, 403, "wrong_password")
    assert (await client.get("/api/v1/me", headers=user)).status_code == 200, "a wrong old password changes nothing"

    changed = await client.post(
        "/api/v1/me/password", json={"old_password": "mật-khẩu-an-toàn-1", "new_password": "chè-mới-2025"}, headers=user
    )
    assert changed.status_code == 200, changed.text
    assert_problem(await client.get("/api/v1/me", headers=user), 401)
    assert_problem(await client.get("/api/v1/me", headers=other_device), 401)
    renewed = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=renewed)).status_code == 200
    old = await client.post("/api/v1/auth/login", json={"phone": user["X-Phone"], "password": "mật-khẩu-an-toàn-1"})
    assert old.status_code == 401
    new = await client.post("/api/v1/auth/login", json={"phone": user["X-Phone"], "password": "chè-mới-2025"})
    assert new.status_code == 200


async def test_guessing_my_old_password_is_throttled(
    client: Client, make_user: UserFactory, settings: Settings
) -> None:
    user = await make_user("farmer")
    body = {"old_password": "guess-guess", "new_password": "chè-mới-2025"}
    for _ in range(settings.login_max_attempts):
        assert_problem(await client.post("/api/v1/me/password", json=body, headers=user), 403, "wrong_password")
    right = {**body, "old_password": "mật-khẩu-an-toàn-1"}
    assert_problem(await client.post("/api/v1/me/password", json=right, headers=user), 429, "password_throttled")


async def test_an_admin_password_reset_ends_the_users_tokens(client: Client, make_user: UserFactory) -> None:
    admin, user = await make_user("admin"), await make_user("cooperative")
    reset = await client.post(
        f"/api/v1/admin/users/{user['X-User-Id']}/password", json={"new_password": "tạm-thời-123"}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    assert_problem(await client.get("/api/v1/me", headers=user), 401)
    login = await client.post("/api/v1/auth/login", json={"phone": user["X-Phone"], "password": "tạm-thời-123"})
    assert login.status_code == 200


async def test_tokens_without_a_version_are_refused(client: Client, app: Litestar, make_user: UserFactory) -> None:
    user = await make_user("admin")
    legacy = app.state.jwt_auth.create_token(identifier=user["X-User-Id"], token_extras={"role": "admin"})
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {legacy}"}), 401)
    forged_role = app.state.jwt_auth.create_token(
        identifier=user["X-User-Id"], token_extras={"role": "superuser", "ver": 1}
    )
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged_role}"}), 401)


async def test_the_steady_path_reads_the_cache_and_the_trigger_drops_it(
    app: Litestar, client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    await feed_connected(app)
    user = await make_user("farmer")
    assert (await client.get("/api/v1/me", headers=user)).status_code == 200
    # a write the triggers do not see (replica mode) is not noticed: the check did not go to the database
    await db.execute("set session_replication_role = replica")
    await db.execute("update users set token_version = token_version + 1 where id = $1", user["X-User-Id"])
    await db.execute("set session_replication_role = origin")
    assert (await client.get("/api/v1/me", headers=user)).status_code == 200
    # the same write announced by the trigger reaches the cache, and the token ends
    await db.execute("update users set token_version = token_version + 1 where id = $1", user["X-User-Id"])
    for _ in range(100):
        if (await client.get("/api/v1/me", headers=user)).status_code == 401:
            return
        await asyncio.sleep(0.02)
    pytest.fail("the users notification did not end the token")


@pytest.fixture
async def other_worker(settings: Settings) -> AsyncIterator[tuple[Litestar, Client]]:
    """A second app on the same database: another worker with caches of its own."""
    app = create_app(settings)
    async with AsyncTestClient(app=app, base_url=BASE) as client:
        yield app, client


async def test_another_worker_refuses_the_token_once_notified(
    app: Litestar, client: Client, make_user: UserFactory, other_worker: tuple[Litestar, Client]
) -> None:
    other_app, other = other_worker
    await feed_connected(app)
    await feed_connected(other_app)
    admin, user = await make_user("admin"), await make_user("farmer")
    assert (await other.get("/api/v1/me", headers=user)).status_code == 200
    changed = await client.patch(f"/api/v1/admin/users/{user['X-User-Id']}", json={"is_active": False}, headers=admin)
    assert changed.status_code == 200
    for _ in range(100):
        if (await other.get("/api/v1/me", headers=user)).status_code == 401:
            return
        await asyncio.sleep(0.02)
    pytest.fail("the other worker kept accepting a deactivated user's token")
