"""Photos for the tests: drawn like the seed's, uploaded through the real media flow (declare, PUT, complete)."""

import hashlib
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.media.drawn import drawn_photo

__all__ = ["drawn_photo", "upload_photo"]


async def upload_photo(
    client: AsyncTestClient[Litestar],
    auth: dict[str, str],
    data: bytes,
    *,
    content_type: str = "image/jpeg",
    purpose: str = "product_photo",
) -> dict[str, Any]:
    """Declare, send and complete one photo; the completed media item's JSON."""
    declared = {
        "purpose": purpose,
        "content_type": content_type,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    created = await client.post("/api/v1/media", json=declared, headers=auth)
    assert created.status_code == 201, created.text
    target = created.json()
    if target["upload_url"].startswith(str(client.base_url)):
        put = await client.request(target["method"], target["upload_url"], content=data, headers=target["headers"])
    else:  # object storage: the bytes go over the network to the S3 server, as a phone's would
        async with httpx.AsyncClient() as network:
            put = await network.put(target["upload_url"], content=data, headers=target["headers"])
    assert put.status_code in (200, 204), put.text
    done = await client.post(f"/api/v1/media/{target['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    result: dict[str, Any] = done.json()
    return result
