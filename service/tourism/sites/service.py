"""Published content in one language, as the public reads it: assembled from a fixed number of queries."""

import uuid
from typing import Any

import asyncpg
import msgspec

from service.core.errors import NotFound
from service.tourism.languages import pick_language
from service.tourism.media.assets import model_assets
from service.tourism.ports import NearbyProducer, NearbyProducers
from service.tourism.sites import queries
from service.tourism.sites.schemas import (
    ModelLink,
    PointPublic,
    PointRead,
    SitePublic,
    SiteRead,
    SiteSummary,
    TourPublic,
    TourRead,
    TrackRef,
)

_MACHINE_LABEL = {
    "vi": "Giọng đọc do máy tổng hợp (không phải người đọc)",
    "en": "Machine-generated voice (synthesised, not a human narrator)",
}
_HUMAN_LABEL = {"vi": "Người thuyết minh", "en": "Recorded by a human narrator"}
NEARBY_RADIUS_KM = 15.0
NEARBY_PRODUCERS_LIMIT = 10


class PublishedSite(msgspec.Struct, kw_only=True):
    site: SiteRead
    points: list[PointRead]
    tracks: list[queries.TrackRow]
    tours: list[TourRead]


async def load_published_site(conn: asyncpg.Connection, slug: str) -> PublishedSite:
    """Four queries whatever the number of points: site, points, tracks, tours."""
    site = await queries.site_by_slug(conn, slug, published_only=True)
    if site is None:
        raise NotFound(f"there is no published site '{slug}'", code="site_not_found")
    points = await queries.points_of_sites(conn, [site.id])
    tracks = await queries.tracks_of_sites(conn, [site.id])
    tours = await queries.tours_of_sites(conn, [site.id])
    return PublishedSite(site=site, points=points[site.id], tracks=[t for _, t in tracks], tours=tours[site.id])


def _label(origin: str, lang: str) -> str:
    labels = _MACHINE_LABEL if origin == "machine" else _HUMAN_LABEL
    return labels.get(lang.split("-", 1)[0], labels["en"])


def track_url(base_url: str, track_id: uuid.UUID) -> str:
    return f"{base_url}/api/v1/tracks/{track_id}/audio"


def vtt_url(base_url: str, track_id: uuid.UUID) -> str:
    return f"{base_url}/api/v1/tracks/{track_id}.vtt"


def track_ref(track: queries.TrackRow, base_url: str, lang: str) -> TrackRef:
    return TrackRef(
        id=track.id,
        lang=track.lang,
        url=track_url(base_url, track.id),
        vtt_url=vtt_url(base_url, track.id),
        duration_s=track.duration_s,
        bytes=track.bytes,
        sha256=track.sha256,
        mime=track.mime,
        narrator=track.narrator,
        origin="machine" if track.origin == "machine" else "human",
        machine_generated=track.origin == "machine",
        label=_label(track.origin, lang),
    )


def model_link(slug: str | None, base_url: str, lang: str) -> ModelLink | None:
    if slug is None:
        return None
    asset = model_assets().get(slug)
    if asset is None:
        return None
    title = asset.title.vi if lang.startswith("vi") else asset.title.en
    return ModelLink(
        slug=slug, url=f"{base_url}/api/v1/models/{slug}.glb", bytes=asset.bytes, sha256=asset.sha256, title=title
    )


def _texts(texts: dict[str, Any], lang: str) -> tuple[str, dict[str, Any]]:
    picked = pick_language(texts, lang)
    if picked is None:
        return lang, {}
    served, value = picked
    return served, msgspec.to_builtins(value)


def point_public(point: PointRead, tracks: list[queries.TrackRow], base_url: str, lang: str) -> PointPublic:
    served, text = _texts(point.texts, lang)
    return PointPublic(
        slug=point.slug,
        ord=point.ord,
        lat=point.lat,
        lon=point.lon,
        radius_m=point.radius_m,
        polygon=point.polygon,
        dwell_seconds=point.dwell_seconds,
        cooldown_seconds=point.cooldown_seconds,
        play_once=point.play_once,
        photos=point.photos,
        model=model_link(point.model, base_url, served),
        lang=served,
        title=text.get("title", ""),
        text=text.get("text", ""),
        tracks=[track_ref(t, base_url, served) for t in tracks],
    )


