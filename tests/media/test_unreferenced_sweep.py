"""Ready media that nothing references are swept after a grace period; anything referenced stays, of every kind."""

import hashlib
import io
import json
import uuid
from pathlib import Path

import asyncpg
from PIL import Image

from service.jobs import JobContext, JobRunner
from service.media.service import store_server_bytes, sweep_unreferenced_media
from service.schedule import scheduled_jobs
from service.settings import Settings
from service.storage import LocalStore, MediaStore
from service.tourism.media.assets import MODELS_DIR
from tests.support.factories import stored_batch, stored_organization
from tests.support.tourism import OPUS_SAMPLE

WEEK = 7 * 86_400.0
SHIPPED_MODEL = MODELS_DIR / "stele.glb"


def local_store(settings: Settings, media_dir: Path) -> LocalStore:
    return LocalStore(media_dir, settings.base_url, settings.jwt_secret, settings.upload_url_ttl_seconds)


def png(seed: int, width: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, width * 3 // 4), (seed % 256, 40, 90)).save(out, format="PNG")
    return out.getvalue()


async def ready(
    db: asyncpg.Connection, store: MediaStore, owner: uuid.UUID, purpose: str, n: int, width: int = 8
) -> uuid.UUID:
    """A ready item completed eight days ago (past the one-week grace); photos wider than 320 px get copies."""
    if purpose == "audio_track":
        data, mime = OPUS_SAMPLE.read_bytes(), "audio/ogg"
    elif purpose == "model_3d":
        data, mime = SHIPPED_MODEL.read_bytes(), "model/gltf-binary"
    else:
        data, mime = png(n, width), "image/png"
    media_id = await store_server_bytes(db, store, owner, purpose, data, mime)  # type: ignore[arg-type]
    await db.execute("update media set completed_at = now() - interval '8 days' where id = $1", media_id)
    return media_id


async def copies_of(db: asyncpg.Connection, media_id: uuid.UUID) -> list[str]:
    rows = await db.fetch("select storage_key from media_renditions where media_id = $1", media_id)
    return [r["storage_key"] for r in rows]


async def key_of(db: asyncpg.Connection, media_id: uuid.UUID) -> str:
    key: str = await db.fetchval("select storage_key from media where id = $1", media_id)
    return key


async def referenced_everywhere(db: asyncpg.Connection, store: MediaStore, owner: uuid.UUID) -> dict[str, uuid.UUID]:
    """One old ready item per kind of reference the schema has (migration 0260's view lists them)."""
    org = await stored_organization(db)
    batch = await stored_batch(db, org)
    items = {
        "product_photo": await ready(db, store, owner, "product_photo", 1),
        "batch_photo": await ready(db, store, owner, "batch_photo", 2),
        "farm_photo": await ready(db, store, owner, "product_photo", 13, width=800),
        "event_photo": await ready(db, store, owner, "batch_photo", 3),
        "inspection_photo": await ready(db, store, owner, "inspection_photo", 4),
        "certificate": await ready(db, store, owner, "certificate", 5),
        "site_photo": await ready(db, store, owner, "poi_photo", 6),
        "point_photo": await ready(db, store, owner, "poi_photo", 7),
        "track_audio": await ready(db, store, owner, "audio_track", 8),
        "shipped_model": await ready(db, store, owner, "model_3d", 9),
    }
    await db.execute("update products set photos = $2 where id = $1", batch["product_id"], [items["product_photo"]])
    await db.execute("update batches set photos = $2 where id = $1", batch["id"], [items["batch_photo"]])
    await db.execute("update organizations set photos = $2 where id = $1", org, [items["farm_photo"]])
    for seq, key in ((10, "event_photo"), (11, "inspection_photo")):
        await db.execute(
            """
            insert into events (batch_id, seq, event_type, action, biz_step, event_time, details, prev_hash, hash)
            values ($1, $2, 'ObjectEvent', 'OBSERVE', 'inspecting', now(), $3::jsonb, repeat('0', 64), repeat('1', 64))
            """,
            batch["id"],
            seq,
            json.dumps({"result": "conformant", "photos": [str(items[key])]}),
        )
    await db.execute(
        "update certifications set document_media_id = $2 where product_id = $1",
        batch["product_id"],
        items["certificate"],
    )
    site = await db.fetchval(
        "insert into tourism_sites (slug, texts, lat, lon, photos) values ('den-thac', '{}', 21.6, 105.7, $1) "
        "returning id",
        [items["site_photo"]],
    )
    point = await db.fetchval(
        "insert into tourism_points (site_id, slug, lat, lon, radius_m, texts, photos) "
        "values ($1, 'cong', 21.6, 105.7, 30, '{}', $2) returning id",
        site,
        [items["point_photo"]],
    )
    audio = OPUS_SAMPLE.read_bytes()
    await db.execute(
        "insert into tourism_tracks (point_id, lang, media_id, duration_s, bytes, sha256, mime, origin) "
        "values ($1, 'vi', $2, 3, $3, $4, 'audio/ogg', 'human')",
        point,
        items["track_audio"],
        len(audio),
        hashlib.sha256(audio).hexdigest(),
    )
    # a track written before the media store: it names the object key, not the id
    items["track_audio_key"] = await ready(db, store, owner, "audio_track", 12)
    other_point = await db.fetchval(
        "insert into tourism_points (site_id, slug, lat, lon, radius_m, texts) "
        "values ($1, 'san', 21.6, 105.7, 30, '{}') returning id",
        site,
    )
    await db.execute(
        "insert into tourism_tracks (point_id, lang, audio_ref, duration_s, bytes, sha256, mime, origin) "
        "values ($1, 'vi', $2, 3, $3, $4, 'audio/ogg', 'human')",
        other_point,
        "store:" + await key_of(db, items["track_audio_key"]),
        len(audio),
        hashlib.sha256(audio).hexdigest(),
    )
    return items


async def test_unreferenced_old_media_go_and_referenced_or_recent_ones_stay(
    db: asyncpg.Connection, settings: Settings, media_dir: Path
) -> None:
    store = local_store(settings, media_dir)
    owner = await db.fetchval(
        "insert into users (phone, password_hash, full_name, role) values ('+84912000222', '!', 'Biên tập', 'editor') "
        "returning id"
    )
    kept = await referenced_everywhere(db, store, owner)
    old_photo = await ready(db, store, owner, "product_photo", 20, width=800)  # with smaller copies
    old_copies = [
        r["storage_key"]
        for r in await db.fetch("select storage_key from media_renditions where media_id = $1", old_photo)
    ]
    kept_copies = [
        r["storage_key"]
        for r in await db.fetch("select storage_key from media_renditions where media_id = $1", kept["farm_photo"])
    ]
    assert old_copies and kept_copies
    old_model = await ready(db, store, owner, "model_3d", 21)  # not a shipped file's digest once we change a byte
    await db.execute("update media set sha256 = repeat('a', 64) where id = $1", old_model)
    old_audio = await ready(db, store, owner, "audio_track", 22)
    recent = await store_server_bytes(db, store, owner, "product_photo", png(23), "image/png")  # about to be attached
    swept_keys = [await key_of(db, m) for m in (old_photo, old_model, old_audio)]
    kept_keys = {kind: await key_of(db, m) for kind, m in kept.items()}
    shipped = frozenset({hashlib.sha256(SHIPPED_MODEL.read_bytes()).hexdigest()})

    assert await sweep_unreferenced_media(db, store, grace_seconds=WEEK, keep_sha256=shipped) == 3

    remaining = {r["id"] for r in await db.fetch("select id from media")}
    assert remaining == {*kept.values(), recent}
    for kind, key in kept_keys.items():
        assert await store.stat(key) is not None, f"{kind} lost its bytes"
    for key in swept_keys:
        assert await store.stat(key) is None
    for key in old_copies:  # the swept photo's copies go with it; a farm photo's copies stay
        assert await store.stat(key) is None
    for key in kept_copies:
        assert await store.stat(key) is not None
    assert await sweep_unreferenced_media(db, store, grace_seconds=WEEK, keep_sha256=shipped) == 0

    # once a reference goes, so does the item (after the grace)
    await db.execute("update products set photos = '{}'")
    assert await sweep_unreferenced_media(db, store, grace_seconds=WEEK, keep_sha256=shipped) == 1
    assert await db.fetchval("select count(*) from media where id = $1", kept["product_photo"]) == 0


async def test_the_scheduled_job_keeps_the_shipped_models(
    db: asyncpg.Connection, settings: Settings, media_dir: Path
) -> None:
    store = local_store(settings, media_dir)
    owner = await db.fetchval(
        "insert into users (phone, password_hash, full_name, role) values ('+84912000333', '!', 'Biên tập', 'editor') "
        "returning id"
    )
    model = await ready(db, store, owner, "model_3d", 1)
    photo = await ready(db, store, owner, "product_photo", 2)
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        runner = JobRunner(JobContext(pool, store, settings), scheduled_jobs(settings))
        assert "media.sweep_unreferenced" in await runner.step()
        await runner.close()
    finally:
        await pool.close()
    remaining = {r["id"] for r in await db.fetch("select id from media")}
    assert model in remaining and photo not in remaining
