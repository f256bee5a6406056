"""Service configuration: one frozen Struct, read from the environment only when asked."""

import base64
import binascii
import os
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

DEFAULT_JWT_SECRET = "dev-only-secret-change-me-please-0123456789"

Env = Literal["development", "test", "production"]
MediaStoreKind = Literal["local", "s3"]


class ConfigError(Exception):
    """Raised when the configuration cannot run; the message is one line for the operator."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    env: Env = "development"
    database_url: str | None = None
    pg_data_dir: str = "./var/pg"
    db_pool_min: Annotated[int, Meta(ge=0)] = 1
    db_pool_max: Annotated[int, Meta(ge=1)] = 10
    media_store: MediaStoreKind = "local"
    media_dir: str = "./var/media"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str = "auto"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_ttl_seconds: Annotated[int, Meta(gt=0)] = 7 * 24 * 3600
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    workers: Annotated[int, Meta(ge=1, le=64)] = 1
    log_level: str = "INFO"
    login_max_attempts: Annotated[int, Meta(ge=1)] = 5
    login_window_seconds: Annotated[int, Meta(ge=1)] = 300
    upload_url_ttl_seconds: Annotated[int, Meta(ge=60)] = 900
    # The transparency log's Ed25519 key: base64 of the 32-byte private key. Development keeps a generated
    # one in log_signing_key_file; tests get a fresh one per app; production refuses to start without it.
    log_signing_key: str | None = None
    log_signing_key_file: str = "./var/log-signing.key"
    log_checkpoint_max_age_seconds: Annotated[int, Meta(ge=0, le=3600)] = 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from environment variables named like the fields, upper-cased."""
        source = os.environ if environ is None else environ
        fields = {name: source[name.upper()] for name in cls.__struct_fields__ if name.upper() in source}
        # Fly's Tigris and most S3 tools use the AWS_* names: accept them too.
        for ours, theirs in (
            ("s3_access_key_id", "AWS_ACCESS_KEY_ID"),
            ("s3_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
            ("s3_region", "AWS_REGION"),
            ("s3_endpoint_url", "AWS_ENDPOINT_URL_S3"),
            ("s3_bucket", "BUCKET_NAME"),
        ):
            if ours not in fields and theirs in source:
                fields[ours] = source[theirs]
        fields = {k: v for k, v in fields.items() if v != ""}
        try:
            settings = msgspec.convert(fields, cls, strict=False)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"invalid configuration: {exc}") from exc
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse configurations that would run badly; one line says what to set."""
        if self.env == "production":
            if not self.database_url:
                raise ConfigError("ENV=production needs DATABASE_URL (the embedded database is for one machine only)")
            if self.jwt_secret == DEFAULT_JWT_SECRET or len(self.jwt_secret) < 32:
                raise ConfigError("ENV=production needs JWT_SECRET: a random secret of at least 32 characters")
            if not self.log_signing_key:
                raise ConfigError(
                    "ENV=production needs LOG_SIGNING_KEY: base64 of a 32-byte Ed25519 private key "
                    "(python -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())')"
                )
        if self.log_signing_key is not None and len(signing_key_bytes(self.log_signing_key)) != 32:
            raise ConfigError("LOG_SIGNING_KEY must be base64 of exactly 32 bytes (an Ed25519 private key)")
        if self.media_store == "s3" and not self.s3_bucket:
            raise ConfigError("MEDIA_STORE=s3 needs S3_BUCKET")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise ConfigError("PUBLIC_BASE_URL must start with http:// or https://")

    @property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/")


def signing_key_bytes(text: str) -> bytes:
    """The raw key in LOG_SIGNING_KEY, or b"" when it is not base64."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""
