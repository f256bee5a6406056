"""QR images: an independent decoder reads back the batch URI; caching, ETag and bounds."""

import io
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from service.app import create_app
from service.core.qr import QRCache, QROptions, matrix_image, qr_matrix
from service.settings import Settings
from tests.support.factories import BASE, GTIN, stored_batch, stored_organization


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


def decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    return str(results[0].text)


async def test_png_decodes_to_the_digital_link(client: AsyncTestClient[Litestar], db: Any) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    response = await client.get(f"/api/v1/batches/{batch['id']}/qr.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert decode(response.content) == f"{BASE}/01/{GTIN}/10/TC-2025%2F07"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"].startswith('"')


async def test_png_without_gtin_decodes_to_the_short_uri(client: AsyncTestClient[Litestar], db: Any) -> None:
    batch = await stored_batch(db, await stored_organization(db), gtin=None)
    response = await client.get(
        f"/api/v1/batches/{batch['id']}/qr.png", params={"size": 200, "ec": "H", "quiet_zone": 2}
    )
    assert decode(response.content) == f"{BASE}/q/{batch['code']}"
    assert Image.open(io.BytesIO(response.content)).size[0] <= 200


async def test_svg_is_xml_with_the_same_code(client: AsyncTestClient[Litestar], db: Any) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    response = await client.get(f"/api/v1/batches/{batch['id']}/qr.svg")
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


async def test_unchanged_code_is_rendered_once_and_revalidates(
    client: AsyncTestClient[Litestar], app: Litestar, db: Any
) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    url = f"/api/v1/batches/{batch['id']}/qr.png"
    first = await client.get(url)
    second = await client.get(url)
    cache: QRCache = app.state.qr_cache
    assert cache.renders == 1 and first.content == second.content
    not_modified = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""


@pytest.mark.parametrize("params", [{"size": 100_000}, {"size": 10}, {"quiet_zone": 99}, {"ec": "Z"}, {"size": "big"}])
async def test_absurd_options_are_refused(client: AsyncTestClient[Litestar], db: Any, params: dict[str, Any]) -> None:
    batch = await stored_batch(db, await stored_organization(db))
    response = await client.get(f"/api/v1/batches/{batch['id']}/qr.png", params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_batch_is_404(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get(f"/api/v1/batches/{uuid.uuid4()}/qr.svg")
    assert response.status_code == 404 and response.json()["code"] == "batch_not_found"


async def test_concurrent_misses_share_one_render() -> None:
    import asyncio

    cache = QRCache()
    results = await asyncio.gather(*(cache.image("https://t.vn/q/ABCDEFGH", "png", QROptions()) for _ in range(5)))
    assert cache.renders == 1 and len({r[0] for r in results}) == 1


def test_cache_is_bounded_by_bytes() -> None:
    cache = QRCache(max_bytes=3_000)
    for i in range(20):
        cache._put(str(i), b"x" * 1_000)
    assert sum(len(v) for v in cache._items.values()) <= 3_000


def test_fast_mask_still_decodes() -> None:
    uri = f"{BASE}/01/{GTIN}/10/A1/21/ABCDEFGHJKLMN"
    image = matrix_image(qr_matrix(uri, quiet_zone=2, fast=True), 4)
    assert zxingcpp.read_barcodes(image)[0].text == uri
