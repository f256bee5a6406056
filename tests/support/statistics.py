"""Statistics test helpers: a small published site, rollup rows written directly, the guide counter's flush."""

import asyncio
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
from litestar import Litestar

from service.core import clock
from service.tourism.guide.counts import GuideCounter
from tests.support.tourism import P1, P2, Client, point_payload, site_payload


async def small_site(client: Client, editor: dict[str, str], slug: str) -> str:
    """A published site with two points that play at once (no dwell), built through the editor API."""
    body = site_payload(slug=slug)
    response = await client.post("/api/v1/editor/sites", json=body, headers=editor)
    assert response.status_code == 201, response.text
    for point, position in (("p1", P1), ("p2", P2)):
        response = await client.post(
            f"/api/v1/editor/sites/{slug}/points", json=point_payload(point, position), headers=editor
        )
        assert response.status_code == 201, response.text
    response = await client.post(f"/api/v1/editor/sites/{slug}/publish", headers=editor)
    assert response.status_code == 200, response.text
    return slug


async def flush_guide_counts(app: Litestar) -> None:
    """Wait for the app's own guide-counter flusher (the test client runs the app on another event loop)."""
    counter: GuideCounter = app.state.guide_counter
    counter.flush_interval = 0.02
    for _ in range(250):
        await asyncio.sleep(0.02)
        if counter.idle:
            return
    raise AssertionError("the guide counts were not flushed")


async def stored_daily_scans(db: asyncpg.Connection, batch_id: Any, counts: dict[date, int]) -> None:
    await db.executemany(
        "insert into scan_daily (batch_id, day, scans) values ($1, $2, $3)",
        [(batch_id, day, n) for day, n in counts.items()],
    )


async def stored_commune_scans(
    db: asyncpg.Connection, batch_id: Any, counts: dict[tuple[date, str], tuple[int, int]]
) -> None:
    """Rows of the phone-commune rollup: (day, commune code or '') -> (scans, units first scanned)."""
    await db.executemany(
        "insert into scan_commune_daily (batch_id, day, commune_code, scans, first_scans) values ($1, $2, $3, $4, $5)",
        [(batch_id, day, code, scans, firsts) for (day, code), (scans, firsts) in counts.items()],
    )


async def stored_household(
    db: asyncpg.Connection, parent: uuid.UUID | None, name: str, commune: tuple[str, str]
) -> uuid.UUID:
    """A member farm of a cooperative, in a given commune (code, name)."""
    org_id: uuid.UUID = await db.fetchval(
        """
        insert into organizations (kind, name, parent_id, province_code, province_name, commune_code, commune_name,
                                   lat, lon, verification_status)
        values ('household', $1, $2, 19, 'Thái Nguyên', $3, $4, 21.6, 105.8, 'verified')
        returning id
        """,
        name,
        parent,
        *commune,
    )
    return org_id


async def stored_site_with_plays(db: asyncpg.Connection, editor: uuid.UUID, days: int = 30) -> uuid.UUID:
    """A published site created by this editor, with `days` days of guide plays (two points, vi and en) and
    offline-pack downloads."""
    site_id: uuid.UUID = await db.fetchval(
        """
        insert into tourism_sites (slug, status, texts, lat, lon, created_by)
        values ('den-thu', 'published', '{"vi": {"name": "Đền thử"}}', 21.6, 105.8, $1) returning id
        """,
        editor,
    )
    today = clock.today()
    for d in range(days):
        for point, lang, plays in (("cong-tam-quan", "vi", 12), ("nha-trung-bay", "vi", 7), ("cong-tam-quan", "en", 3)):
            await db.execute(
                "insert into guide_plays_daily (site_id, point_slug, lang, day, plays) values ($1, $2, $3, $4, $5)",
                site_id, point, lang, today - timedelta(days=d), plays + d % 5,
            )  # fmt: skip
        await db.execute(
            "insert into offline_downloads_daily (site_id, day, downloads) values ($1, $2, $3)",
            site_id, today - timedelta(days=d), 2 + d % 4,
        )  # fmt: skip
    return site_id
