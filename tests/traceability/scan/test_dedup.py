"""One dedup across workers: a repeat from the same client inside the window counts once, whichever app answers."""

from datetime import date
from typing import Any

import asyncpg
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.traceability.scan.scans import daily_salt, purge_dedup_keys, scan_client_secret
from tests.support.app import flush
from tests.support.factories import scan_count, stored_batch, stored_organization, stored_units

BASE = "https://trace.example.vn"
PHONE = "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


async def scan_through_apps(settings: Settings, url: str, user_agents: list[str], apps: int = 2) -> None:
    """Each scan answered by the next of `apps` app instances on the same database (workers of one service)."""
    instances = [create_app(settings) for _ in range(apps)]
    clients = [AsyncTestClient(app=app, base_url=BASE) for app in instances]
    for client in clients:
        await client.__aenter__()
    try:
        for i, user_agent in enumerate(user_agents):
            response = await clients[i % apps].get(url, headers={"User-Agent": user_agent}, follow_redirects=False)
            assert response.status_code in {200, 302, 303, 307}
        for app in instances:
            await flush(app)
    finally:
        for client in clients:
            await client.__aexit__(None, None, None)


async def counts(db: asyncpg.Connection, serial: str) -> tuple[int, int]:
    unit = await db.fetchval("select scan_count from units where serial = $1", serial)
    daily = await db.fetchval("select coalesce(sum(scans), 0) from scan_daily")
    return unit, daily


async def test_a_repeat_counts_once_whichever_worker_answers(settings: Settings, db: Any) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    (serial,) = await stored_units(db, batch["id"], 1)
    url = f"/q/{batch['code']}/{serial}"

    await scan_through_apps(settings, url, [PHONE] * 12)

    assert await scan_count(db) == 12  # every scan is recorded
    assert await counts(db, serial) == (1, 1)  # and counted once across both workers
    assert await db.fetchval("select count(*) from scans where counted") == 1

    await scan_through_apps(settings, url, [IPHONE, PHONE, IPHONE])  # another client counts, once
    assert await counts(db, serial) == (2, 2)


async def test_after_the_window_the_same_client_counts_again_and_old_keys_are_purged(
    settings: Settings, db: Any
) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    (serial,) = await stored_units(db, batch["id"], 1)
    url = f"/q/{batch['code']}/{serial}"
    await scan_through_apps(settings, url, [PHONE, PHONE])
    await db.execute("update scan_dedup set counted_at = counted_at - interval '11 minutes'")  # window: 10 minutes

    await scan_through_apps(settings, url, [PHONE, PHONE])

    assert await counts(db, serial) == (2, 2)
    await db.execute("update scan_dedup set counted_at = counted_at - interval '11 minutes'")
    assert await purge_dedup_keys(db, 600) == 1
    assert await db.fetchval("select count(*) from scan_dedup") == 0


def test_client_digests_are_equal_across_workers_and_unlinkable_across_days() -> None:
    secret = scan_client_secret("một-bí-mật-của-máy-chủ-0123456789abcdef")
    assert secret != scan_client_secret("another-server-secret-0123456789abcdef")
    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    assert daily_salt(secret, monday) == daily_salt(secret, monday)
    assert daily_salt(secret, monday) != daily_salt(secret, tuesday)
