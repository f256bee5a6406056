"""Service configuration: one frozen Struct, read from the environment only when asked."""

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service import local_secrets

# Secrets that have been published (in this repository's history or its tests): known to anyone, so they
# never sign tokens on a server others can reach.
PUBLISHED_SECRETS = frozenset(
    {
        "dev-only-secret-change-me-please-0123456789",
        "test-secret-0123456789-0123456789-abcdef",
    }
)
MIN_SECRET_LENGTH = 32
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")

Env = Literal["development", "test", "production"]
MediaStoreKind = Literal["local", "s3"]


class ConfigError(Exception):
    """Raised when the configuration cannot run; the message is one line for the operator."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    env: Env = "development"
    database_url: str | None = None
    # A hot-standby replica of DATABASE_URL for public reads that tolerate a little lag (core/db.py ReadPool);
    # none: every read goes to the primary. While it is unreachable reads fall back to the primary, and it is
    # tried again every replica_retry_seconds.
    database_replica_url: str | None = None
    replica_retry_seconds: Annotated[float, Meta(gt=0, le=3600)] = 5.0
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
    jwt_secret: str = ""  # empty: development reads (or makes) it in secrets_file, see from_env
    secrets_file: str = "./var/secrets.json"
    jwt_ttl_seconds: Annotated[int, Meta(gt=0)] = 7 * 24 * 3600
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 8000
    workers: Annotated[int, Meta(ge=1, le=64)] = 1
    log_level: str = "INFO"
    login_max_attempts: Annotated[int, Meta(ge=1)] = 5
    login_window_seconds: Annotated[int, Meta(ge=1)] = 300
    register_max_per_address: Annotated[int, Meta(ge=1)] = 20
    register_max_per_phone: Annotated[int, Meta(ge=1)] = 3
    register_window_seconds: Annotated[int, Meta(ge=1)] = 3600
    password_hash_concurrency: Annotated[int, Meta(ge=1, le=64)] = 2
    # The header a proxy in front of us sets to the client's address (Fly: Fly-Client-IP); none by default,
    # because anyone can send any header to a server that is reached directly.
    trusted_proxy_header: str | None = None
    metrics_token: str | None = None
    # Metrics of all workers on a port of their own, without the token (Fly's scraper cannot send one): not
    # behind [http_service], so only the private network reaches it. None: off (the main port's /metrics only).
    metrics_port: Annotated[int, Meta(ge=1, le=65535)] | None = None
    metrics_host: str = "0.0.0.0"  # noqa: S104 - only with METRICS_PORT, which is kept off the public side
    schema_enabled: bool | None = None  # None: served except in production
    upload_url_ttl_seconds: Annotated[int, Meta(ge=60)] = 900
    # scheduled jobs (service/jobs): inside `serve` on one machine; JOBS_IN_SERVER=false where a worker runs them
    jobs_in_server: bool = True
    jobs_tick_seconds: Annotated[float, Meta(gt=0)] = 5.0
    # scans are partitioned by local month: this many months are made ahead of time by a scheduled job
    scan_partitions_ahead: Annotated[int, Meta(ge=1, le=24)] = 3
    # months of raw scans kept in the database (this one included); older months are archived to the media
    # store as gzip CSV and dropped. None keeps every month. The per-day counts (scan_daily) are never dropped.
    scan_retention_months: Annotated[int, Meta(ge=2)] | None = None
    # `python -m service backup`, also run by the job runner every backup_interval_hours (0: never scheduled);
    # the newest backup_keep backups stay in the media store
    backup_interval_hours: Annotated[float, Meta(ge=0)] = 24.0
    backup_keep: Annotated[int, Meta(ge=1)] = 7
    # a phone may retry a queued request for this long and still get the stored answer
    idempotency_ttl_days: Annotated[int, Meta(ge=1)] = 30
    # The transparency log's Ed25519 key: base64 of the 32-byte private key. Development keeps a generated
    # one in log_signing_key_file; tests get a fresh one per app; production refuses to start without it.
    log_signing_key: str | None = None
    log_signing_key_file: str = "./var/log-signing.key"
    log_checkpoint_max_age_seconds: Annotated[int, Meta(ge=0, le=3600)] = 10
    # While PostgreSQL is away, shoppers get what this worker last knew, for at most this long (0: never)
    stale_if_error_seconds: Annotated[int, Meta(ge=0, le=86400)] = 600
    # Scans that cannot be written wait here (one append-only file per worker process), replayed when it is back
    scan_spool_dir: str = "./var/scan-spool"
    scan_spool_max_bytes: Annotated[int, Meta(ge=0)] = 256 * 1024 * 1024
    # Uploads per local day (Asia/Ho_Chi_Minh), per user and per organization of the user
    # Ready media that nothing references this long after completion are deleted (a scheduled job); the grace
    # keeps an upload that is about to be attached
    media_unreferenced_grace_hours: Annotated[float, Meta(ge=1)] = 168.0
    upload_daily_count_per_user: Annotated[int, Meta(ge=0)] = 200
    upload_daily_bytes_per_user: Annotated[int, Meta(ge=0)] = 1024 * 1024 * 1024
    upload_daily_count_per_organization: Annotated[int, Meta(ge=0)] = 1000
    upload_daily_bytes_per_organization: Annotated[int, Meta(ge=0)] = 5 * 1024 * 1024 * 1024
    # EPCIS webhooks (traceability/epcis/webhooks), dispatched inside `serve` when jobs_in_server. A webhook
    # never reaches a loopback, private or link-local address unless this comma-separated list names its host
    # or address (tests: 127.0.0.1)
    webhook_allow_hosts: str = ""
    webhook_timeout_seconds: Annotated[float, Meta(gt=0, le=60)] = 5.0
    webhook_max_attempts: Annotated[int, Meta(ge=1, le=20)] = 6
    webhook_backoff_seconds: Annotated[float, Meta(gt=0, le=3600)] = 5.0
    webhook_poll_seconds: Annotated[float, Meta(gt=0, le=300)] = 1.0

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
        if not settings.jwt_secret and settings.env != "production":
            try:
                stored = local_secrets.load_or_create(settings.secrets_file)
            except (OSError, local_secrets.SecretsFileError) as exc:
                raise ConfigError(f"cannot use the secrets file: {exc}") from exc
            settings = msgspec.structs.replace(settings, jwt_secret=stored["jwt_secret"])
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse configurations that would run badly; one line says what to set."""
        if not self.jwt_secret:
            raise ConfigError("JWT_SECRET is not set: give a random secret of at least 32 characters")
        if self.env == "production":
            if not self.database_url:
                raise ConfigError("ENV=production needs DATABASE_URL (the embedded database is for one machine only)")
            if not self.strong_secret:
                raise ConfigError("ENV=production needs JWT_SECRET: a random secret of at least 32 characters")
            if not self.log_signing_key:
                raise ConfigError(
                    "ENV=production needs LOG_SIGNING_KEY: base64 of a 32-byte Ed25519 private key "
                    "(python -c 'import os, base64; print(base64.b64encode(os.urandom(32)).decode())')"
                )
        if not self.loopback_only and not self.strong_secret:
            raise ConfigError(
                f"HOST={self.host} is reachable from other machines: JWT_SECRET must be a random secret"
                f" of at least {MIN_SECRET_LENGTH} characters, not a published one"
            )
        if self.trusted_proxy_header is not None and not _HEADER_NAME.match(self.trusted_proxy_header):
            raise ConfigError("TRUSTED_PROXY_HEADER must be a header name, e.g. Fly-Client-IP or X-Forwarded-For")
        if self.metrics_token is not None and len(self.metrics_token) < 16:
            raise ConfigError("METRICS_TOKEN must have at least 16 characters")
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ConfigError("METRICS_PORT must differ from PORT (the metrics port is never the public one)")
        if self.log_signing_key is not None and len(signing_key_bytes(self.log_signing_key)) != 32:
            raise ConfigError("LOG_SIGNING_KEY must be base64 of exactly 32 bytes (an Ed25519 private key)")
        if self.media_store == "s3" and not self.s3_bucket:
            raise ConfigError("MEDIA_STORE=s3 needs S3_BUCKET")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise ConfigError("PUBLIC_BASE_URL must start with http:// or https://")

    @property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/")

    @property
    def strong_secret(self) -> bool:
        return len(self.jwt_secret) >= MIN_SECRET_LENGTH and self.jwt_secret not in PUBLISHED_SECRETS

    @property
    def loopback_only(self) -> bool:
        """True when the server listens on this machine only (127.0.0.0/8, ::1, localhost)."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # a host name may resolve anywhere

    @property
    def serves_schema(self) -> bool:
        return self.env != "production" if self.schema_enabled is None else self.schema_enabled


def signing_key_bytes(text: str) -> bytes:
    """The raw key in LOG_SIGNING_KEY, or b"" when it is not base64."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return b""
