"""Load the demo heritage sites (service/tourism/seed/sites.json) and their narration; idempotent.

Running it twice changes nothing: every write skips unchanged rows, so site versions (and offline
ETags) only move when the seed file itself changed.
"""

import asyncio
import hashlib
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from service.media.drawn import drawn_photo
from service.settings import Settings
from service.storage import MediaStore
from service.tourism.editing import queries as writes
from service.tourism.editing import service as editing
from service.tourism.media.assets import GLB_MIME, MODELS_DIR, model_assets
from service.tourism.media.stored_media import SEED_DIR, ensure_stored, service_account
from service.tourism.sites import queries as reads
from service.tourism.sites.schemas import LineString, PointRead, SiteRead, Source, TourRead, TourText

SEED_FILE = SEED_DIR / "sites.json"


def _ranking(text: dict[str, str] | None) -> str:
    """The ranking enum from the Vietnamese wording of the seed."""
    vi = (text or {}).get("vi", "").lower()
    if "quốc gia đặc biệt" in vi:
        return "special_national"
    if "quốc gia" in vi:
        return "national"
    if "cấp tỉnh" in vi or "tỉnh" in vi:
        return "provincial"
    return "unranked"


def _site_struct(raw: dict[str, Any], existing: SiteRead | None, photos: list[uuid.UUID]) -> SiteRead:
    langs = sorted(raw["name"])
    texts: dict[str, Any] = {}
    for lang in langs:
        texts[lang] = {
            "name": raw["name"][lang],
            "summary": raw.get("summary", {}).get(lang, ""),
            "history": raw.get("history", {}).get(lang, ""),
            "address": raw.get("address", {}).get(lang, ""),
            "opening_hours": raw.get("opening_hours", {}).get(lang, ""),
            "tickets": raw.get("tickets", {}).get(lang, ""),
            "ranking_note": (raw.get("heritage_ranking") or {}).get(lang, ""),
        }
    status_text = str(raw.get("coordinates_status", ""))
    commune = raw.get("commune") or {}
    return msgspec.convert(
        {
            "id": existing.id if existing else uuid.uuid4(),
            "slug": raw["slug"],
            "status": existing.status if existing else "draft",
            "version": existing.version if existing else 1,
            "texts": texts,
            "lat": raw["lat"],
            "lon": raw["lon"],
            "commune_code": f"{int(commune['code']):05d}" if commune.get("code") is not None else None,
            "ranking": _ranking(raw.get("heritage_ranking")),
            "photos": photos,
            "sources": [msgspec.convert(s, Source) for s in raw.get("sources", [])],
            "coordinates_status": "verified" if status_text.startswith("verified") else "needs_checking",
            "coordinates_note": status_text,
            "needs_check": list(raw.get("needs_check", [])),
            "created_at": existing.created_at if existing else "2025-01-01T00:00:00Z",
            "updated_at": existing.updated_at if existing else "2025-01-01T00:00:00Z",
            "published_at": existing.published_at if existing else None,
        },
        SiteRead,
    )


def _point_struct(raw: dict[str, Any], index: int, photos: list[uuid.UUID]) -> PointRead:
    return msgspec.convert(
        {
            "id": uuid.uuid4(),
            "slug": raw["slug"],
            "ord": int(raw.get("order", index + 1)),
            "lat": raw["lat"],
            "lon": raw["lon"],
            "radius_m": raw["radius_m"],
            "polygon": raw.get("polygon"),
            "dwell_seconds": raw.get("dwell_seconds", 0),
            "cooldown_seconds": raw.get("cooldown_seconds", 0),
            "play_once": raw.get("play_once", False),
            "photos": photos,
            "model": raw.get("model"),
            "texts": {
                lang: {"title": raw["name"][lang], "text": raw.get("text", {}).get(lang, "")} for lang in raw["name"]
            },
        },
        PointRead,
    )


def _tour_struct(raw: dict[str, Any]) -> TourRead:
    return TourRead(
        id=uuid.uuid4(),
        slug=raw["slug"],
        mode=raw["mode"],
        playback=raw.get("playback", "sequential"),
        stops=list(raw["stops"]),
        route=LineString(type="LineString", coordinates=raw["route"]),
        distance_m=0,
        duration_s=0,
        texts=msgspec.convert(
            {
                lang: {"title": title, "description": raw.get("description", {}).get(lang, "")}
                for lang, title in raw["name"].items()
            },
            dict[str, TourText],
        ),
    )


class SeedAudio(msgspec.Struct, frozen=True, kw_only=True):
    """One shipped narration file and its sidecar (cues, duration), made by tools/make_seed_audio.py."""

    site: str
    poi: str
    lang: str
    audio: bytes
    sha256: str
    mime: str
    duration_s: float
    cues: list[dict[str, Any]]


def _read_seed_audio(seed: dict[str, Any]) -> dict[tuple[str, str, str], SeedAudio]:
    """Every shipped audio file of the seed, keyed by (site, point, lang); blocking file reads."""
    found: dict[tuple[str, str, str], SeedAudio] = {}
    for site in seed["sites"]:
        for poi in site["pois"]:
            for lang in sorted(poi["name"]):
                audio = SEED_DIR / "audio" / site["slug"] / f"{poi['slug']}.{lang}.opus"
                cues = SEED_DIR / "audio" / site["slug"] / f"{poi['slug']}.{lang}.cues.json"
                if not (audio.is_file() and cues.is_file()):
                    continue
                data = audio.read_bytes()
                sidecar = msgspec.json.decode(cues.read_bytes())
                found[(site["slug"], poi["slug"], lang)] = SeedAudio(
                    site=site["slug"],
                    poi=poi["slug"],
                    lang=lang,
                    audio=data,
                    sha256=hashlib.sha256(data).hexdigest(),
                    mime=sidecar["mime"],
                    duration_s=sidecar["duration_s"],
                    cues=sidecar["cues"],
                )
    return found