def tour_public(tour: TourRead, lang: str) -> TourPublic:
    served, text = _texts(tour.texts, lang)
    return TourPublic(
        slug=tour.slug,
        mode=tour.mode,
        playback=tour.playback,
        stops=tour.stops,
        route=tour.route,
        distance_m=tour.distance_m,
        duration_s=tour.duration_s,
        lang=served,
        title=text.get("title", tour.slug),
        description=text.get("description", ""),
    )


def tracks_by_point(tracks: list[queries.TrackRow]) -> dict[uuid.UUID, list[queries.TrackRow]]:
    out: dict[uuid.UUID, list[queries.TrackRow]] = {}
    for track in tracks:
        out.setdefault(track.point_id, []).append(track)
    return out


def site_summary(site: SiteRead, base_url: str, lang: str) -> SiteSummary:
    served, text = _texts(site.texts, lang)
    return SiteSummary(
        slug=site.slug,
        lang=served,
        name=text.get("name", site.slug),
        summary=text.get("summary", ""),
        lat=site.lat,
        lon=site.lon,
        ranking=site.ranking,
        version=site.version,
        coordinates_status=site.coordinates_status,
        url=f"{base_url}/api/v1/sites/{site.slug}",
    )


def site_public(published: PublishedSite, base_url: str, lang: str, producers: list[NearbyProducer]) -> SitePublic:
    site = published.site
    served, text = _texts(site.texts, lang)
    by_point = tracks_by_point(published.tracks)
    return SitePublic(
        slug=site.slug,
        version=site.version,
        lang=served,
        languages=sorted(site.texts),
        name=text.get("name", site.slug),
        summary=text.get("summary", ""),
        history=text.get("history", ""),
        address=text.get("address", ""),
        commune_code=site.commune_code,
        opening_hours=text.get("opening_hours", ""),
        tickets=text.get("tickets", ""),
        ranking=site.ranking,
        ranking_note=text.get("ranking_note", ""),
        photos=site.photos,
        sources=site.sources,
        coordinates_status=site.coordinates_status,
        coordinates_note=site.coordinates_note,
        needs_check=site.needs_check,
        lat=site.lat,
        lon=site.lon,
        points=[point_public(p, by_point.get(p.id, []), base_url, lang) for p in published.points],
        tours=[tour_public(t, lang) for t in published.tours],
        nearby_producers=producers,
        offline_url=f"{base_url}/api/v1/sites/{site.slug}/offline?lang={served}",
    )


async def published_site_summaries(conn: asyncpg.Connection, base_url: str, lang: str) -> list[SiteSummary]:
    return [site_summary(site, base_url, lang) for site in await queries.published_sites(conn)]


async def published_site_view(
    conn: asyncpg.Connection, slug: str, base_url: str, lang: str, nearby_producers: NearbyProducers | None
) -> SitePublic:
    """The site page: its content, plus the OCOP producers within 15 km when traceability is wired."""
    published = await load_published_site(conn, slug)
    producers: list[NearbyProducer] = []
    if nearby_producers is not None:
        site = published.site
        producers = await nearby_producers.near(site.lat, site.lon, NEARBY_RADIUS_KM, lang, NEARBY_PRODUCERS_LIMIT)
    return site_public(published, base_url, lang, producers)


async def published_points(conn: asyncpg.Connection, slug: str, base_url: str, lang: str) -> list[PointPublic]:
    published = await load_published_site(conn, slug)
    by_point = tracks_by_point(published.tracks)
    return [point_public(p, by_point.get(p.id, []), base_url, lang) for p in published.points]


async def published_tours(conn: asyncpg.Connection, slug: str, lang: str) -> list[TourPublic]:
    published = await load_published_site(conn, slug)
    return [tour_public(t, lang) for t in published.tours]
