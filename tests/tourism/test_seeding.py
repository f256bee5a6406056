"""The seed is idempotent, with or without a media store."""

import hashlib
from pathlib import Path

import asyncpg

from service.core.db import init_connection
from service.settings import Settings
from service.tourism.seeding import seed_tourism
from tests.support.tourism import Client, files_under, local_store


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


async def test_seed_through_a_store_makes_media_items_once(
    db: asyncpg.Connection, settings: Settings, tmp_path: Path
) -> None:
    await init_connection(db)
    store = local_store(tmp_path / "store")
    first = await seed_tourism(db, store, settings)
    assert "40 audio files, 3 models and 24 drawn photos in the local media store" in first
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
    assert len(media_before) == 67  # 40 tracks + 3 GLB models + a drawn photo for each of 4 sites and 20 points
    assert len(files_before) == 67 + 24 * 3  # each photo with its 320, 640 and 960 px copies
    photos = await db.fetch("select photos from tourism_points where photos <> '{}'")
    assert len(photos) == 20
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
    assert await db.fetchval("select count(*) from media") == 67
