"""The upload flow against the local store, through HTTP: declare, PUT to the signed URL, complete, serve."""

import hashlib
import io
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from service.core.errors import PROBLEM_JSON, InvalidInput
from service.media.service import media_urls, public_url, store_server_bytes, sweep_abandoned_uploads
from service.storage import LocalStore
from tests.support.app import UserFactory

BASE = "https://trace.example.vn"
NO_GZIP = {"Accept-Encoding": "identity"}  # the app's gzip middleware is not yet told to skip media routes


def png_bytes(width: int = 40, height: int = 30) -> bytes:
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 7) % 256, (y * 11) % 256, (x * y) % 256) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def declaration(data: bytes, content_type: str, purpose: str = "product_photo", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "purpose": purpose,
        "content_type": content_type,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return {**body, **overrides}


def stored_files(media_dir: Path) -> list[Path]:
    return sorted(p for p in media_dir.rglob("*") if p.is_file())


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == code


async def declare(client: AsyncTestClient[Litestar], auth: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/media", json=body, headers=auth)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def upload(client: AsyncTestClient[Litestar], created: dict[str, Any], data: bytes) -> Any:
    return await client.request(created["method"], created["upload_url"], content=data, headers=created["headers"])


async def test_full_flow_then_serving_with_ranges(
    client: AsyncTestClient[Litestar], make_user: UserFactory, media_dir: Path, db: asyncpg.Connection
) -> None:
    auth = await make_user("farmer")
    data = png_bytes()
    created = await declare(client, auth, declaration(data, "image/png"))
    assert created["method"] == "PUT"
    assert created["headers"] == {"Content-Type": "image/png"}
    assert created["upload_url"].startswith(f"{BASE}/api/v1/media/{created['id']}/upload?")

    assert (await upload(client, created, data)).status_code == 204
    done = await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth)
    assert done.status_code == 200, done.text
    ready = done.json()
    assert ready["status"] == "ready"
    assert ready["content_type"] == "image/png"
    assert ready["bytes"] == len(data)
    assert ready["sha256"] == hashlib.sha256(data).hexdigest()
    assert ready["url"] == f"{BASE}/api/v1/media/{created['id']}"
    # Completing again changes nothing and answers the same.
    again = await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth)
    assert again.status_code == 200
    assert again.json() == ready
    # Only the verified object remains, under its final key.
    files = stored_files(media_dir)
    assert [p.relative_to(media_dir).as_posix() for p in files] == [f"product_photo/{created['id']}.png"]
    assert await db.fetchval("select status from media where id = $1", uuid.UUID(created["id"])) == "ready"

    url = f"/api/v1/media/{created['id']}"
    whole = await client.get(url, headers=NO_GZIP)  # public: no token
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["content-type"] == "image/png"
    etag = whole.headers["etag"]
    assert etag == f'"{ready["sha256"]}"'
    assert "immutable" in whole.headers["cache-control"]
    part = await client.get(url, headers={"Range": "bytes=8-15"})
    assert part.status_code == 206
    assert part.content == data[8:16]
    assert part.headers["content-range"] == f"bytes 8-15/{len(data)}"
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    assert_problem(await client.get(url, headers={"Range": f"bytes={len(data)}-"}), 416, "range_not_satisfiable")
    head = await client.head(url, headers=NO_GZIP)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(data))

    # A still-valid upload URL cannot replace verified media.
    assert_problem(await upload(client, created, png_bytes(10, 10)), 409, "already_completed")
    meta = await client.get(f"/api/v1/media/{created['id']}/meta", headers=auth)
    assert meta.json() == ready


async def test_declared_png_got_jpeg_is_stored_as_jpeg(
    client: AsyncTestClient[Litestar], make_user: UserFactory
) -> None:
    auth = await make_user()
    data = jpeg_bytes()
    created = await declare(client, auth, declaration(data, "image/png"))
    await upload(client, created, data)
    done = await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth)
    assert done.status_code == 200
    assert done.json()["content_type"] == "image/jpeg"  # same family: the real type wins