async def _store_seed_media(
    conn: asyncpg.Connection, store: MediaStore, audio: dict[tuple[str, str, str], SeedAudio]
) -> tuple[dict[str, uuid.UUID], int]:
    """Seed audio and the shipped GLB models into the media store, reused by sha256; returns (audio ids, models).

    This runs before (outside) the content transaction: stored media are committed, so a failed seed
    leaves nothing orphaned and the next run finds and reuses them.
    """
    owner_id = await service_account(conn)
    by_sha: dict[str, uuid.UUID] = {}
    for item in audio.values():
        if item.sha256 not in by_sha:
            by_sha[item.sha256] = await ensure_stored(conn, store, owner_id, "audio_track", item.audio, item.mime)
    models = 0
    for asset in (await asyncio.to_thread(model_assets)).values():
        glb = await asyncio.to_thread((MODELS_DIR / asset.file).read_bytes)
        await ensure_stored(conn, store, owner_id, "model_3d", glb, GLB_MIME)
        models += 1
    return by_sha, models


ILLUSTRATION = "Ảnh minh hoạ, vẽ tự động / drawn illustration"


async def _store_seed_photos(conn: asyncpg.Connection, store: MediaStore, seed: dict[str, Any]) -> dict[str, uuid.UUID]:
    """A drawn photo per site and point ("site" or "site/point" -> media id): the repository ships no photographs,
    so each is an illustration saying so, stored like an upload (with its srcset copies), reused by sha256."""
    owner_id = await service_account(conn)
    found: dict[str, uuid.UUID] = {}
    for raw in seed["sites"]:
        items = [(raw["slug"], raw["name"]["vi"])]
        items += [(f"{raw['slug']}/{poi['slug']}", poi["name"]["vi"]) for poi in raw["pois"]]
        for key, title in items:
            data = await asyncio.to_thread(drawn_photo, title, ILLUSTRATION, hue_of=key)
            found[key] = await ensure_stored(conn, store, owner_id, "poi_photo", data, "image/jpeg")
    return found


def _track_values(item: SeedAudio, media_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "lang": item.lang,
        "media_id": media_id,
        # Without a store the track points at the shipped file (tests, app-less use).
        "audio_ref": None if media_id else f"seed:audio/{item.site}/{item.poi}.{item.lang}.opus",
        "duration_s": item.duration_s,
        "bytes": len(item.audio),
        "sha256": item.sha256,
        "mime": item.mime,
        "narrator": f"espeak-ng ({item.lang})",
        "origin": "machine",
        "cues": item.cues,
    }


async def seed_tourism(
    conn: asyncpg.Connection, store: MediaStore | None, settings: Settings, seed_file: Path = SEED_FILE
) -> str:
    """Sites, points, tracks and tours from the seed file, published; returns a one-line summary.

    With a store, the audio and the GLB models go into it as media items (found again by sha256 on the
    next run, so nothing is duplicated); without one, tracks point at the shipped files.
    """
    seed: dict[str, Any] = msgspec.json.decode(await asyncio.to_thread(seed_file.read_bytes))
    audio = await asyncio.to_thread(_read_seed_audio, seed)
    media_ids, models = await _store_seed_media(conn, store, audio) if store is not None else ({}, 0)
    photos = await _store_seed_photos(conn, store, seed) if store is not None else {}
    counts = {"sites": 0, "points": 0, "tracks": 0, "tours": 0}
    async with conn.transaction():
        for raw in seed["sites"]:
            existing = await reads.site_by_slug(conn, raw["slug"], published_only=False)
            site_struct = _site_struct(raw, existing, [photos[raw["slug"]]] if raw["slug"] in photos else [])
            values = editing.site_values(site_struct)
            if existing is None:
                site = await writes.insert_site(conn, values)
                assert site is not None
            else:
                site = await writes.update_site(conn, existing.id, values)
            for index, raw_poi in enumerate(raw["pois"]):
                shot = photos.get(f"{raw['slug']}/{raw_poi['slug']}")
                point_struct = _point_struct(raw_poi, index, [] if shot is None else [shot])
                point = await writes.upsert_point(conn, site.id, editing.point_values(point_struct))
                counts["points"] += 1
                for lang in sorted(raw_poi["name"]):
                    item = audio.get((raw["slug"], raw_poi["slug"], lang))
                    if item is not None:
                        await writes.upsert_track(conn, point.id, _track_values(item, media_ids.get(item.sha256)))
                        counts["tracks"] += 1
            for raw_tour in raw.get("tours", []):
                await editing.save_tour(conn, site, await editing.tour_values(conn, site, _tour_struct(raw_tour)))
                counts["tours"] += 1
            if site.status != "published":
                await writes.set_site_status(conn, site.id, "published")
            counts["sites"] += 1
    summary = ", ".join(f"{site.slug} v{site.version}" for site in await reads.all_sites(conn))
    return (
        f"tourism seed: {counts['sites']} sites, {counts['points']} points, {counts['tracks']} tracks, "
        f"{counts['tours']} tours"
        + (
            f", {len(media_ids)} audio files, {models} models and {len(photos)} drawn photos"
            f" in the {store.kind} media store"
            if store
            else ""
        )
        + f" ({summary})"
    )
