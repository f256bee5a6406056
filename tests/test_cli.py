"""`python -m service create-user`: the password comes from a prompt or standard input, never from argv."""

import asyncio
import io
import logging
from collections.abc import Iterator

import asyncpg
import pytest

from service.__main__ import main
from service.settings import Settings
from tests.conftest import TEST_JWT_SECRET


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """main() points the service's loggers at this test's stderr; put them back afterwards."""
    saved = {
        name: (list(lg.handlers), lg.level, lg.propagate) for name in ("service",) for lg in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def environ(settings: Settings) -> dict[str, str]:
    return {
        "ENV": "test",
        "DATABASE_URL": str(settings.database_url),
        "JWT_SECRET": TEST_JWT_SECRET,
        "LOG_LEVEL": "WARNING",
    }


ARGS = ["create-user", "--role", "admin", "--phone", "0912 345 600", "--name", "Quản trị"]


async def stored_hash(database_url: str) -> str | None:
    conn = await asyncpg.connect(database_url)
    try:
        value: str | None = await conn.fetchval("select password_hash from users where phone = '+84912345600'")
        return value
    finally:
        await conn.close()


def test_the_password_is_not_an_argument(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*ARGS, "--password", "secret-in-ps"], environ(settings))
    assert exit_.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


async def test_password_from_standard_input(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("mật-khẩu-quản-trị\n"))
    assert await asyncio.to_thread(main, [*ARGS, "--password-stdin"], environ(settings)) == 0
    assert "created admin +84912345600" in capsys.readouterr().out
    stored = await stored_hash(str(settings.database_url))
    assert stored is not None and stored.startswith("$argon2id$")


async def test_password_from_the_prompt_typed_twice(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["mật-khẩu-quản-trị", "something else"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert await asyncio.to_thread(main, ARGS, environ(settings)) == 2, "two different passwords are refused"
    assert await stored_hash(str(settings.database_url)) is None
    answers = iter(["mật-khẩu-quản-trị", "mật-khẩu-quản-trị"])
    assert await asyncio.to_thread(main, ARGS, environ(settings)) == 0
    assert await stored_hash(str(settings.database_url)) is not None
