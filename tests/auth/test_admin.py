"""User administration through the real routes: only administrators, search, pages, no self-lock-out."""

import uuid

import asyncpg

from service.auth.service import create_user
from tests.support.app import UserFactory
from tests.support.factories import Client, assert_problem


async def test_only_administrators_see_accounts(client: Client, make_user: UserFactory) -> None:
    for role in ("farmer", "cooperative", "inspector", "editor"):
        assert_problem(await client.get("/api/v1/admin/users", headers=await make_user(role)), 403)
    assert_problem(await client.get("/api/v1/admin/users"), 401)


async def test_search_by_name_or_phone_as_people_type_it(
    client: Client, db: asyncpg.Connection, make_user: UserFactory
) -> None:
    admin = await make_user("admin")
    await create_user(db, phone="0912 345 678", password="mật-khẩu-1", full_name="Nguyễn Thị Hoa", role="farmer")
    await create_user(db, phone="0987 654 321", password="mật-khẩu-1", full_name="Trần Văn Ba", role="cooperative")
    await create_user(db, phone="0977 000 111", password="mật-khẩu-1", full_name="50%_off", role="farmer")

    def names(response: object) -> list[str]:
        return sorted(item["full_name"] for item in response.json()["items"])  # type: ignore[attr-defined]

    by_name = await client.get("/api/v1/admin/users", params={"q": "thị hoa"}, headers=admin)
    assert by_name.status_code == 200, by_name.text
    assert names(by_name) == ["Nguyễn Thị Hoa"]
    assert names(await client.get("/api/v1/admin/users", params={"q": "0912 345"}, headers=admin)) == ["Nguyễn Thị Hoa"]
    assert names(await client.get("/api/v1/admin/users", params={"q": "+84 987"}, headers=admin)) == ["Trần Văn Ba"]
    assert names(await client.get("/api/v1/admin/users", params={"q": "%_"}, headers=admin)) == ["50%_off"]
    coops = await client.get("/api/v1/admin/users", params={"role": "cooperative"}, headers=admin)
    assert names(coops) == ["Trần Văn Ba"]
    none = await client.get("/api/v1/admin/users", params={"q": "không ai cả"}, headers=admin)
    assert none.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_accounts_come_in_pages(client: Client, db: asyncpg.Connection, make_user: UserFactory) -> None:
    admin = await make_user("admin")
    for i in range(5):
        await create_user(db, phone=f"0913 000 {i:03d}", password="mật-khẩu-1", full_name=f"Hộ {i}", role="farmer")
    first = (await client.get("/api/v1/admin/users", params={"limit": 4}, headers=admin)).json()
    second = (await client.get("/api/v1/admin/users", params={"limit": 4, "offset": 4}, headers=admin)).json()
    assert first["total"] == second["total"] == 6
    assert len(first["items"]) == 4 and len(second["items"]) == 2
    assert not {u["id"] for u in first["items"]} & {u["id"] for u in second["items"]}
    assert "password_hash" not in first["items"][0]
    past_the_end = await client.get("/api/v1/admin/users", params={"offset": 100}, headers=admin)
    assert past_the_end.json()["items"] == [] and past_the_end.json()["total"] == 6
    assert_problem(await client.get("/api/v1/admin/users", params={"limit": 0}, headers=admin), 400)


async def test_changes_that_cannot_be_made(client: Client, make_user: UserFactory) -> None:
    admin = await make_user("admin")
    me = f"/api/v1/admin/users/{admin['X-User-Id']}"
    assert_problem(await client.patch(me, json={"is_active": False}, headers=admin), 409, "own_account")
    assert_problem(await client.patch(me, json={"role": "editor"}, headers=admin), 409, "own_account")
    assert (await client.get("/api/v1/me", headers=admin)).status_code == 200, "a refused change ends nothing"
    nobody = f"/api/v1/admin/users/{uuid.uuid4()}"
    assert_problem(await client.patch(nobody, json={"role": "editor"}, headers=admin), 404, "user_not_found")
    assert_problem(await client.get(nobody, headers=admin), 404, "user_not_found")
    assert_problem(await client.post(f"{nobody}/password", json={"new_password": "long-enough"}, headers=admin), 404)
    user = f"/api/v1/admin/users/{(await make_user('farmer'))['X-User-Id']}"
    assert_problem(await client.patch(user, json={"role": "superuser"}, headers=admin), 400)
    assert_problem(await client.patch(user, json={"password_hash": "x"}, headers=admin), 400)
    assert_problem(await client.post(f"{user}/password", json={"new_password": "short"}, headers=admin), 400)
    unchanged = await client.patch(user, json={}, headers=admin)
    assert unchanged.status_code == 200 and unchanged.json()["role"] == "farmer"


async def test_options_on_the_guarded_controller_is_answered(client: Client, make_user: UserFactory) -> None:
    for headers in ({}, await make_user("admin")):
        response = await client.options("/api/v1/admin/users", headers=headers)
        assert response.status_code == 204
        assert "GET" in response.headers["allow"]