@pytest.mark.parametrize(
    ("purpose", "declared", "sent", "code"),
    [
        ("product_photo", "image/png", b"just some text, not a picture at all", "type_not_allowed"),
        ("audio_track", "audio/ogg", png_bytes(), "type_mismatch"),
    ],
)
async def test_wrong_real_type_is_refused_and_removed(
    client: AsyncTestClient[Litestar],
    make_user: UserFactory,
    media_dir: Path,
    db: asyncpg.Connection,
    purpose: str,
    declared: str,
    sent: bytes,
    code: str,
) -> None:
    auth = await make_user("editor" if purpose == "audio_track" else "farmer")
    created = await declare(client, auth, declaration(sent, declared, purpose))
    assert (await upload(client, created, sent)).status_code == 204
    assert len(stored_files(media_dir)) == 1
    assert_problem(await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth), 422, code)
    assert stored_files(media_dir) == []
    assert await db.fetchval("select status from media where id = $1", uuid.UUID(created["id"])) == "pending"
    assert_problem(await client.get(f"/api/v1/media/{created['id']}"), 404, "media_not_found")


async def test_wrong_checksum_is_refused_and_removed(
    client: AsyncTestClient[Litestar], make_user: UserFactory, media_dir: Path
) -> None:
    auth = await make_user()
    data = png_bytes()
    created = await declare(client, auth, declaration(data, "image/png", sha256="ab" * 32))
    await upload(client, created, data)
    assert_problem(await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth), 422, "checksum_mismatch")
    assert stored_files(media_dir) == []
    # The URL is still valid: the right bytes can be sent again... but they must match the declaration.
    await upload(client, created, data)
    assert_problem(await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth), 422, "checksum_mismatch")


async def test_wrong_size(client: AsyncTestClient[Litestar], make_user: UserFactory, media_dir: Path) -> None:
    auth = await make_user()
    data = png_bytes()
    created = await declare(client, auth, declaration(data, "image/png", bytes=len(data) + 10))
    await upload(client, created, data)
    assert_problem(await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth), 422, "size_mismatch")
    assert stored_files(media_dir) == []
    # More than declared is cut off at the door.
    smaller = await declare(client, auth, declaration(data, "image/png", bytes=len(data) - 10))
    assert_problem(await upload(client, smaller, data), 413, "too_large")
    assert stored_files(media_dir) == []


async def test_complete_before_upload(client: AsyncTestClient[Litestar], make_user: UserFactory) -> None:
    auth = await make_user()
    created = await declare(client, auth, declaration(png_bytes(), "image/png"))
    assert_problem(await client.post(f"/api/v1/media/{created['id']}/complete", headers=auth), 409, "not_uploaded")


def resign(url: str, **query: str) -> str:
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts._replace(query=urlencode({**params, **query})).geturl()


async def test_tampered_or_expired_upload_urls(
    client: AsyncTestClient[Litestar], app: Litestar, make_user: UserFactory, media_dir: Path
) -> None:
    auth = await make_user()
    data = png_bytes()
    created = await declare(client, auth, declaration(data, "image/png"))
    headers = created["headers"]
    expires = parse_qs(urlsplit(created["upload_url"]).query)["expires"][0]
    tampered = [
        resign(created["upload_url"], sig="A" * 43),
        resign(created["upload_url"], expires=str(int(expires) + 3600)),
    ]
    for url in tampered:
        assert_problem(await client.put(url, content=data, headers=headers), 403, "invalid_signature")
    store: LocalStore = app.state.media_store
    media_id = uuid.UUID(created["id"])
    past = 1_600_000_000
    sig = store.sign_upload(media_id=media_id, expires=past, content_type="image/png", size=len(data))
    expired = resign(created["upload_url"], expires=str(past), sig=sig)
    assert_problem(await client.put(expired, content=data, headers=headers), 403, "upload_url_expired")
    wrong_type = await client.put(created["upload_url"], content=data, headers={"Content-Type": "text/html"})
    assert_problem(wrong_type, 415, "content_type_mismatch")
    assert stored_files(media_dir) == []


