"""Bearer tokens are verified once per worker and remembered: what a caller notices is only that a token still
stops working the moment it expires, and that an altered token is refused even when the genuine one was seen."""

import asyncio
import uuid
from datetime import timedelta

from service.auth.guards import build_jwt_auth
from service.settings import Settings
from tests.support.app import UserFactory
from tests.support.factories import Client, assert_problem


def _token(settings: Settings, user_id: str, seconds: int) -> str:
    return build_jwt_auth(settings).create_token(
        identifier=user_id, token_expiration=timedelta(seconds=seconds), token_extras={"role": "farmer", "ver": 1}
    )


async def test_a_remembered_token_stops_working_when_it_expires(
    client: Client, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user("farmer")
    token = _token(settings, user["X-User-Id"], 2)
    for _ in range(3):  # seen, then remembered
        assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    await asyncio.sleep(3.1)  # `exp` has whole seconds
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_an_altered_token_is_refused_although_the_genuine_one_was_remembered(
    client: Client, settings: Settings, make_user: UserFactory
) -> None:
    user = await make_user("farmer")
    genuine = _token(settings, user["X-User-Id"], 600)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {genuine}"})).status_code == 200
    header, payload, signature = genuine.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for altered in (f"{header}.{payload}.{flipped}", f"{header}.{payload}.", f"{header}.{payload}"):
        assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {altered}"}), 401)
    stranger = _token(settings, str(uuid.uuid4()), 600)  # well signed, but nobody's: the version check refuses
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {stranger}"}), 401)
