"""Tourism test helpers: request bodies for a small test site, the guide's position reports, problem checks."""

import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.storage import LocalStore

REPO = Path(__file__).resolve().parents[2]
SEED_AUDIO = REPO / "service" / "tourism" / "seed" / "audio"
ASSETS = REPO / "assets" / "3d"
BASE = "https://trace.example.vn"
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


Client = AsyncTestClient[Litestar]


NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def report(position: tuple[float, float], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "site": "thu-nghiem",
        "lat": position[0],
        "lon": position[1],
        "accuracy_m": 8,
        "lang": "vi",
        "at": NOW.isoformat(),
    }
    body.update(extra)
    return body


async def ask(client: Client, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/guide/position", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def local_store(root: Path) -> LocalStore:
    return LocalStore(root, BASE, "test-secret-0123456789-0123456789-abcdef")
