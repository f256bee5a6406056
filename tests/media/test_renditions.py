"""A photo's smaller copies are made once when its upload completes, stored beside it, and served for srcset
with a year-long immutable cache, from the local store and from S3 alike."""

import asyncio
import io
import uuid
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from service.media.pictures import img_html, media_pictures
from tests.support.app import UserFactory
from tests.support.photos import drawn_photo, upload_photo

NO_GZIP = {"Accept-Encoding": "identity"}
IMMUTABLE = "public, max-age=31536000, immutable"


async def stored_names(media_dir: Path, media_id: str) -> list[str]:
    return await asyncio.to_thread(lambda: sorted(p.name for p in media_dir.rglob(f"{media_id}*")))


def small_png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 40)).save(out, "PNG")
    return out.getvalue()


async def test_a_completed_photo_has_copies_at_each_narrower_width(
    client: AsyncTestClient[Litestar], make_user: UserFactory, media_dir: Path, db: asyncpg.Connection
) -> None:
    auth = await make_user("farmer")
    media = await upload_photo(client, auth, drawn_photo("Chè Tân Cương"))
    media_id = media["id"]

    for width, height in ((320, 240), (640, 480), (960, 720)):
        response = await client.get(f"/api/v1/media/{media_id}/w/{width}", headers=NO_GZIP)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "image/webp"
        assert response.headers["cache-control"] == IMMUTABLE
        with Image.open(io.BytesIO(response.content)) as copy:
            assert (copy.format, copy.size) == ("WEBP", (width, height))
    # the copies sit beside the original in the store
    names = await stored_names(media_dir, media_id)
    assert names == [f"{media_id}.jpg", f"{media_id}.w320.webp", f"{media_id}.w640.webp", f"{media_id}.w960.webp"]
    # a width nobody made, or absurd, is a plain 404
    for width in ("1280", "500", "0", "99999999999999"):
        missing = await client.get(f"/api/v1/media/{media_id}/w/{width}")
        assert missing.status_code == 404, width
        assert missing.headers["content-type"] == "application/problem+json"

    # completing again changes nothing
    again = await client.post(f"/api/v1/media/{media_id}/complete", headers=auth)
    assert again.status_code == 200
    assert await stored_names(media_dir, media_id) == names

    (picture,) = await media_pictures(db, "", [uuid.UUID(media_id)])
    assert (picture.width, picture.height) == (640, 480)
    assert picture.src == f"/api/v1/media/{media_id}/w/640"
    assert picture.srcset == (
        f"/api/v1/media/{media_id}/w/320 320w, /api/v1/media/{media_id}/w/640 640w, "
        f"/api/v1/media/{media_id}/w/960 960w, /api/v1/media/{media_id} 1280w"
    )
    html = img_html(picture, 'Chè "Tân Cương" <b>')
    assert 'width="640" height="480" loading="lazy"' in html
    assert "&quot;Tân Cương&quot; &lt;b&gt;" in html


async def test_a_small_photo_has_no_copies_and_is_drawn_at_its_own_size(
    client: AsyncTestClient[Litestar], make_user: UserFactory, db: asyncpg.Connection
) -> None:
    auth = await make_user("farmer")
    media = await upload_photo(client, auth, small_png(300, 200), content_type="image/png")
    assert (await client.get(f"/api/v1/media/{media['id']}/w/320")).status_code == 404
    (picture,) = await media_pictures(db, "", [uuid.UUID(media["id"])])
    assert (picture.src, picture.srcset, picture.width, picture.height) == (
        f"/api/v1/media/{media['id']}",
        "",
        300,
        200,
    )


async def test_s3_photos_get_copies_served_with_the_same_cache(
    s3_app: tuple[Litestar, AsyncTestClient[Litestar]], make_user: UserFactory
) -> None:
    _, client = s3_app
    auth = await make_user("farmer")
    media = await upload_photo(client, auth, drawn_photo("Nhãn lồng"))
    response = await client.get(f"/api/v1/media/{media['id']}/w/640", headers=NO_GZIP)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == IMMUTABLE
    with Image.open(io.BytesIO(response.content)) as copy:
        assert copy.size == (640, 480)
    etag = response.headers["etag"]
    cached = await client.get(f"/api/v1/media/{media['id']}/w/640", headers={**NO_GZIP, "If-None-Match": etag})
    assert cached.status_code == 304
