"""The `narrate` job: synthesise machine narration for points that have text but no track in a language."""

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg

from service.core.errors import InvalidInput, NotFound
from service.storage import MediaStore
from service.tourism.editing.tracks import store_track
from service.tourism.languages import check_language
from service.tourism.media.narration import SUPPORTED_LANGUAGES, synthesize
from service.tourism.media.stored_media import service_account
from service.tourism.sites import queries

# progress(done, total, label): called with (0, total, "") first, then after each point.
Progress = Callable[[int, int, str], None]


async def narrate_site(
    conn: asyncpg.Connection, store: MediaStore, site_slug: str, lang: str, progress: Progress | None = None
) -> int:
    """Synthesise (off the event loop), store and record a machine track per point missing one; returns the count."""
    check_language(lang)
    if lang not in SUPPORTED_LANGUAGES:
        raise InvalidInput(
            f"the text-to-speech engine speaks {', '.join(sorted(SUPPORTED_LANGUAGES))}, not '{lang}'",
            code="narration_language_unsupported",
        )
    site = await queries.site_by_slug(conn, site_slug, published_only=False)
    if site is None:
        raise NotFound(f"there is no site '{site_slug}'", code="site_not_found")
    points = (await queries.points_of_sites(conn, [site.id]))[site.id]
    have = {(track.point_id, track.lang) for _, track in await queries.tracks_of_sites(conn, [site.id])}
    todo = [
        (point, point.texts[lang].text)
        for point in points
        if lang in point.texts and point.texts[lang].text.strip() and (point.id, lang) not in have
    ]
    report = progress or (lambda done, total, label: None)
    report(0, len(todo), "")
    if not todo:
        return 0
    owner_id = await service_account(conn)
    for done, (point, text) in enumerate(todo, start=1):
        narration = await asyncio.to_thread(synthesize, text, lang)
        cues: list[dict[str, Any]] = [{"start": c.start, "end": c.end, "text": c.text} for c in narration.cues]
        await store_track(
            conn,
            store,
            owner_id,
            point.id,
            lang=lang,
            audio=narration.audio,
            mime=narration.mime,
            duration_s=narration.duration_s,
            narrator=f"espeak-ng ({lang})",
            origin="machine",
            cues=cues,
        )
        report(done, len(todo), point.slug)
    return len(todo)
