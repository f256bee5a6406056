"""A write the service answered survives PostgreSQL crashing the moment after (queries.QUEUE_WITHOUT_FLUSH).

The writes that queue a chain head commit without waiting for the disk; the sequencing of the head into the
transparency log, which commits synchronously before the answer, is what puts them on disk. Here the WAL
writer is put to sleep (it would otherwise flush within 200 ms and hide a missing flush), the server is
crashed with an immediate shutdown (no checkpoint, WAL buffers lost) right after the answers, and restarted.
"""

import asyncio
import os
import signal
import uuid
from pathlib import Path

import asyncpg
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth.service import create_user
from tests.support import factories as f
from tests.support.app import feed_connected
from tests.support.outage import own_server, own_settings

PHONE, PASSWORD = "0912000222", "mật-khẩu-an-toàn-1"


async def _crash(data_dir: Path) -> None:
    """An immediate shutdown: what a power cut leaves (PostgreSQL recovers from the WAL on disk only)."""
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGQUIT)
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("PostgreSQL did not stop after SIGQUIT")


async def test_a_registration_and_an_event_answered_201_survive_a_crash_right_after(tmp_path: Path) -> None:
    async with own_server(tmp_path / "pg") as (server, dsn):
        conn = await asyncpg.connect(dsn)
        try:
            # the WAL writer flushes asynchronous commits every 200 ms by default: asleep, only a commit that
            # waits for the disk puts these writes there before the crash
            await conn.execute("alter system set wal_writer_delay = '10s'")
            await conn.execute("select pg_reload_conf()")
            await create_user(conn, phone=PHONE, password=PASSWORD, full_name="Nông dân", role="farmer")
        finally:
            await conn.close()
        app = create_app(own_settings(tmp_path, dsn))  # no jobs: only the requests themselves sequence heads
        async with AsyncTestClient(app=app, base_url="https://trace.example.vn") as client:
            await feed_connected(app)
            login = await client.post("/api/v1/auth/login", json={"phone": PHONE, "password": PASSWORD})
            farmer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            await f.organization(client, farmer)
            product = await f.product(client, farmer)
            key = str(uuid.uuid4())
            registered = await client.post(
                "/api/v1/batches",
                json={"product_id": product["id"], "quantity": "42", "unit": "kg", "harvest_date": "2026-11-20"},
                headers=farmer | {"Idempotency-Key": key},
            )
            assert registered.status_code == 201, registered.text
            batch = registered.json()
            packed = await f.event(client, farmer, batch["id"], biz_step="packing")
            await _crash(tmp_path / "pg")

        await asyncio.to_thread(server.stop)  # forget the crashed instance
        await asyncio.to_thread(server.start)  # recovery replays the WAL that reached the disk
        conn = await asyncpg.connect(dsn)
        try:
            stored = await conn.fetchrow("select code, last_seq from batches where id = $1", uuid.UUID(batch["id"]))
            assert stored is not None, "the registration answered 201 was lost in the crash"
            assert (stored["code"], stored["last_seq"]) == (batch["code"], 2), "the packing event was lost"
            events = await conn.fetch("select id from events where batch_id = $1 order by seq", uuid.UUID(batch["id"]))
            assert [str(e["id"]) for e in events][1] == packed["id"]
            leaves = await conn.fetch(
                "select seq from transparency_leaves where batch_id = $1 order by seq", uuid.UUID(batch["id"])
            )
            assert [leaf["seq"] for leaf in leaves] == [1, 2], "each head answered is in the transparency log"
            assert await conn.fetchval("select count(*) from transparency_pending") == 0
            assert await conn.fetchval("select count(*) from idempotency_keys where key = $1", key) == 1
        finally:
            await conn.close()
