import base64
import os
import stat
from pathlib import Path

import pytest

from service.settings import PUBLISHED_SECRETS, ConfigError, Settings

ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - the case under test: a server others can reach
OLD_DEFAULT_SECRET = "dev-only-secret-change-me-please-0123456789"  # was in service/settings.py until issue 11

PRODUCTION = {"ENV": "production", "DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "s" * 48}
SIGNING_KEY = "bG9nLXNpZ25pbmcta2V5LW9mLTMyLWJ5dGVzLWV4YWN0"  # base64 of 33 bytes: one too many


@pytest.fixture
def secrets_file(tmp_path: Path) -> str:
    return str(tmp_path / "var" / "secrets.json")


def test_defaults_run_on_one_machine(secrets_file: str) -> None:
    settings = Settings.from_env({"SECRETS_FILE": secrets_file})
    assert settings.database_url is None
    assert settings.media_store == "local"
    assert settings.pg_data_dir == "./var/pg"


def test_values_come_from_the_given_environment() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://u:p@db/x", "WORKERS": "4", "MEDIA_STORE": "s3", "S3_BUCKET": "media"}
    )
    assert settings.workers == 4
    assert settings.database_url == "postgresql://u:p@db/x"
    assert settings.media_store == "s3"


def test_fly_tigris_names_are_understood() -> None:
    settings = Settings.from_env(
        {"MEDIA_STORE": "s3", "BUCKET_NAME": "b", "AWS_ENDPOINT_URL_S3": "https://fly.storage.tigris.dev"}
    )
    assert settings.s3_bucket == "b"
    assert settings.s3_endpoint_url == "https://fly.storage.tigris.dev"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ENV": "production", "JWT_SECRET": "x" * 40}, "DATABASE_URL"),
        ({"ENV": "production", "DATABASE_URL": "postgresql://db/x"}, "JWT_SECRET"),
        ({"ENV": "production", "DATABASE_URL": "postgresql://db/x", "JWT_SECRET": OLD_DEFAULT_SECRET}, "JWT_SECRET"),
        ({"ENV": "production", "DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "short"}, "JWT_SECRET"),
        ({"MEDIA_STORE": "s3", "JWT_SECRET": "s" * 40}, "S3_BUCKET"),
        ({"WORKERS": "many"}, "workers"),
        ({"ENV": "staging"}, "env"),
        ({"HOST": ANY_ADDRESS, "JWT_SECRET": OLD_DEFAULT_SECRET}, "JWT_SECRET"),
        ({"HOST": ANY_ADDRESS, "ENV": "test", "JWT_SECRET": "short-secret"}, "JWT_SECRET"),
        ({"HOST": "192.0.2.10", "JWT_SECRET": "test-secret-0123456789-0123456789-abcdef"}, "JWT_SECRET"),
        ({"HOST": "::", "JWT_SECRET": "x" * 31}, "JWT_SECRET"),
        ({"TRUSTED_PROXY_HEADER": "Fly-Client-IP: 1.2.3.4", "JWT_SECRET": "s" * 40}, "TRUSTED_PROXY_HEADER"),
        ({"METRICS_TOKEN": "short", "JWT_SECRET": "s" * 40}, "METRICS_TOKEN"),
        (PRODUCTION, "LOG_SIGNING_KEY"),
        ({**PRODUCTION, "LOG_SIGNING_KEY": SIGNING_KEY}, "LOG_SIGNING_KEY"),
        ({"LOG_SIGNING_KEY": "not base64!"}, "LOG_SIGNING_KEY"),
    ],
)
def test_bad_configuration_refuses_to_start_with_one_line(env: dict[str, str], message: str, secrets_file: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"SECRETS_FILE": secrets_file, **env})
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_production_with_everything_set_starts() -> None:
    key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="  # base64 of 32 bytes
    settings = Settings.from_env({**PRODUCTION, "LOG_SIGNING_KEY": key})
    assert settings.env == "production"


def test_the_old_default_secret_is_known_to_be_published() -> None:
    assert OLD_DEFAULT_SECRET in PUBLISHED_SECRETS


def test_development_makes_its_secret_once_and_keeps_it_private(secrets_file: str) -> None:
    first = Settings.from_env({"SECRETS_FILE": secrets_file})
    assert first.jwt_secret not in PUBLISHED_SECRETS
    assert len(first.jwt_secret) >= 32
    assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
    again = Settings.from_env({"SECRETS_FILE": secrets_file})
    assert again.jwt_secret == first.jwt_secret, "tokens must survive a restart"
    assert [p.name for p in Path(secrets_file).parent.iterdir()] == ["secrets.json"], "no temporary file left"
    elsewhere = Settings.from_env({"SECRETS_FILE": secrets_file + ".other"})
    assert elsewhere.jwt_secret != first.jwt_secret, "each machine has its own"


def test_a_secrets_file_others_can_read_is_refused(secrets_file: str) -> None:
    Settings.from_env({"SECRETS_FILE": secrets_file})
    os.chmod(secrets_file, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        Settings.from_env({"SECRETS_FILE": secrets_file})


def test_production_never_makes_a_secret(secrets_file: str) -> None:
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        Settings.from_env({"ENV": "production", "DATABASE_URL": "postgresql://db/x", "SECRETS_FILE": secrets_file})
    assert not Path(secrets_file).exists()


def test_loopback_development_may_use_its_own_short_secret() -> None:
    settings = Settings.from_env({"JWT_SECRET": "short", "HOST": "127.0.0.1"})
    assert settings.loopback_only
    assert not Settings.from_env({"JWT_SECRET": "s" * 40, "HOST": ANY_ADDRESS}).loopback_only


def test_public_server_with_a_random_secret_starts(secrets_file: str) -> None:
    made = Settings.from_env({"HOST": ANY_ADDRESS, "SECRETS_FILE": secrets_file})
    assert not made.loopback_only, "a secret this machine made is nobody else's: allowed on 0.0.0.0"


def test_schema_is_off_in_production_unless_enabled() -> None:
    key = base64.b64encode(b"k" * 32).decode()
    base = {"ENV": "production", "DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "s" * 48, "LOG_SIGNING_KEY": key}
    assert not Settings.from_env(base).serves_schema
    assert Settings.from_env({**base, "SCHEMA_ENABLED": "true"}).serves_schema
    assert Settings.from_env({"JWT_SECRET": "s" * 40}).serves_schema
    assert not Settings.from_env({"JWT_SECRET": "s" * 40, "SCHEMA_ENABLED": "false"}).serves_schema
