"""Uploaded photos lose their metadata (EXIF GPS first of all) before anyone can download them."""

import asyncio
import hashlib
import io
from pathlib import Path
from typing import Any

import boto3
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image, PngImagePlugin

from service.settings import Settings
from tests.support.app import UserFactory

NO_GZIP = {"Accept-Encoding": "identity"}
GPS_IFD = 0x8825


def photo_with_gps(fmt: str = "JPEG") -> bytes:
    """A phone photo taken at home: GPS position, camera serial, a comment; rotated by its EXIF orientation."""
    image = Image.new("RGB", (60, 40), (30, 140, 60))
    for x in range(20):
        image.putpixel((x, 0), (255, 0, 0))  # a red mark on the top-left edge, to check the rotation
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0xA431] = "SERIAL-1234567"  # BodySerialNumber
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (21.0, 33.0, 49.7), 3: "E", 4: (105.0, 45.0, 45.5)})
    out = io.BytesIO()
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "nhà ông Hùng, xóm Hồng Thái 2")
        image.save(out, format="PNG", exif=exif, pnginfo=info)
    else:
        image.save(out, format=fmt, exif=exif, comment=b"nha ong Hung", quality=90)
    return out.getvalue()


def files(media_dir: Path) -> list[Path]:
    return sorted(p for p in media_dir.rglob("*") if p.is_file())


def declaration(data: bytes, content_type: str) -> dict[str, Any]:
    return {
        "purpose": "batch_photo",
        "content_type": content_type,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def assert_clean(served: bytes, fmt: str) -> None:
    with Image.open(io.BytesIO(served)) as image:
        assert image.format == fmt
        assert len(image.getexif()) == 0
        drawing = {"jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi", "loop", "background"}
        assert not (set(image.info) - drawing)
        assert image.size == (40, 60)  # the orientation was applied to the pixels, not lost
    assert b"SERIAL-1234567" not in served and b"Hung" not in served and b"PhoneMaker" not in served


async def complete_upload(client: AsyncTestClient[Litestar], auth: dict[str, str], data: bytes, kind: str) -> Any:
    created = await client.post("/api/v1/media", json=declaration(data, kind), headers=auth)
    assert created.status_code == 201, created.text
    target = created.json()
    put = await client.request(target["method"], target["upload_url"], content=data, headers=target["headers"])
    assert put.status_code == 204
    done = await client.post(f"/api/v1/media/{target['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    return done.json()


async def test_jpeg_and_png_lose_gps_and_the_checksum_matches_what_is_served(
    client: AsyncTestClient[Litestar], make_user: UserFactory, media_dir: Path
) -> None:
    auth = await make_user("farmer")
    for fmt, kind in (("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")):
        original = photo_with_gps(fmt)
        with Image.open(io.BytesIO(original)) as before:
            assert before.getexif().get_ifd(GPS_IFD)  # the upload really carries a position
        ready = await complete_upload(client, auth, original, kind)
        served = (await client.get(f"/api/v1/media/{ready['id']}", headers=NO_GZIP)).content
        assert_clean(served, fmt)
        assert ready["sha256"] == hashlib.sha256(served).hexdigest() and ready["bytes"] == len(served)
        again = await client.post(f"/api/v1/media/{ready['id']}/complete", headers=auth)  # a retry changes nothing
        assert again.json() == ready
    assert not [p for p in files(media_dir) if "incoming" in p.parts]


async def test_a_broken_image_is_refused_and_nothing_is_kept(
    client: AsyncTestClient[Litestar], make_user: UserFactory, media_dir: Path
) -> None:
    auth = await make_user("farmer")
    data = photo_with_gps("JPEG")
    data = data[: len(data) // 3]  # the first third: magic bytes and EXIF, then nothing
    created = (await client.post("/api/v1/media", json=declaration(data, "image/jpeg"), headers=auth)).json()
    await client.request(created["method"], created["upload_url"], content=data, headers=created["headers"])
    done = await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth)
    assert done.status_code == 422 and done.json()["code"] == "image_unreadable"
    assert files(media_dir) == []


async def test_s3_uploads_are_stripped_too(
    s3_app: tuple[Litestar, AsyncTestClient[Litestar]], s3_settings: Settings, make_user: UserFactory
) -> None:
    _, client = s3_app
    auth = await make_user("farmer")
    original = photo_with_gps("JPEG")
    created = (await client.post("/api/v1/media", json=declaration(original, "image/jpeg"), headers=auth)).json()
    async with httpx.AsyncClient() as network:
        put = await network.put(created["upload_url"], content=original, headers=created["headers"])
        assert put.status_code == 200
        done = await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth)
        assert done.status_code == 200, done.text
        redirect = await client.get(f"/api/v1/media/{created['id']}", follow_redirects=False)
        served = (await network.get(redirect.headers["location"])).content
    assert_clean(served, "JPEG")
    assert done.json()["sha256"] == hashlib.sha256(served).hexdigest()

    def keys() -> list[str]:
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_settings.s3_endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        try:
            return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=str(s3_settings.s3_bucket))["Contents"])
        finally:
            s3.close()

    assert await asyncio.to_thread(keys) == [f"batch_photo/{created['id']}.jpg"]
