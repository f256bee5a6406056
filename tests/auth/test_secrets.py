"""No secret known to anyone but its owner: the app `make run` builds refuses tokens signed with published ones."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from litestar.security.jwt import Token
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth.service import create_user
from service.settings import ConfigError, Settings

OLD_DEFAULT_SECRET = "dev-only-secret-change-me-please-0123456789"


def signed(secret: str, user_id: uuid.UUID, role: str = "admin", version: int = 1) -> dict[str, str]:
    token = Token(
        sub=str(user_id), exp=datetime.now(UTC) + timedelta(hours=1), extras={"role": role, "ver": version}
    ).encode(secret, "HS256")
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_signed_with_the_old_default_secret_is_refused(
    database_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    # what `make run` does: settings from an environment without JWT_SECRET (ENV defaults to development)
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "SECRETS_FILE": str(tmp_path / "var" / "secrets.json"),
            "MEDIA_DIR": str(tmp_path),
        }
    )
    assert settings.env == "development"
    assert settings.jwt_secret != OLD_DEFAULT_SECRET
    admin = await create_user(db, phone="0912000111", password="quản-trị-viên-1", full_name="Admin", role="admin")
    async with AsyncTestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as client:
        forged = await client.get("/api/v1/scans/alerts", headers=signed(OLD_DEFAULT_SECRET, admin.id))
        assert forged.status_code == 401
        # the same claims signed with this machine's own secret are accepted: the refusal is the secret's
        genuine = await client.get("/api/v1/scans/alerts", headers=signed(settings.jwt_secret, admin.id))
        assert genuine.status_code == 200


def test_settings_have_no_secret_of_their_own() -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        Settings().check()
