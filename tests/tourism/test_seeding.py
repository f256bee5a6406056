"""The seed is idempotent, with or without a media store."""

import hashlib
from pathlib import Path

import asyncpg

from service.core.db import init_connection
from service.settings import Settings
from service.tourism.geo import haversine_m
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


async def test_seeded_sites_stand_where_their_cited_sources_put_them(
    db: asyncpg.Connection, settings: Settings, client: Client
) -> None:
    """Each site cites at least two public sources for its position and stands within the distance they allow.

    The reference positions are the ones the seed's own `sources` cite (showcaves.com for the cave, Wikipedia
    for the lake, the city and Phú Đình); a site placed kilometres away from them (as the cave was) fails here.
    """
    await init_connection(db)
    await seed_tourism(db, None, settings)
    # slug: (lat, lon, how far the sources allow in metres, how far its points spread in metres)
    references = {
        "hang-phuong-hoang": (21.779442, 106.117839, 1_000, 1_000),  # showcaves.com; NR 1B km 42 (vietnamtourism.info)
        "ho-nui-coc": (21.57944, 105.69389, 5_000, 6_000),  # lake centre (Wikipedia); tourist area on the eastern shore
        "di-tich-915-gia-sang": (21.6, 105.85, 5_500, 500),  # city (Wikipedia); "4 km south of the roundabout"
        "atk-dinh-hoa": (21.8011, 105.5250, 3_000, 1_000),  # Phú Đình (Wikipedia); Tỉn Keo at the foot of the De pass
    }
    for slug, (lat, lon, allowed_m, spread_m) in references.items():
        site = (await client.get(f"/api/v1/sites/{slug}")).json()
        assert haversine_m(site["lat"], site["lon"], lat, lon) <= allowed_m, slug
        assert "2026-11-30" in site["coordinates_note"], slug
        assert len(site["sources"]) >= 2, slug
        points = (await client.get(f"/api/v1/sites/{slug}/points")).json()
        assert all(haversine_m(p["lat"], p["lon"], site["lat"], site["lon"]) <= spread_m for p in points), slug
