"""Test fixtures: one real PostgreSQL per session, a fresh database per test cloned from a migrated template."""

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth.schemas import Role
from service.auth.service import create_user
from service.core.db import EmbeddedPostgres
from service.core.migrate import migrate
from service.settings import Settings
from service.storage.s3 import build_s3_client
from tests.support.app import UserFactory
from tests.support.factories import AUTHORITY, join_authority

TEST_JWT_SECRET = "test-secret-0123456789-0123456789-abcdef"

# fixtures started only by the tests that ask for them (a hot-standby replica for tests/core/test_read_replica.py)
pytest_plugins = ["tests.support.replica"]


def with_database(dsn: str, name: str) -> str:
    """Same server, another database: swap the path of the DSN."""
    parts = urlsplit(dsn)
    return parts._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded server, started once for the whole session (the same code path `make run` uses)."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
    dsn = server.start()
    try:
        yield dsn
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def template_dsn(postgres_server: str) -> str:
    """A database migrated with the real migrations; each test clones it."""
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute("drop database if exists tt_template")
        await admin.execute("create database tt_template")
    finally:
        await admin.close()
    dsn = with_database(postgres_server, "tt_template")
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return dsn


@pytest.fixture
async def database_url(postgres_server: str, template_dsn: str) -> AsyncIterator[str]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'create database "{name}" template tt_template')
        yield with_database(postgres_server, name)
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database, for arranging and checking state."""
    conn = await asyncpg.connect(database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    path = tmp_path / "media"
    path.mkdir()
    return path


@pytest.fixture
def settings(database_url: str, media_dir: Path, tmp_path: Path) -> Settings:
    return Settings(
        scan_spool_dir=str(tmp_path / "scan-spool"),
        env="test",
        database_url=database_url,
        media_dir=str(media_dir),
        jwt_secret=TEST_JWT_SECRET,
        public_base_url="https://trace.example.vn",
        db_pool_min=0,
        db_pool_max=8,
        jobs_in_server=False,  # tests of the job runner start their own
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-protocol server (moto's) on loopback, started once for the session."""
    from moto.server import ThreadedMotoServer  # loaded only by sessions that use S3

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    """The test settings with MEDIA_STORE=s3 and a fresh bucket of their own."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    s3 = msgspec.structs.replace(
        settings,
        media_store="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=bucket,
        s3_access_key_id="test",
        s3_secret_access_key="test",
        s3_region="us-east-1",
    )
    client = build_s3_client(s3)
    client.create_bucket(Bucket=bucket)
    client.close()
    return s3


@pytest.fixture
async def s3_app(s3_settings: Settings) -> AsyncIterator[tuple[Litestar, AsyncTestClient[Litestar]]]:
    app = create_app(s3_settings)
    async with AsyncTestClient(app=app, base_url="https://trace.example.vn") as test_client:
        yield app, test_client


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar, request: pytest.FixtureRequest) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app over HTTP; in modules marked `redirects_not_followed` it shows the 3xx answers themselves."""
    async with AsyncTestClient(app=app, base_url="https://trace.example.vn") as test_client:
        if request.node.get_closest_marker("redirects_not_followed"):
            test_client.follow_redirects = False
        yield test_client


@pytest.fixture
def make_user(db: asyncpg.Connection, client: AsyncTestClient[Litestar]) -> UserFactory:
    """Create a user of a role and sign in through the real login route; returns auth headers plus ids."""
    counter = iter(range(10_000))

    async def factory(
        role: Role = "farmer", *, name: str | None = None, authority: str | None = AUTHORITY
    ) -> dict[str, str]:
        """Inspectors act for an authority (the test one unless `authority` names another, or is None)."""
        phone = f"09{next(counter):02d}{uuid.uuid4().int % 10**6:06d}"
        password = "mật-khẩu-an-toàn-1"
        user = await create_user(db, phone=phone, password=password, full_name=name or f"Test {role}", role=role)
        if role == "inspector" and authority is not None:
            await join_authority(db, user.id, authority)
        response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return {"Authorization": f"Bearer {token}", "X-User-Id": str(user.id), "X-Phone": user.phone}

    return factory
