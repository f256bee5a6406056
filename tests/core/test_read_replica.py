"""Public reads on a real hot-standby replica (DATABASE_REPLICA_URL): served from it, never before a write this
worker knows of, and from the primary while it is away (then from it again).

How a test tells which server answered: the replica's replay is paused, and a row is changed on the primary
with triggers off (`session_replication_role = replica`), so no change notification tells the app: only the
primary has the new name, only the replica the old one.
"""

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.support.app import UserFactory
from tests.support.factories import BASE, batch, farm, product
from tests.support.replica import Replica

OLD, NEW = "Hộ chè Cũ", "Hộ chè Mới"


@pytest.fixture
async def client(settings: Settings, database_url: str, replica: Replica) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The app with DATABASE_REPLICA_URL set to the test's database on the replica (make_user signs in here)."""
    await replica.caught_up()  # the test's database exists on the replica too
    name = urlsplit(database_url).path.lstrip("/")
    with_replica = msgspec.structs.replace(settings, database_replica_url=replica.dsn(name), replica_retry_seconds=0.3)
    try:
        async with AsyncTestClient(app=create_app(with_replica), base_url=BASE) as test_client:
            yield test_client
    finally:
        await replica.resume_replay()  # a failing test leaves the replica as it found it


async def settle(replica: Replica) -> None:
    """Let the app hear of the writes made so far (LISTEN), then let the replica replay them."""
    await asyncio.sleep(0.3)
    await replica.caught_up()


async def rename_unnoticed(db: asyncpg.Connection, org_id: str, name: str) -> None:
    """Rename on the primary with triggers off: no notification, so the app cannot know but by reading."""
    async with db.transaction():
        await db.execute("set local session_replication_role = replica")
        await db.execute("update organizations set name = $2 where id = $1", uuid.UUID(org_id), name)


async def public_name(client: AsyncTestClient[Litestar], org_id: str) -> str:
    response = await client.get(f"/api/v1/producers/{org_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


def metric(text: str, name: str, label: str) -> float:
    found = re.search(rf'^{name}_total\{{[^}}]*="{label}"[^}}]*\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_public_reads_come_from_the_replica_and_own_reads_from_the_primary(
    client: AsyncTestClient[Litestar], make_user: UserFactory, db: asyncpg.Connection, replica: Replica
) -> None:
    headers, org = await farm(client, make_user)
    await client.patch(f"/api/v1/organizations/{org['id']}", json={"name": OLD}, headers=headers)
    await settle(replica)
    await replica.pause_replay()
    await rename_unnoticed(db, org["id"], NEW)

    assert await public_name(client, org["id"]) == OLD  # the producer's public page: the replica
    csv = (await client.get("/open-data/producers.csv")).text
    assert OLD in csv and NEW not in csv  # open data: the replica
    own = await client.get(f"/api/v1/organizations/{org['id']}", headers=headers)
    assert own.json()["name"] == NEW  # the owner's own record: the primary

    await replica.resume_replay()
    await replica.caught_up()
    assert await public_name(client, org["id"]) == NEW


async def test_a_write_is_read_back_at_once_while_the_replica_lags(
    client: AsyncTestClient[Litestar], make_user: UserFactory, replica: Replica
) -> None:
    headers, org = await farm(client, make_user)
    item = await product(client, headers)
    await settle(replica)
    await replica.pause_replay()

    made = await batch(client, headers, item["id"])  # never reaches the paused replica
    page = await client.get(f"/trace/{made['code']}", headers={"Accept": "application/json"})
    assert page.status_code == 200, page.text
    resolved = await client.get(f"/q/{made['code']}", follow_redirects=False)
    assert resolved.status_code == 307  # the resolver finds it too

    await client.patch(f"/api/v1/organizations/{org['id']}", json={"name": NEW}, headers=headers)
    for _ in range(50):  # the notification arrives over LISTEN; until then the writer's own cache knows
        if await public_name(client, org["id"]) == NEW:
            break
        await asyncio.sleep(0.05)
    assert await public_name(client, org["id"]) == NEW
    shopper = await client.get(f"/trace/{made['code']}", headers={"Accept": "application/json"})
    assert shopper.json()["producer"]["name"] == NEW


async def test_replica_down_then_back(
    client: AsyncTestClient[Litestar],
    make_user: UserFactory,
    db: asyncpg.Connection,
    replica: Replica,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers, org = await farm(client, make_user)
    await client.patch(f"/api/v1/organizations/{org['id']}", json={"name": OLD}, headers=headers)
    await settle(replica)
    assert await public_name(client, org["id"]) == OLD

    await asyncio.to_thread(replica.stop)
    try:
        await rename_unnoticed(db, org["id"], NEW)
        with caplog.at_level(logging.WARNING, logger="service.db"):
            assert await public_name(client, org["id"]) == NEW  # answered by the primary
        assert any("replica unreachable" in r.getMessage() for r in caplog.records)
        metrics = (await client.get("/metrics")).text
        assert metric(metrics, "db_replica_fallbacks", "unreachable") >= 1
    finally:
        await asyncio.to_thread(replica.start)

    await replica.caught_up()
    await replica.pause_replay()
    await rename_unnoticed(db, org["id"], OLD + " 2")
    await asyncio.sleep(0.4)  # replica_retry_seconds: the replica is tried again
    assert await public_name(client, org["id"]) == NEW  # the replica again: it has not replayed the last rename
