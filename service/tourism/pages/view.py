"""What the site and point pages show, assembled from the published content (the same reads as the JSON API).

Links inside the pages are paths on this origin (audio, captions, photos), so a page works behind any host
name and its Content-Security-Policy can say 'self'.
"""

import asyncpg
import msgspec

from service.core.errors import NotFound
from service.media.pictures import Picture, media_pictures
from service.tourism.languages import pick_language
from service.tourism.ports import NearbyProducers
from service.tourism.sites.schemas import PointPublic, SitePublic, TourPublic, TrackRef
from service.tourism.sites.service import (
    NEARBY_PRODUCERS_LIMIT,
    NEARBY_RADIUS_KM,
    load_published_site,
    site_public,
)


def guide_path(site: str, point: str | None = None) -> str:
    """The short, stable address a QR sign carries: /g/{site} or /g/{site}/{point}."""
    return f"/g/{site}" if point is None else f"/g/{site}/{point}"


class PointPage(msgspec.Struct, kw_only=True):
    site: SitePublic
    point: PointPublic
    track: TrackRef | None  # the narration in the visitor's language, else the fallback language
    transcript: list[str]  # the narration's cues in order (or the point's text when it has no track)
    photos: list[str]  # the photos' addresses (for apps)
    pictures: list[Picture]  # the same photos as the page draws them (srcset, size)
    tour: TourPublic | None  # the first tour that stops here, whose order gives previous and next
    previous: PointPublic | None
    next: PointPublic | None


async def site_page(
    conn: asyncpg.Connection, slug: str, lang: str, nearby_producers: NearbyProducers | None
) -> tuple[SitePublic, list[Picture]]:
    """The site in one language with its points, tours and nearby producers, and its photos' addresses."""
    published = await load_published_site(conn, slug)
    producers = []
    if nearby_producers is not None:
        site = published.site
        producers = await nearby_producers.near(site.lat, site.lon, NEARBY_RADIUS_KM, lang, NEARBY_PRODUCERS_LIMIT)
    view = site_public(published, "", lang, producers)
    return view, await media_pictures(conn, "", view.photos)


def _neighbours(
    site: SitePublic, point: PointPublic
) -> tuple[TourPublic | None, PointPublic | None, PointPublic | None]:
    by_slug = {p.slug: p for p in site.points}
    tour = next((t for t in site.tours if point.slug in t.stops), None)
    order = [s for s in tour.stops if s in by_slug] if tour else [p.slug for p in site.points]
    at = order.index(point.slug)
    previous = by_slug[order[at - 1]] if at > 0 else None
    following = by_slug[order[at + 1]] if at + 1 < len(order) else None
    return tour, previous, following


async def point_page(conn: asyncpg.Connection, site_slug: str, point_slug: str, lang: str) -> PointPage:
    published = await load_published_site(conn, site_slug)
    view = site_public(published, "", lang, [])
    point = next((p for p in view.points if p.slug == point_slug), None)
    if point is None:
        raise NotFound(f"site '{site_slug}' has no point '{point_slug}'", code="point_not_found")
    picked = pick_language({t.lang: t for t in point.tracks}, lang)
    track = picked[1] if picked else None
    cues = next((row.cues for row in published.tracks if track is not None and row.id == track.id), [])
    transcript = [str(cue.get("text", "")) for cue in cues]
    if not transcript and point.text:
        transcript = [part for part in point.text.split("\n") if part.strip()]
    tour, previous, following = _neighbours(view, point)
    pictures = await media_pictures(conn, "", point.photos)
    return PointPage(
        site=view,
        point=point,
        track=track,
        transcript=transcript,
        photos=[picture.url for picture in pictures],
        pictures=pictures,
        tour=tour,
        previous=previous,
        next=following,
    )
