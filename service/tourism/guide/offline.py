"""Offline packs: one manifest per site and language, with a strong ETag derived from the site version.

The site version changes on every content change (triggers in 0030), so the ETag can be computed from
one indexed lookup; a revalidation answers 304 without building the manifest.
"""

import hashlib

import asyncpg

from service.core.cache import InvalidatedCache
from service.core.db import AnyPool, borrow
from service.core.errors import NotFound
from service.tourism.guide.schemas import OfflineFile, OfflineManifest
from service.tourism.languages import check_language, pick_language
from service.tourism.media.assets import GLB_MIME, model_assets
from service.tourism.media.service import render_vtt
from service.tourism.sites import queries
from service.tourism.sites.service import load_published_site, site_public, vtt_url

MANIFEST_FORMAT = 1


def _models_digest() -> str:
    assets = model_assets()
    joined = ",".join(f"{slug}:{asset.sha256}" for slug, asset in sorted(assets.items()))
    return hashlib.sha256(joined.encode()).hexdigest()


def offline_etag(slug: str, version: int, lang: str, base_url: str) -> str:
    """Strong ETag: the site version stands for its content; the rest is what else shapes the bytes."""
    key = f"{MANIFEST_FORMAT}|{slug}|{version}|{lang}|{base_url}|{_models_digest()}"
    return f'"{hashlib.sha256(key.encode()).hexdigest()[:40]}"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): W/ prefixes are ignored, "*" matches anything."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    return etag.removeprefix("W/") in (part.strip().removeprefix("W/") for part in if_none_match.split(","))


async def current_offline_etag(
    pool: AnyPool, versions: InvalidatedCache[str, int], slug: str, lang: str, base_url: str
) -> str:
    """The ETag the pack would have now, from the cached site version (read once per change per worker)."""
    check_language(lang)

    async def load() -> int | None:
        async with borrow(pool) as conn:
            return await queries.published_site_version(conn, slug)

    version = await versions.get_or_load(slug, load)
    if version is None:
        raise NotFound(f"there is no published site '{slug}'", code="site_not_found")
    return offline_etag(slug, version, lang, base_url)


async def offline_manifest(pool: AnyPool, slug: str, lang: str, base_url: str) -> OfflineManifest:
    """The whole pack, built on a borrowed connection (only when the client's ETag is not current)."""
    async with borrow(pool) as conn:
        return await build_manifest(conn, slug, lang, base_url)


async def build_manifest(conn: asyncpg.Connection, slug: str, lang: str, base_url: str) -> OfflineManifest:
    """The site in one language plus every file the app should download to guide without a network."""
    check_language(lang)
    published = await load_published_site(conn, slug)
    content = site_public(published, base_url, lang, producers=[])
    tracks_by_id = {t.id: t for t in published.tracks}
    files: list[OfflineFile] = []
    models_seen: set[str] = set()
    for point in content.points:
        picked = pick_language({t.lang: t for t in point.tracks}, lang)
        point.tracks = [picked[1]] if picked else []
        for ref in point.tracks:
            files.append(
                OfflineFile(
                    kind="audio",
                    url=ref.url,
                    bytes=ref.bytes,
                    sha256=ref.sha256,
                    mime=ref.mime,
                    point=point.slug,
                    lang=ref.lang,
                )
            )
            vtt = render_vtt(tracks_by_id[ref.id].cues).encode()
            files.append(
                OfflineFile(
                    kind="captions",
                    url=vtt_url(base_url, ref.id),
                    bytes=len(vtt),
                    sha256=hashlib.sha256(vtt).hexdigest(),
                    mime="text/vtt",
                    point=point.slug,
                    lang=ref.lang,
                )
            )
        if point.model is not None and point.model.slug not in models_seen:
            models_seen.add(point.model.slug)
            files.append(
                OfflineFile(
                    kind="model",
                    url=point.model.url,
                    bytes=point.model.bytes,
                    sha256=point.model.sha256,
                    mime=GLB_MIME,
                )
            )
    site = published.site
    return OfflineManifest(
        format=MANIFEST_FORMAT,
        site=site.slug,
        version=site.version,
        lang=content.lang,
        etag=offline_etag(site.slug, site.version, lang, base_url),
        content=content,
        files=files,
        total_bytes=sum(f.bytes for f in files),
    )
