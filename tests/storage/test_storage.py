"""The stores themselves and the sniffer; S3Store against a real S3-protocol server (moto) on loopback."""

import asyncio
import hashlib
import io
import json
import struct
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import boto3
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from service.core.errors import PROBLEM_JSON
from service.media.service import store_server_bytes
from service.media.types import sniff
from service.settings import Settings
from service.storage import LocalStore, ObjectChanged, UnsafeKey, check_key
from service.storage.s3 import S3Store
from tests.support.app import UserFactory

# --- real files, small ----------------------------------------------------------------------------------


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (10, 120, 200)).save(out, format=fmt)
    return out.getvalue()


def _ogg_crc(data: bytes) -> int:
    """CRC-32 as Ogg defines it: polynomial 0x04C11DB7, no reflection, zero init."""
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def ogg_opus_bytes() -> bytes:
    """One Ogg page (beginning of stream) holding an OpusHead packet, with a correct checksum."""
    packet = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, 0x02, 0, 0x5EED, 0, 0, 1) + bytes([len(packet)])
    page = header + packet
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def glb_bytes() -> bytes:
    """A minimal valid GLB: header + one JSON chunk (4-byte aligned, space padded)."""
    doc = json.dumps({"asset": {"version": "2.0", "generator": "trace-tour tests"}}).encode()
    doc += b" " * (-len(doc) % 4)
    chunk = struct.pack("<I4s", len(doc), b"JSON") + doc
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunk)) + chunk


def mp3_frame() -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frame.
    return b"\xff\xfb\x90\x00" + bytes(413)


def adts_frame() -> bytes:
    # AAC LC, 44.1 kHz, stereo, frame length 7 (header only).
    return bytes([0xFF, 0xF1, 0x50, 0x80, 0x00, 0xFF, 0xFC])


def m4a_head() -> bytes:
    return struct.pack(">I4s4sI", 24, b"ftyp", b"M4A ", 0) + b"isomM4A " + struct.pack(">I4s", 8, b"mdat")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (image_bytes("PNG"), "image/png"),
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("WEBP"), "image/webp"),
        (ogg_opus_bytes(), "audio/ogg"),
        (glb_bytes(), "model/gltf-binary"),
        (mp3_frame(), "audio/mpeg"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x0a" + mp3_frame(), "audio/mpeg"),
        (adts_frame(), "audio/aac"),
        (m4a_head(), "audio/mp4"),
        (b"<html><script>alert(1)</script></html>", None),
        (b"glTF\x01\x00\x00\x00" + bytes(8), None),  # glTF 1.0 binary is not GLB 2
        (b"\xff\xff\xff\xff", None),  # frame sync with reserved fields
        (b"", None),
    ],
)
def test_sniff_real_bytes(data: bytes, expected: str | None) -> None:
    assert sniff(data[:64]) == expected


def test_ogg_page_checksum_is_real() -> None:
    page = ogg_opus_bytes()
    zeroed = page[:22] + b"\x00\x00\x00\x00" + page[26:]
    assert struct.unpack("<I", page[22:26])[0] == _ogg_crc(zeroed)


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a/../../b", "a//b", "a/./b", "", "a\\b", "é", "a/.."])
def test_unsafe_keys_are_refused(key: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafeKey):
        check_key(key)
    store = LocalStore(tmp_path, "https://x.example", "s" * 40)
    with pytest.raises(UnsafeKey):
        store.path_for(key)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_local_store_basics(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, "https://x.example", "s" * 40)
    data = glb_bytes()
    await store.put_bytes("model_3d/a.glb", data, "model/gltf-binary")
    info = await store.stat("model_3d/a.glb")
    assert info is not None
    assert info.size == len(data)
    assert await store.read_range("model_3d/a.glb", 0, 4) == b"glTF"
    assert await store.sha256("model_3d/a.glb", version=info.version) == hashlib.sha256(data).hexdigest()
    await store.put_bytes("model_3d/a.glb", data + b"    ", "model/gltf-binary")
    with pytest.raises(ObjectChanged):
        await store.sha256("model_3d/a.glb", version=info.version)
    await store.promote("model_3d/a.glb", "model_3d/b.glb")
    assert await store.stat("model_3d/a.glb") is None
    await store.delete("model_3d/b.glb")
    await store.delete("model_3d/b.glb")  # deleting twice is fine
    assert files_under(tmp_path) == []


# --- S3 on loopback ------------------------------------------------------------------------------------


# The server, its per-test bucket and an app on it (s3_endpoint, s3_settings, s3_app) live in tests/conftest.py.


async def bucket_keys(settings: Settings) -> list[str]:
    def keys() -> list[str]:
        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        try:
            listing: dict[str, Any] = dict(client.list_objects_v2(Bucket=str(settings.s3_bucket)))
            return sorted(item["Key"] for item in listing.get("Contents", []))
        finally:
            client.close()

    return await asyncio.to_thread(keys)


