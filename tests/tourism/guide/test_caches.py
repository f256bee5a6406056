"""The guide and the offline pack answer from per-worker caches; edits must still show on the next request."""

import asyncio
from typing import Any

import asyncpg

from tests.support.tourism import P1, Client, ask, report

FAR_FROM_P1 = (P1[0] + 0.0004, P1[1])  # about 45 m north of p1's centre


async def test_a_zone_edit_shows_on_the_next_position_report(
    client: Client, editor: dict[str, str], published_site: str
) -> None:
    before = await ask(client, report(FAR_FROM_P1))
    assert "p1" not in before["inside"]
    edit = await client.patch(f"/api/v1/editor/sites/{published_site}/points/p1", json={"radius_m": 80}, headers=editor)
    assert edit.status_code == 200, edit.text
    after = await ask(client, report(FAR_FROM_P1))
    assert "p1" in after["inside"], "the widened zone must apply to the very next report"


async def test_a_change_made_elsewhere_reaches_this_worker_through_notifications(
    client: Client, db: asyncpg.Connection, published_site: str
) -> None:
    url = f"/api/v1/sites/{published_site}/offline?lang=vi"
    etag = (await client.get(url)).headers["etag"]
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304  # now cached
    assert "p1" not in (await ask(client, report(FAR_FROM_P1)))["inside"]
    # another process (another worker, a migration, an admin in psql) changes the zone
    await db.execute(
        """
        update tourism_points set radius_m = 80
        where slug = 'p1' and site_id = (select id from tourism_sites where slug = $1)
        """,
        published_site,
    )
    statuses: list[int] = []
    inside: list[Any] = []
    for _ in range(100):  # the notification normally arrives within a few milliseconds
        statuses.append((await client.get(url, headers={"If-None-Match": etag})).status_code)
        inside = (await ask(client, report(FAR_FROM_P1)))["inside"]
        if statuses[-1] == 200 and "p1" in inside:
            break
        await asyncio.sleep(0.02)
    assert statuses[-1] == 200, "the offline pack's ETag must change"
    assert "p1" in inside
    assert len(statuses) <= 10, f"took {len(statuses)} polls"
