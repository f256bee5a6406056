"""Throttles that hold: counted before the work they guard, per phone and per address, proxies believed only
when configured, and password hashing a few at a time."""

from collections.abc import AsyncIterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth.passwords import PasswordHashing
from service.settings import Settings
from tests.support.app import concurrently
from tests.support.factories import BASE, Client, assert_problem


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[tuple[Litestar, Client]]:
    """The app with small limits: one sign-in failure per phone (ten per address), one hash at a time."""
    tight = msgspec.structs.replace(
        settings,
        login_max_attempts=1,
        register_max_per_address=3,
        register_max_per_phone=2,
        password_hash_concurrency=1,
    )
    app = create_app(tight)
    async with AsyncTestClient(app=app, base_url=BASE) as client:
        yield app, client


@pytest.fixture
async def behind_fly(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(msgspec.structs.replace(settings, login_max_attempts=1, trusted_proxy_header="Fly-Client-IP"))
    async with AsyncTestClient(app=app, base_url=BASE) as client:
        yield client


async def test_parallel_wrong_sign_ins_cannot_all_pass_the_check(
    app: Litestar, client: Client, settings: Settings
) -> None:
    registered = await client.post(
        "/api/v1/auth/register", json={"phone": "0911222333", "password": "right-password", "full_name": "Chị Lan"}
    )
    assert registered.status_code == 201
    hashing: PasswordHashing = app.state.password_hashing
    before = hashing.runs
    answers = await concurrently(
        client,
        [
            ("POST", "/api/v1/auth/login", {"json": {"phone": "0911222333", "password": f"guess-{i:03d}"}})
            for i in range(20)
        ],
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(401) == settings.login_max_attempts, statuses
    assert statuses.count(429) == 20 - settings.login_max_attempts
    assert hashing.runs - before == settings.login_max_attempts, "only the allowed attempts reach argon2"


async def test_a_success_does_not_count_against_the_address(client: Client, settings: Settings) -> None:
    await client.post(
        "/api/v1/auth/register", json={"phone": "0911222444", "password": "right-password", "full_name": "A"}
    )
    for _ in range(settings.login_max_attempts * 10 + 1):
        ok = await client.post("/api/v1/auth/login", json={"phone": "0911222444", "password": "right-password"})
        assert ok.status_code == 200


async def test_proxy_headers_are_ignored_unless_configured(strict: tuple[Litestar, Client]) -> None:
    _, client = strict
    # limit 1 per phone, 10 per address: a client cannot escape the address limit by inventing addresses
    for i in range(10):
        spoofed = {"Fly-Client-IP": f"198.51.100.{i}", "X-Forwarded-For": f"203.0.113.{i}"}
        wrong = await client.post(
            "/api/v1/auth/login", json={"phone": f"09441{i:05d}", "password": "x"}, headers=spoofed
        )
        assert wrong.status_code == 401
    blocked = await client.post(
        "/api/v1/auth/login", json={"phone": "0944199999", "password": "x"}, headers={"Fly-Client-IP": "192.0.2.77"}
    )
    assert_problem(blocked, 429, "login_throttled")


async def test_the_configured_proxy_header_names_the_client(behind_fly: Client) -> None:
    client = behind_fly
    for i in range(10):
        wrong = await client.post(
            "/api/v1/auth/login",
            json={"phone": f"09451{i:05d}", "password": "x"},
            headers={"Fly-Client-IP": "198.51.100.1"},
        )
        assert wrong.status_code == 401
    same = await client.post(
        "/api/v1/auth/login", json={"phone": "0945199999", "password": "x"}, headers={"Fly-Client-IP": "198.51.100.1"}
    )
    assert_problem(same, 429, "login_throttled")
    other = await client.post(
        "/api/v1/auth/login", json={"phone": "0945188888", "password": "x"}, headers={"Fly-Client-IP": "198.51.100.2"}
    )
    assert other.status_code == 401, "another client behind the same proxy is not blocked"


async def test_registration_is_throttled_per_address(strict: tuple[Litestar, Client]) -> None:
    _, client = strict
    for i in range(3):
        made = await client.post(
            "/api/v1/auth/register", json={"phone": f"09551{i:05d}", "password": "password-1", "full_name": "Hộ"}
        )
        assert made.status_code == 201
    blocked = await client.post(
        "/api/v1/auth/register", json={"phone": "0955199999", "password": "password-1", "full_name": "Hộ"}
    )
    assert_problem(blocked, 429, "registration_throttled")
    assert int(blocked.headers["retry-after"]) > 0


async def test_a_taken_phone_is_refused_before_hashing_and_then_throttled(strict: tuple[Litestar, Client]) -> None:
    app, client = strict
    body = {"phone": "0966111222", "password": "password-1", "full_name": "Hộ"}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
    hashing: PasswordHashing = app.state.password_hashing
    before = hashing.runs
    assert_problem(await client.post("/api/v1/auth/register", json=body), 409, "phone_taken")
    assert hashing.runs == before, "no argon2 work for a phone that is taken"
    assert_problem(await client.post("/api/v1/auth/register", json=body), 429, "registration_throttled")


async def test_a_burst_of_registrations_hashes_a_few_at_a_time(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, password_hash_concurrency=2))
    async with AsyncTestClient(app=app, base_url=BASE) as client:
        body = {"password": "password-1", "full_name": "Hộ"}
        answers = await concurrently(
            client, [("POST", "/api/v1/auth/register", {"json": {**body, "phone": f"09771{i:05d}"}}) for i in range(8)]
        )
        assert [a.status_code for a in answers] == [201] * 8
        hashing: PasswordHashing = app.state.password_hashing
        assert hashing.runs == 8
        assert hashing.peak == 2, "the burst overlaps, but never more than the limit at once"