def declaration(data: bytes, content_type: str, purpose: str, **overrides: Any) -> dict[str, Any]:
    body = {"purpose": purpose, "content_type": content_type, "bytes": len(data)}
    return {**body, "sha256": hashlib.sha256(data).hexdigest(), **overrides}


async def test_s3_full_flow_with_presigned_urls(
    s3_app: tuple[Litestar, AsyncTestClient[Litestar]], s3_settings: Settings, make_user: UserFactory
) -> None:
    _, client = s3_app
    auth = await make_user("editor")
    data = ogg_opus_bytes()
    created = await client.post("/api/v1/media", json=declaration(data, "audio/ogg", "audio_track"), headers=auth)
    assert created.status_code == 201, created.text
    upload = created.json()
    assert upload["upload_url"].startswith(f"{s3_settings.s3_endpoint_url}/{s3_settings.s3_bucket}/incoming/")
    assert "X-Amz-Signature=" in upload["upload_url"]

    async with httpx.AsyncClient() as network:
        put = await network.put(upload["upload_url"], content=data, headers=upload["headers"])
        assert put.status_code == 200, put.text
        done = await client.post(f"/api/v1/media/{upload['id']}/complete", headers=auth)
        assert done.status_code == 200, done.text
        assert done.json()["content_type"] == "audio/ogg"
        assert await bucket_keys(s3_settings) == [f"audio_track/{upload['id']}.ogg"]

        redirect = await client.get(f"/api/v1/media/{upload['id']}", follow_redirects=False)
        assert redirect.status_code == 307
        assert redirect.headers["cache-control"].startswith("private")
        fetched = await network.get(redirect.headers["location"])
        assert fetched.status_code == 200
        assert fetched.content == data
        assert fetched.headers["content-type"] == "audio/ogg"


async def test_s3_failed_completion_deletes_the_object(
    s3_app: tuple[Litestar, AsyncTestClient[Litestar]],
    s3_settings: Settings,
    make_user: UserFactory,
    db: asyncpg.Connection,
) -> None:
    _, client = s3_app
    auth = await make_user("editor")
    data = glb_bytes()
    body = declaration(data, "model/gltf-binary", "model_3d", sha256="0" * 64)
    upload = (await client.post("/api/v1/media", json=body, headers=auth)).json()
    async with httpx.AsyncClient() as network:
        put = await network.put(upload["upload_url"], content=data, headers=upload["headers"])
    assert put.status_code == 200
    assert await bucket_keys(s3_settings) == [f"incoming/{upload['id']}"]
    failed = await client.post(f"/api/v1/media/{upload['id']}/complete", headers=auth)
    assert failed.status_code == 422
    assert failed.headers["content-type"] == PROBLEM_JSON
    assert failed.json()["code"] == "checksum_mismatch"
    assert await bucket_keys(s3_settings) == []
    assert await db.fetchval("select status from media where id = $1", uuid.UUID(upload["id"])) == "pending"
    not_there = await client.post(f"/api/v1/media/{upload['id']}/complete", headers=auth)
    assert not_there.json()["code"] == "not_uploaded"
    # The local-store PUT route does not exist for an S3 store.
    local_put = await client.put(f"/api/v1/media/{upload['id']}/upload?expires=1&sig=x", content=data)
    assert local_put.status_code == 404


async def test_s3_store_operations(
    s3_app: tuple[Litestar, AsyncTestClient[Litestar]],
    s3_settings: Settings,
    make_user: UserFactory,
    db: asyncpg.Connection,
) -> None:
    app, client = s3_app
    store: S3Store = app.state.media_store
    assert isinstance(store, S3Store)
    data = image_bytes("PNG")
    await store.put_bytes("incoming/x", data, "image/png")
    info = await store.stat("incoming/x")
    assert info is not None
    assert info.size == len(data)
    assert await store.read_range("incoming/x", 1, 3) == b"PNG"
    assert await store.sha256("incoming/x", version=info.version) == hashlib.sha256(data).hexdigest()
    await store.put_bytes("incoming/x", data + b"!", "image/png")
    with pytest.raises(ObjectChanged):
        await store.sha256("incoming/x", version=info.version)
    with pytest.raises(ObjectChanged):
        await store.promote("incoming/x", "product_photo/x.png", version=info.version)
    await store.promote("incoming/x", "product_photo/x.png")
    assert await store.stat("incoming/x") is None
    await store.delete("product_photo/x.png")
    assert await bucket_keys(s3_settings) == []

    auth = await make_user("editor")
    media_id = await store_server_bytes(db, store, uuid.UUID(auth["X-User-Id"]), "poi_photo", data, "image/png")
    assert await bucket_keys(s3_settings) == [f"poi_photo/{media_id}.png"]
    redirect = await client.get(f"/api/v1/media/{media_id}", follow_redirects=False)
    async with httpx.AsyncClient() as network:
        assert (await network.get(redirect.headers["location"])).content == data
