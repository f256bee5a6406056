"""Offline packs revalidate with 304 and change on edits; the seed is idempotent; narration fills gaps."""

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import AsyncTestClient

from service.auth.guards import build_jwt_auth
from service.core.db import database_lifespan, init_connection, provide_connection
from service.core.errors import EXCEPTION_HANDLERS, InvalidInput
from service.settings import Settings
from service.storage import LocalStore
from service.tourism import routes
from service.tourism.crosslinks import ProducerRef, ProductHit
from service.tourism.narrate import narrate_site
from service.tourism.seed import seed_tourism
from tests.tourism.conftest import SITE, Client, assert_problem

BASE = "https://trace.example.vn"


async def test_offline_manifest_etag_304_and_change(
    client: Client, editor: dict[str, str], published_site: str
) -> None:
    url = f"/api/v1/sites/{published_site}/offline?lang=vi"
    first = await client.get(url)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    manifest = first.json()
    assert manifest["etag"] == etag
    assert manifest["total_bytes"] == sum(f["bytes"] for f in manifest["files"])
    kinds = {f["kind"] for f in manifest["files"]}
    assert kinds == {"audio", "captions", "model"}
    for item in manifest["files"]:
        body = (await client.get(item["url"].removeprefix(BASE))).content
        assert len(body) == item["bytes"], item["url"]
        assert hashlib.sha256(body).hexdigest() == item["sha256"], item["url"]
    p3 = next(p for p in manifest["content"]["points"] if p["slug"] == "p3")
    assert [t["lang"] for t in p3["tracks"]] == ["en"]  # fallback when vi is missing

    revalidated = await client.get(url, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.headers["etag"] == etag
    assert revalidated.content == b""
    assert (await client.get(f"/api/v1/sites/{published_site}/offline?lang=en")).headers["etag"] != etag

    edit = await client.patch(f"/api/v1/editor/sites/{published_site}/points/p2", json={"radius_m": 45}, headers=editor)
    assert edit.status_code == 200, edit.text
    after = await client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert next(p for p in after.json()["content"]["points"] if p["slug"] == "p2")["radius_m"] == 45


async def test_offline_bad_input(client: Client, published_site: str) -> None:
    assert_problem(await client.get(f"/api/v1/sites/{published_site}/offline?lang=xx"), 422, "unknown_language")
    assert_problem(
        await client.get("/api/v1/sites/khong-co/offline", headers={"If-None-Match": '"x"'}), 404, "site_not_found"
    )


async def test_seed_twice_changes_nothing(db: asyncpg.Connection, settings: Settings, client: Client) -> None:
    await init_connection(db)
    first = await seed_tourism(db, None, settings)
    versions = await db.fetch("select slug, version, updated_at from tourism_sites order by slug")
    counts = await db.fetchrow(
        "select (select count(*) from tourism_points), (select count(*) from tourism_tracks), "
        "(select count(*) from tourism_tours), (select count(*) from tourism_tour_stops)"
    )
    second = await seed_tourism(db, None, settings)
    assert second == first
    assert await db.fetch("select slug, version, updated_at from tourism_sites order by slug") == versions
    assert counts is not None
    assert tuple(counts) == (20, 40, 5, 20)
    sites = (await client.get("/api/v1/sites")).json()
    assert {s["slug"] for s in sites} == {"atk-dinh-hoa", "di-tich-915-gia-sang", "ho-nui-coc", "hang-phuong-hoang"}
    assert all(s["coordinates_status"] == "needs_checking" for s in sites)


def local_store(root: Path) -> LocalStore:
    return LocalStore(root, BASE, "test-secret-0123456789-0123456789-abcdef")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


async def test_seed_through_a_store_makes_media_items_once(
    db: asyncpg.Connection, settings: Settings, tmp_path: Path
) -> None:
    await init_connection(db)
    store = local_store(tmp_path / "store")
    first = await seed_tourism(db, store, settings)
    assert "40 audio files and 3 models in the local media store" in first
    rows = await db.fetch(
        "select t.sha256, t.audio_ref, m.storage_key, m.sha256 as media_sha256, m.status, m.purpose "
        "from tourism_tracks t join media m on m.id = t.media_id"
    )
    assert len(rows) == 40
    assert all(r["audio_ref"] is None and r["status"] == "ready" and r["purpose"] == "audio_track" for r in rows)
    for row in rows:
        assert row["media_sha256"] == row["sha256"]
        path = store.path_for(row["storage_key"])
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]
    media_before = await db.fetch("select id, storage_key from media order by id")
    files_before = files_under(tmp_path / "store")
    assert len(media_before) == len(files_before) == 43  # 40 tracks + 3 GLB models
    versions = await db.fetch("select slug, version from tourism_sites order by slug")

    assert await seed_tourism(db, store, settings) == first
    assert await db.fetch("select id, storage_key from media order by id") == media_before
    assert files_under(tmp_path / "store") == files_before
    assert await db.fetch("select slug, version from tourism_sites order by slug") == versions

    # A wiped media directory is filled again under the recorded keys, still without new rows.
    lost = store.path_for(media_before[0]["storage_key"])
    lost.unlink()
    await seed_tourism(db, store, settings)
    assert lost.is_file()
    assert await db.fetchval("select count(*) from media") == 43


