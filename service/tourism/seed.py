"""Load the demo heritage sites (service/tourism/seed/sites.json) and their narration; idempotent.

Running it twice changes nothing: every write skips unchanged rows, so site versions (and offline
ETags) only move when the seed file itself changed.
"""

import asyncio
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from service.settings import Settings
from service.tourism import queries, services
from service.tourism.schemas import LineString, PointRead, SiteRead, Source, TourRead, TourText
from service.tourism.trackstore import SEED_DIR, TrackStore

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


def _site_struct(raw: dict[str, Any], existing: SiteRead | None) -> SiteRead:
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
            "photos": [],
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


def _point_struct(raw: dict[str, Any], index: int) -> PointRead:
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
            "photos": [],
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


def _read_audio(site: str, poi: str, lang: str) -> tuple[bytes, dict[str, Any]] | None:
    audio = SEED_DIR / "audio" / site / f"{poi}.{lang}.opus"
    cues = SEED_DIR / "audio" / site / f"{poi}.{lang}.cues.json"
    if not (audio.is_file() and cues.is_file()):
        return None
    return audio.read_bytes(), msgspec.json.decode(cues.read_bytes())


async def _seed_tracks(
    conn: asyncpg.Connection, store: TrackStore | None, site_slug: str, raw_poi: dict[str, Any], point: PointRead
) -> int:
    count = 0
    for lang in sorted(raw_poi["name"]):
        found = await asyncio.to_thread(_read_audio, site_slug, raw_poi["slug"], lang)
        if found is None:
            continue
        audio, sidecar = found
        narrator = f"espeak-ng ({lang})"
        if store is not None:
            await services.store_track(
                conn,
                store,
                point.id,
                lang=lang,
                audio=audio,
                mime=sidecar["mime"],
                duration_s=sidecar["duration_s"],
                narrator=narrator,
                origin="machine",
                cues=sidecar["cues"],
            )
        else:
            await queries.upsert_track(
                conn,
                point.id,
                {
                    "lang": lang,
                    "audio_ref": f"seed:audio/{site_slug}/{raw_poi['slug']}.{lang}.opus",
                    "duration_s": sidecar["duration_s"],
                    "bytes": len(audio),
                    "sha256": sidecar["sha256"],
                    "mime": sidecar["mime"],
                    "narrator": narrator,
                    "origin": "machine",
                    "cues": sidecar["cues"],
                },
            )
        count += 1
    return count


async def seed_tourism(
    conn: asyncpg.Connection, store: TrackStore | None, settings: Settings, seed_file: Path = SEED_FILE
) -> str:
    """Sites, points, tracks and tours from the seed file, published; returns a one-line summary.

    With a store, audio bytes are copied into it; without one, tracks point at the shipped files.
    """
    seed: dict[str, Any] = msgspec.json.decode(await asyncio.to_thread(seed_file.read_bytes))
    counts = {"sites": 0, "points": 0, "tracks": 0, "tours": 0}
    async with conn.transaction():
        for raw in seed["sites"]:
            existing = await queries.site_by_slug(conn, raw["slug"], published_only=False)
            site_struct = _site_struct(raw, existing)
            values = services.site_values(site_struct)
            if existing is None:
                site = await queries.insert_site(conn, values)
                assert site is not None
            else:
                site = await queries.update_site(conn, existing.id, values)
            for index, raw_poi in enumerate(raw["pois"]):
                point = await queries.upsert_point(conn, site.id, services.point_values(_point_struct(raw_poi, index)))
                counts["points"] += 1
                counts["tracks"] += await _seed_tracks(conn, store, raw["slug"], raw_poi, point)
            for raw_tour in raw.get("tours", []):
                await services.save_tour(conn, site, await services.tour_values(conn, site, _tour_struct(raw_tour)))
                counts["tours"] += 1
            if site.status != "published":
                await queries.set_site_status(conn, site.id, "published")
            counts["sites"] += 1
    versions = await conn.fetch("select slug, version from tourism_sites order by slug")
    summary = ", ".join(f"{row['slug']} v{row['version']}" for row in versions)
    return (
        f"tourism seed: {counts['sites']} sites, {counts['points']} points, {counts['tracks']} tracks, "
        f"{counts['tours']} tours ({summary})"
    )
