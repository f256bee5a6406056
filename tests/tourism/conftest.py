"""Tourism fixtures: editor credentials, a small draft site built through the API, and the demo seed."""

import base64
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.settings import Settings
from service.tourism.seed import seed_tourism

SEED_AUDIO = Path(__file__).resolve().parents[2] / "service" / "tourism" / "seed" / "audio"
OPUS_SAMPLE = SEED_AUDIO / "ho-nui-coc" / "ben-thuyen.vi.opus"
SITE = "thu-nghiem"
# Near Hồ Núi Cốc; three points about 100 m apart along a line going north-east.
P1 = (21.5640, 105.7220)
P2 = (21.5649, 105.7229)
P3 = (21.5658, 105.7238)


def site_payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": SITE,
        "texts": {
            "vi": {"name": "Khu thử nghiệm Hồ Núi Cốc", "summary": "Điểm thử cho hướng dẫn âm thanh."},
            "en": {"name": "Núi Cốc test area", "summary": "A test site for the audio guide."},
        },
        "lat": 21.564,
        "lon": 105.722,
        "commune_code": "05488",
        "ranking": "national",
        "sources": [{"claim": "position", "source": "test"}],
    }
    body.update(overrides)
    return body


def point_payload(slug: str, position: tuple[float, float], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": slug,
        "lat": position[0],
        "lon": position[1],
        "radius_m": 30,
        "texts": {
            "vi": {"title": f"Điểm {slug}", "text": "Xin chào."},
            "en": {"title": f"Point {slug}", "text": "Hi."},
        },
    }
    body.update(overrides)
    return body


def audio_b64(path: Path = OPUS_SAMPLE) -> str:
    return base64.b64encode(path.read_bytes()).decode()


@pytest.fixture
async def editor(make_user: Callable[..., Awaitable[dict[str, str]]]) -> dict[str, str]:
    return await make_user("editor")


Client = AsyncTestClient[Litestar]


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


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body
