"""Track captions (WebVTT), track audio with Range, GLB models with ETag, and uploads that are not audio."""

import base64
import hashlib
import struct
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.tourism import OPUS_SAMPLE, SITE, Client, assert_problem
from tests.support.webvtt import check_webvtt

ASSETS = Path(__file__).resolve().parents[3] / "assets" / "3d"


async def _first_track(client: Client, site: str) -> dict[str, Any]:
    detail = (await client.get(f"/api/v1/sites/{site}")).json()
    track: dict[str, Any] = detail["points"][0]["tracks"][0]
    return track


async def test_captions_are_valid_webvtt(client: Client, published_site: str) -> None:
    track = await _first_track(client, published_site)
    response = await client.get(track["vtt_url"].removeprefix("https://trace.example.vn"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/vtt; charset=utf-8"
    cues = check_webvtt(response.text)
    assert [c[2] for c in cues] == ["Xin chào.", "Mời vào."]


def test_the_checker_rejects_bad_files() -> None:
    for bad in (
        "WEBVT\n\n00:00.000 --> 00:01.000\nx\n",
        "WEBVTT\n\n00:02.000 --> 00:01.000\nx\n",
        "WEBVTT\n\n00:05.000 --> 00:06.000\nx\n\n00:01.000 --> 00:02.000\ny\n",
        "WEBVTT\n\n0:00.000 --> 00:01.000\nx\n",
    ):
        with pytest.raises(AssertionError):
            check_webvtt(bad)


async def test_audio_supports_range_and_etag(client: Client, published_site: str) -> None:
    track = await _first_track(client, published_site)
    path = track["url"].removeprefix("https://trace.example.vn")
    full = await client.get(path)
    assert full.status_code == 200
    assert full.headers["content-type"] == "audio/ogg"
    assert full.content == OPUS_SAMPLE.read_bytes()
    assert hashlib.sha256(full.content).hexdigest() == track["sha256"]
    part = await client.get(path, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 0-99/{len(full.content)}"
    assert part.content == full.content[:100]
    tail = await client.get(path, headers={"Range": "bytes=-10"})
    assert tail.content == full.content[-10:]
    again = await client.get(path, headers={"If-None-Match": full.headers["etag"]})
    assert again.status_code == 304
    assert_problem(await client.get(path, headers={"Range": "bytes=999999999-"}), 416, "range_not_satisfiable")


async def test_duration_is_read_from_the_ogg_stream(client: Client, published_site: str) -> None:
    track = await _first_track(client, published_site)
    data = OPUS_SAMPLE.read_bytes()
    last = data.rfind(b"OggS")
    granule = struct.unpack_from("<q", data, last + 6)[0]
    assert abs(track["duration_s"] - (granule - 312) / 48000) < 0.05


async def test_seeded_tracks_are_served_from_the_shipped_files(client: Client, seeded: str) -> None:
    detail = (await client.get("/api/v1/sites/ho-nui-coc?lang=en")).json()
    track = detail["points"][0]["tracks"][0]
    assert track["machine_generated"] is True
    assert "Machine-generated" in track["label"]
    audio = await client.get(track["url"].removeprefix("https://trace.example.vn"), headers={"Range": "bytes=0-3"})
    assert audio.status_code == 206
    assert audio.content == b"OggS"
    vtt = await client.get(track["vtt_url"].removeprefix("https://trace.example.vn"))
    check_webvtt(vtt.text)


async def test_upload_that_is_not_audio_is_refused(
    client: Client, editor: dict[str, str], draft_site: str, db: asyncpg.Connection
) -> None:
    before = await db.fetchval("select count(*) from tourism_tracks")
    url = f"/api/v1/editor/sites/{SITE}/points/p2/tracks/en"
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
    assert_problem(await client.put(url, json={"audio_base64": png}, headers=editor), 422, "not_audio")
    assert_problem(await client.put(url, json={"audio_base64": "%%%not base64"}, headers=editor), 422, "invalid_base64")
    bad_cues = {
        "audio_base64": base64.b64encode(OPUS_SAMPLE.read_bytes()).decode(),
        "cues": [{"start": 3, "end": 1, "text": "x"}],
    }
    assert_problem(await client.put(url, json=bad_cues, headers=editor), 422, "invalid_cues")
    unknown_lang = f"/api/v1/editor/sites/{SITE}/points/p2/tracks/xx"
    assert_problem(
        await client.put(unknown_lang, json={"audio_base64": bad_cues["audio_base64"]}, headers=editor),
        422,
        "unknown_language",
    )
    assert await db.fetchval("select count(*) from tourism_tracks") == before


async def test_unknown_track_ids(client: Client, published_site: str) -> None:
    assert_problem(await client.get("/api/v1/tracks/not-a-uuid.vtt"), 404, "track_not_found")
    assert_problem(await client.get("/api/v1/tracks/00000000-0000-0000-0000-000000000000.vtt"), 404, "track_not_found")


async def test_models_are_listed_and_served(client: Client) -> None:
    listing = (await client.get("/api/v1/models?lang=en")).json()
    slugs = {m["slug"] for m in listing}
    assert {"stele", "stilt-house", "tea-leaf"} <= slugs
    stele = next(m for m in listing if m["slug"] == "stele")
    response = await client.get("/api/v1/models/stele.glb")
    assert response.status_code == 200
    assert response.headers["content-type"] == "model/gltf-binary"
    assert response.content == (ASSETS / "stele.glb").read_bytes()
    assert response.content[:4] == b"glTF"
    assert len(response.content) == stele["bytes"]
    assert (
        await client.get("/api/v1/models/stele.glb", headers={"If-None-Match": response.headers["etag"]})
    ).status_code == 304
    part = await client.get("/api/v1/models/stele.glb", headers={"Range": "bytes=0-11"})
    assert part.status_code == 206
    assert part.content == response.content[:12]
    assert_problem(await client.get("/api/v1/models/pagoda.glb"), 404, "model_not_found")