async def test_narrate_fills_missing_tracks_only(
    client: Client, editor: dict[str, str], draft_site: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    await init_connection(db)
    store = local_store(tmp_path / "media")
    seen: list[tuple[int, int, str]] = []
    made = await narrate_site(db, store, SITE, "en", lambda done, total, label: seen.append((done, total, label)))
    assert made == 1  # p2 has English text but only a vi track; p1 and p3 already have English
    assert seen[-1] == (1, 1, "p2")
    row = await db.fetchrow(
        "select t.origin, t.mime, t.duration_s, t.cues, t.narrator from tourism_tracks t "
        "join tourism_points p on p.id = t.point_id where p.slug = 'p2' and t.lang = 'en'"
    )
    assert row is not None
    assert row["origin"] == "machine"
    assert row["mime"] == "audio/ogg"
    assert row["duration_s"] > 0.2
    assert row["cues"][0]["text"] == "Hi."
    media = await db.fetchrow(
        "select m.purpose, m.content_type, m.storage_key, u.is_active from tourism_tracks t "
        "join tourism_points p on p.id = t.point_id join media m on m.id = t.media_id "
        "join users u on u.id = m.owner_id "
        "where p.slug = 'p2' and t.lang = 'en'"
    )
    assert media is not None
    assert (media["purpose"], media["content_type"], media["is_active"]) == ("audio_track", "audio/ogg", False)
    assert store.path_for(media["storage_key"]).read_bytes().startswith(b"OggS")
    assert await narrate_site(db, store, SITE, "en", None) == 0
    with pytest.raises(InvalidInput):
        await narrate_site(db, store, SITE, "fr", None)


class FakeNearby:
    """Stands in for traceability's public lookup: another domain, not the database."""

    async def near(self, lat: float, lon: float, radius_km: float, lang: str, limit: int) -> list[ProducerRef]:
        return [
            ProducerRef(kind="producer", name="HTX Chè Tân Cương", url="https://trace.example.vn/p/1", distance_m=3200)
        ]


class FakeProducts:
    async def search(self, q: str, lang: str, limit: int) -> list[ProductHit]:
        return [ProductHit(name="Chè Tân Cương", url="https://trace.example.vn/01/089", score=0.5)]


async def test_cross_links_use_the_wired_protocols(settings: Settings, published_site: str) -> None:
    jwt_auth = build_jwt_auth(settings)

    @asynccontextmanager
    async def state_lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.jwt_auth = jwt_auth
        yield

    app = Litestar(
        route_handlers=routes.route_handlers,
        dependencies={
            "db": Provide(provide_connection),
            "nearby_producers": Provide(lambda: FakeNearby(), sync_to_thread=False),
            "product_search": Provide(lambda: FakeProducts(), sync_to_thread=False),
        },
        lifespan=[state_lifespan, database_lifespan],
        on_app_init=[jwt_auth.on_app_init],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    async with AsyncTestClient(app=app, base_url=BASE) as wired:
        site = (await wired.get(f"/api/v1/sites/{published_site}")).json()
        assert site["nearby_producers"][0]["name"] == "HTX Chè Tân Cương"
        hits = (await wired.get("/api/v1/search", params={"q": "che tan cuong"})).json()["results"]
        assert any(hit["kind"] == "product" for hit in hits)
