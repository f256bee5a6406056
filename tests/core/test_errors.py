"""The error handlers: which failures are the database being away, and which are bugs."""

import asyncpg
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from service.core.errors import EXCEPTION_HANDLERS


def _app_raising(exc: Exception) -> Litestar:
    @get("/boom")
    async def boom() -> None:
        raise exc

    return Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)


async def _answer(exc: Exception) -> tuple[int, dict[str, object]]:
    async with AsyncTestClient(app=_app_raising(exc)) as client:
        response = await client.get("/boom")
        assert response.headers["content-type"].startswith("application/problem+json")
        return response.status_code, dict(response.json())


async def test_a_full_disk_is_not_reported_as_the_database_being_away() -> None:
    status, body = await _answer(OSError(28, "No space left on device"))
    assert status == 500
    assert body["code"] == "internal_error"


async def test_a_missing_file_is_a_500_not_a_503() -> None:
    status, body = await _answer(FileNotFoundError(2, "No such file", "/srv/fonts/DejaVuSans.ttf"))
    assert status == 500
    assert body["code"] == "internal_error"


async def test_a_lost_database_connection_is_503_with_retry_after() -> None:
    async with AsyncTestClient(app=_app_raising(asyncpg.exceptions.ConnectionDoesNotExistError("gone"))) as client:
        response = await client.get("/boom")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["retry-after"] == "5"


async def test_a_refused_connection_inside_asyncpg_is_503() -> None:
    """A real refusal: connecting to a port nobody listens on raises OSError from inside asyncpg."""
    try:
        await asyncpg.connect("postgresql://nobody@127.0.0.1:1/none", timeout=2)
    except OSError as exc:
        refused = exc
    else:  # pragma: no cover - something listens on port 1
        raise AssertionError("port 1 answered")
    status, body = await _answer(refused)
    assert status == 503
    assert body["code"] == "database_unavailable"


async def test_a_nul_character_in_text_is_400_not_500(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/api/v1/search", params={"q": "chè\x00"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_character"
