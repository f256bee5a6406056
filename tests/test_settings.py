import pytest

from service.settings import DEFAULT_JWT_SECRET, ConfigError, Settings

PRODUCTION = {"ENV": "production", "DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "s" * 48}
SIGNING_KEY = "bG9nLXNpZ25pbmcta2V5LW9mLTMyLWJ5dGVzLWV4YWN0"  # base64 of 33 bytes: one too many


def test_defaults_run_on_one_machine() -> None:
    settings = Settings.from_env({})
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
        ({"ENV": "production", "DATABASE_URL": "postgresql://db/x", "JWT_SECRET": DEFAULT_JWT_SECRET}, "JWT_SECRET"),
        ({"ENV": "production", "DATABASE_URL": "postgresql://db/x", "JWT_SECRET": "short"}, "JWT_SECRET"),
        ({"MEDIA_STORE": "s3"}, "S3_BUCKET"),
        ({"WORKERS": "many"}, "workers"),
        ({"ENV": "staging"}, "env"),
        (PRODUCTION, "LOG_SIGNING_KEY"),
        ({**PRODUCTION, "LOG_SIGNING_KEY": SIGNING_KEY}, "LOG_SIGNING_KEY"),
        ({"LOG_SIGNING_KEY": "not base64!"}, "LOG_SIGNING_KEY"),
    ],
)
def test_bad_configuration_refuses_to_start_with_one_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_production_with_everything_set_starts() -> None:
    key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="  # base64 of 32 bytes
    settings = Settings.from_env({**PRODUCTION, "LOG_SIGNING_KEY": key})
    assert settings.env == "production"
