"""Track audio as media items: attaching an upload by media id, and serving tracks and GLB models from S3."""

import hashlib
import io
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image

from service.core.db import init_connection
from service.settings import Settings
from service.tourism.seeding import seed_tourism
from tests.support.app import UserFactory
from tests.support.tourism import OPUS_SAMPLE, SITE, Client, assert_problem

ASSETS = Path(__file__).resolve().parents[3] / "assets" / "3d"
BASE = "https://trace.example.vn"
CUES = [{"start": 0, "end": 1.5, "text": "Xin chào."}]


async def upload_media(
    client: Client, auth: dict[str, str], data: bytes, content_type: str, purpose: str, *, complete: bool = True
) -> str:
    """The real upload flow: declare, PUT the bytes to the URL handed out, complete."""
    body = {"purpose": purpose, "content_type": content_type, "bytes": len(data)}
    declared = await client.post(
        "/api/v1/media", json={**body, "sha256": hashlib.sha256(data).hexdigest()}, headers=auth
    )
    assert declared.status_code == 201, declared.text
    target: dict[str, Any] = declared.json()
    if target["upload_url"].startswith(BASE):
        put = await client.request(target["method"], target["upload_url"], content=data, headers=target["headers"])
    else:
        async with httpx.AsyncClient() as network:
            put = await network.request(target["method"], target["upload_url"], content=data, headers=target["headers"])
    assert put.status_code in (200, 204), put.text
    if complete:
        done = await client.post(f"/api/v1/media/{target['id']}/complete", headers=auth)
        assert done.status_code == 200, done.text
    media_id: str = target["id"]
    return media_id


def png() -> bytes:
    """A real (tiny) PNG: uploaded photos are decoded to strip their metadata, so magic bytes alone are refused."""
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 120, 40)).save(out, format="PNG")
    return out.getvalue()


async def test_editor_attaches_an_uploaded_recording_by_media_id(
    client: Client, editor: dict[str, str], draft_site: str, db: asyncpg.Connection
) -> None:
    data = OPUS_SAMPLE.read_bytes()  # a recording, uploaded through the media flow
    media_id = await upload_media(client, editor, data, "audio/ogg", "audio_track")
    put = await client.put(
        f"/api/v1/editor/sites/{draft_site}/points/p2/tracks/en",
        json={"media_id": media_id, "narrator": "Anh Tuấn", "origin": "human", "cues": CUES},
        headers=editor,
    )
    assert put.status_code == 200, put.text
    track = put.json()
    assert track["sha256"] == hashlib.sha256(data).hexdigest()
    assert track["bytes"] == len(data)
    assert track["mime"] == "audio/ogg"
    assert track["machine_generated"] is False
    assert 1.5 < track["duration_s"] < 60  # measured from the stored Ogg pages, not sent by the client
    assert await db.fetchval(
        "select t.media_id from tourism_tracks t join tourism_points p on p.id = t.point_id "
        "where p.slug = 'p2' and t.lang = 'en'"
    ) == uuid.UUID(media_id)

    await client.post(f"/api/v1/editor/sites/{draft_site}/publish", headers=editor)
    path = track["url"].removeprefix(BASE)
    whole = await client.get(path)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["etag"] == f'"{track["sha256"]}"'
    part = await client.get(path, headers={"Range": "bytes=4-9"})
    assert part.status_code == 206
    assert part.content == data[4:10]
    head = await client.head(path)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data))
    assert head.content == b""
    assert (await client.get(path, headers={"If-None-Match": whole.headers["etag"]})).status_code == 304