async def test_other_users_media_is_invisible(
    client: AsyncTestClient[Litestar], make_user: UserFactory, media_dir: Path
) -> None:
    owner, stranger, admin = await make_user(), await make_user(), await make_user("admin")
    data = png_bytes()
    created = await declare(client, owner, declaration(data, "image/png"))
    await upload(client, created, data)
    complete = f"/api/v1/media/{created['id']}/complete"
    assert_problem(await client.post(complete, headers=stranger), 404, "media_not_found")
    assert_problem(await client.get(f"/api/v1/media/{created['id']}/meta", headers=stranger), 404, "media_not_found")
    assert_problem(await client.get(f"/api/v1/media/{created['id']}"), 404, "media_not_found")  # pending
    assert len(stored_files(media_dir)) == 1  # the stranger's attempt touched nothing
    done = await client.post(f"/api/v1/media/{created['id']}/complete", headers=admin)
    assert done.status_code == 200
    assert_problem(await client.get(f"/api/v1/media/{uuid.uuid4()}"), 404, "media_not_found")


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"content_type": "application/x-msdownload"}, 422, "type_not_allowed"),
        ({"content_type": "audio/ogg"}, 422, "type_not_allowed"),  # a product photo must be an image
        ({"bytes": 15 * 1024 * 1024 + 1}, 422, "too_large"),
        ({"bytes": 0}, 400, "validation_failed"),
        ({"sha256": "xyz"}, 400, "validation_failed"),
        ({"purpose": "anything"}, 400, "validation_failed"),
        ({"extra": 1}, 400, "validation_failed"),
    ],
)
async def test_bad_declarations_are_refused_up_front(
    client: AsyncTestClient[Litestar],
    make_user: UserFactory,
    db: asyncpg.Connection,
    overrides: dict[str, Any],
    status: int,
    code: str,
) -> None:
    auth = await make_user()
    body = {**declaration(png_bytes(), "image/png"), **overrides}
    response = await client.post("/api/v1/media", json=body, headers=auth)
    assert_problem(response, status, code)
    assert await db.fetchval("select count(*) from media") == 0


async def test_declaring_needs_a_token(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/api/v1/media", json=declaration(png_bytes(), "image/png"))
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_server_side_bytes_and_urls(
    client: AsyncTestClient[Litestar], app: Litestar, make_user: UserFactory, db: asyncpg.Connection, media_dir: Path
) -> None:
    auth = await make_user("editor")
    owner = uuid.UUID(auth["X-User-Id"])
    store = app.state.media_store
    data = jpeg_bytes()
    media_id = await store_server_bytes(db, store, owner, "poi_photo", data, "image/jpeg")
    response = await client.get(f"/api/v1/media/{media_id}", headers=NO_GZIP)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/jpeg"

    pending = await declare(client, auth, declaration(png_bytes(), "image/png", "poi_photo"))
    urls = await media_urls(db, BASE, [media_id, uuid.UUID(pending["id"])])
    assert urls == {media_id: public_url(BASE, media_id)}

    before = stored_files(media_dir)
    with pytest.raises(InvalidInput) as refused:
        await store_server_bytes(db, store, owner, "audio_track", data, "audio/ogg")
    assert refused.value.code == "type_mismatch"
    assert stored_files(media_dir) == before


async def test_abandoned_uploads_are_swept(
    client: AsyncTestClient[Litestar], app: Litestar, make_user: UserFactory, db: asyncpg.Connection, media_dir: Path
) -> None:
    auth = await make_user()
    data = png_bytes()
    abandoned = await declare(client, auth, declaration(data, "image/png"))
    fresh = await declare(client, auth, declaration(data, "image/png"))
    await upload(client, abandoned, data)
    await upload(client, fresh, data)
    await db.execute(
        "update media set expires_at = now() - interval '2 hours' where id = $1", uuid.UUID(abandoned["id"])
    )
    assert await sweep_abandoned_uploads(db, app.state.media_store) == 1
    assert [p.name for p in stored_files(media_dir)] == [fresh["id"]]
    assert await db.fetchval("select count(*) from media") == 1


async def test_openapi_lists_the_media_operations(client: AsyncTestClient[Litestar]) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    operations = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    expected = {"createMedia", "uploadMediaBytes", "completeMedia", "getMediaMeta", "getMedia", "headMedia"}
    assert expected <= operations
