"""Tourism fixtures: editor credentials, a small draft site built through the API, and the demo seed."""

from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from service.settings import Settings
from service.tourism.seeding import seed_tourism
from tests.support.tourism import P1, P2, P3, SITE, Client, audio_b64, point_payload, site_payload


@pytest.fixture
async def editor(make_user: Callable[..., Awaitable[dict[str, str]]]) -> dict[str, str]:
    return await make_user("editor")


@pytest.fixture
async def draft_site(client: Client, editor: dict[str, str]) -> str:
    """A draft site with three points (p1 plays after 5 s dwell, p2 once, p3 with a 10 min cooldown) and a tour."""
    response = await client.post("/api/v1/editor/sites", json=site_payload(), headers=editor)
    assert response.status_code == 201, response.text
    points = [
        point_payload("p1", P1, ord=1, dwell_seconds=5, model="stele"),
        point_payload("p2", P2, ord=2, play_once=True),
        point_payload("p3", P3, ord=3, cooldown_seconds=600, texts={"en": {"title": "Only English", "text": "Hello."}}),
    ]
    for body in points:
        response = await client.post(f"/api/v1/editor/sites/{SITE}/points", json=body, headers=editor)
        assert response.status_code == 201, response.text
    for point, lang in (("p1", "vi"), ("p1", "en"), ("p2", "vi"), ("p3", "en")):
        response = await client.put(
            f"/api/v1/editor/sites/{SITE}/points/{point}/tracks/{lang}",
            json={
                "audio_base64": audio_b64(),
                "narrator": "Chị Lan",
                "cues": [{"start": 0, "end": 1.5, "text": "Xin chào."}, {"start": 1.8, "end": 3, "text": "Mời vào."}],
            },
            headers=editor,
        )
        assert response.status_code == 200, response.text
    route = [[P1[1], P1[0]], [P2[1], P2[0]], [P3[1], P3[0]]]
    response = await client.post(
        f"/api/v1/editor/sites/{SITE}/tours",
        json={
            "slug": "vong-ho",
            "mode": "walk",
            "stops": ["p1", "p2", "p3"],
            "route": {"type": "LineString", "coordinates": route},
            "texts": {"vi": {"title": "Vòng hồ"}},
        },
        headers=editor,
    )
    assert response.status_code == 201, response.text
    return SITE


@pytest.fixture
async def published_site(client: Client, editor: dict[str, str], draft_site: str) -> str:
    response = await client.post(f"/api/v1/editor/sites/{draft_site}/publish", headers=editor)
    assert response.status_code == 200, response.text
    return draft_site


@pytest.fixture
async def seeded(db: asyncpg.Connection, settings: Settings) -> str:
    from service.core.db import init_connection

    await init_connection(db)
    return await seed_tourism(db, None, settings)
