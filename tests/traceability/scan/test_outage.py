"""PostgreSQL stopped under shopper requests: answered from memory, marked stale, scans kept on disk, none lost."""

import asyncio
import time
from pathlib import Path
from urllib.parse import quote

import asyncpg
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.auth.service import create_user
from service.traceability.scan.scans import ScanRecorder
from tests.support.app import feed_connected, flush
from tests.support.factories import GTIN, assert_problem, scan_count, stored_batch, stored_organization, stored_units
from tests.support.outage import own_server, own_settings, seconds_until_ready

ROUNDS = 40


async def test_shoppers_are_answered_while_postgresql_is_stopped_and_no_scan_is_lost(tmp_path: Path) -> None:
    async with own_server(tmp_path / "pg") as (server, dsn):
        conn = await asyncpg.connect(dsn)
        try:
            batch = await stored_batch(conn, await stored_organization(conn))
            (serial,) = await stored_units(conn, batch["id"], 1)
            await create_user(conn, phone="0912000111", password="mật-khẩu-an-toàn-1", full_name="Q", role="admin")
        finally:
            await conn.close()
        app = create_app(own_settings(tmp_path, dsn))
        async with AsyncTestClient(app=app, base_url="https://trace.example.vn") as client:
            await feed_connected(app)
            login = await client.post(
                "/api/v1/auth/login", json={"phone": "0912000111", "password": "mật-khẩu-an-toàn-1"}
            )
            admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
            page, unit_page = f"/trace/{batch['code']}", f"/trace/{batch['code']}/{serial}"
            resolver = f"/01/{GTIN}/10/{quote(batch['lot'], safe='')}"
            product = f"/p/{GTIN}"  # the page a GTIN with an unknown lot resolves to
            for url in (page, unit_page, product):  # what the worker holds when the database goes away
                assert (await client.get(url)).status_code == 200
                assert "warning" not in (await client.get(url)).headers
            assert (await client.get(resolver, follow_redirects=False)).status_code == 307
            await flush(app)

            await asyncio.to_thread(server.stop)
            answered = 0
            for i in range(ROUNDS):
                agent = {"User-Agent": f"Mozilla/5.0 (Linux; Android 14) shopper-{i}"}
                for url in (page, unit_page, resolver, product):
                    response = await client.get(url, headers=agent, follow_redirects=False)
                    if response.status_code in (200, 307):
                        answered += 1
                        assert response.headers["warning"] == '110 - "Response is Stale"'
                        assert int(response.headers["age"]) >= 0
            share = answered / (4 * ROUNDS)
            assert share == 1.0, f"answered {answered} of {4 * ROUNDS} during the outage"
            stale_product = await client.get(product + "?lang=en")
            assert "As of" in stale_product.text and stale_product.headers["warning"].startswith("110")
            html = (await client.get(page)).text
            assert 'id="as-of"' in html and "Thông tin cập nhật lúc" in html
            assert "As of" in (await client.get(page + "?lang=en")).text
            as_json = await client.get(page, headers={"Accept": "application/json"})
            assert as_json.status_code == 200 and as_json.headers["warning"].startswith("110")
            # what the worker never held, writes and readiness say the database is away
            unknown = await client.get("/trace/ZZZZZZZZZZZZZ")
            assert_problem(unknown, 503, "database_unavailable")
            assert unknown.headers["retry-after"] == "5"
            recall = await client.post(
                f"/api/v1/batches/{batch['id']}/recall", json={"reason": "Dư lượng vượt ngưỡng"}, headers=admin
            )
            assert_problem(recall, 503)
            assert "retry-after" in recall.headers
            assert (await client.get("/health/ready")).status_code == 503
            recorder: ScanRecorder = app.state.scan_recorder
            for _ in range(100):  # the flusher found the database away and put the scans on disk
                if recorder.spool is not None and not recorder.spool.empty and not recorder.pending:
                    break
                await asyncio.sleep(0.05)
            assert recorder.spool is not None and not recorder.spool.empty

            await asyncio.to_thread(server.start)
            to_ready = await seconds_until_ready(client)
            started = time.monotonic()
            await flush(app)
            replayed_in = time.monotonic() - started
            fresh = await client.get(page)
            assert fresh.status_code == 200 and "warning" not in fresh.headers and 'id="as-of"' not in fresh.text
        conn = await asyncpg.connect(dsn)
        try:
            stored = await scan_count(conn)
        finally:
            await conn.close()
        lost = 1 + ROUNDS - stored  # the warm-up scan and one per round through the resolver
        assert lost == 0
        print(
            f"\noutage figures: answered {share:.0%}, ready {to_ready:.2f} s after restart, "
            f"spool replayed in {replayed_in:.2f} s, scans lost {lost}"
        )