async def test_media_that_cannot_be_a_track_is_refused(
    client: Client, editor: dict[str, str], make_user: UserFactory, draft_site: str, db: asyncpg.Connection
) -> None:
    url = f"/api/v1/editor/sites/{draft_site}/points/p2/tracks/en"
    before = await db.fetchval("select count(*) from tourism_tracks")
    audio = OPUS_SAMPLE.read_bytes()

    other_editor = await make_user("editor")
    theirs = await upload_media(client, other_editor, audio, "audio/ogg", "audio_track")
    assert_problem(await client.put(url, json={"media_id": theirs}, headers=editor), 404, "media_not_found")
    unknown = str(uuid.uuid4())
    assert_problem(await client.put(url, json={"media_id": unknown}, headers=editor), 404, "media_not_found")
    pending = await upload_media(client, editor, audio, "audio/ogg", "audio_track", complete=False)
    assert_problem(await client.put(url, json={"media_id": pending}, headers=editor), 409, "media_not_ready")
    photo = await upload_media(client, editor, png(), "image/png", "poi_photo")
    assert_problem(await client.put(url, json={"media_id": photo}, headers=editor), 422, "not_audio")
    mine = await upload_media(client, editor, audio, "audio/ogg", "audio_track")
    both = {"media_id": mine, "audio_base64": "T2dnUw=="}
    assert_problem(await client.put(url, json=both, headers=editor), 422, "audio_source")
    assert_problem(await client.put(url, json={"narrator": "x"}, headers=editor), 422, "audio_source")
    late_cue = {"media_id": mine, "cues": [{"start": 0, "end": 999, "text": "x"}]}
    assert_problem(await client.put(url, json=late_cue, headers=editor), 422, "invalid_cues")
    assert await db.fetchval("select count(*) from tourism_tracks") == before

    admin = await make_user("admin")
    assert (await client.put(url, json={"media_id": theirs}, headers=admin)).status_code == 200


async def test_s3_tracks_and_models_redirect_to_presigned_urls(
    s3_app: tuple[Litestar, AsyncTestClient[Litestar]], s3_settings: Settings, db: asyncpg.Connection
) -> None:
    app, client = s3_app
    await init_connection(db)
    summary = await seed_tourism(db, app.state.media_store, s3_settings)
    assert "in the s3 media store" in summary
    site = (await client.get("/api/v1/sites/ho-nui-coc?lang=vi")).json()
    point = site["points"][0]
    track = point["tracks"][0]
    shipped = OPUS_SAMPLE.parent / f"{point['slug']}.{track['lang']}.opus"

    async with httpx.AsyncClient() as network:
        redirect = await client.get(track["url"].removeprefix(BASE), follow_redirects=False)
        assert redirect.status_code == 307
        assert redirect.headers["cache-control"].startswith("private")
        assert "X-Amz-Signature=" in redirect.headers["location"]
        fetched = await network.get(redirect.headers["location"])
        assert fetched.status_code == 200
        assert fetched.content == shipped.read_bytes()
        assert hashlib.sha256(fetched.content).hexdigest() == track["sha256"]
        assert fetched.headers["content-type"] == "audio/ogg"
        ranged = await network.get(redirect.headers["location"], headers={"Range": "bytes=0-3"})
        assert ranged.status_code == 206
        assert ranged.content == b"OggS"

        model = await client.get("/api/v1/models/stele.glb", follow_redirects=False)
        assert model.status_code == 307
        glb = await network.get(model.headers["location"])
        assert glb.status_code == 200
        assert glb.content == (ASSETS / "stele.glb").read_bytes()
        assert glb.headers["content-type"] == "model/gltf-binary"


async def test_s3_upload_attached_as_a_track(
    s3_app: tuple[Litestar, AsyncTestClient[Litestar]], make_user: UserFactory
) -> None:
    _, client = s3_app
    editor = await make_user("editor")
    response = await client.post(
        "/api/v1/editor/sites",
        json={"slug": SITE, "texts": {"vi": {"name": "Thử"}}, "lat": 21.564, "lon": 105.722},
        headers=editor,
    )
    assert response.status_code == 201, response.text
    point = {"slug": "p1", "lat": 21.564, "lon": 105.722, "radius_m": 30, "texts": {"vi": {"title": "Một"}}}
    assert (await client.post(f"/api/v1/editor/sites/{SITE}/points", json=point, headers=editor)).status_code == 201
    data = OPUS_SAMPLE.read_bytes()
    media_id = await upload_media(client, editor, data, "audio/ogg", "audio_track")
    put = await client.put(
        f"/api/v1/editor/sites/{SITE}/points/p1/tracks/vi", json={"media_id": media_id, "cues": CUES}, headers=editor
    )
    assert put.status_code == 200, put.text
    assert put.json()["duration_s"] > 1.5  # measured with two range reads from the bucket
    await client.post(f"/api/v1/editor/sites/{SITE}/publish", headers=editor)
    redirect = await client.get(put.json()["url"].removeprefix(BASE), follow_redirects=False)
    assert redirect.status_code == 307
    async with httpx.AsyncClient() as network:
        assert (await network.get(redirect.headers["location"])).content == data
