"""The pages a visitor opens from a QR sign: /g/{site} (the site), /g/{site}/{point} (the audio guide stop),
the point's QR image, and the site's printable A5 signs. HTML for browsers, the same JSON as the API for apps.
"""

import math
from typing import Any

import msgspec
from litestar import Controller, Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.handlers import route
from litestar.params import FromPath, SkipValidation

from service.core.db import DB
from service.core.errors import NotFound, Unavailable
from service.core.html_page import html_response, page_language, wants_json
from service.core.http_files import IMMUTABLE_CACHE_CONTROL, content_disposition, serve_bytes
from service.core.pdf import FontMissing, PdfRenderer
from service.core.qr import MEDIA_TYPES, QRCache, QROptions
from service.tourism.pages.html import CSS, render_point_page, render_site_page
from service.tourism.pages.scripts import JS_TYPE, MEDIA_SESSION_JS, MEDIA_SESSION_NAME
from service.tourism.pages.signs import Sign, SignSheet, render_sign_sheet
from service.tourism.pages.view import guide_path, point_page, site_page
from service.tourism.params import base_url, get_and_head_ids
from service.tourism.ports import NearbyProducers
from service.tourism.sites.schemas import Slug
from service.tourism.sites.service import load_published_site, site_public

SIGN_CACHE_ENTRIES = 32


class GuidePagesController(Controller):
    path = "/g"
    tags = ["tourism: pages"]

    @route(
        "/{site:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("site_page"),
        summary="A heritage site's page",
        exclude_from_auth=True,
    )
    async def site(
        self,
        request: Request[Any, Any, Any],
        db: DB,
        site: FromPath[Slug],
        nearby_producers: NamedDependency[SkipValidation[NearbyProducers | None]] = None,
    ) -> Response[Any]:
        """The site for people: summary, visiting information, stops with an "I am here" link, tours, producers."""
        lang = page_language(request)
        view, photos = await site_page(db, site, lang, nearby_producers)
        if wants_json(request):
            return Response(msgspec.json.encode(view), media_type="application/json", headers={"Vary": "Accept"})
        return html_response(render_site_page(view, photos, lang), lang=lang, css=CSS)

    @route(
        "/{site:str}/{point:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("point_page"),
        summary="An audio guide stop's page (what its QR sign opens)",
        exclude_from_auth=True,
    )
    async def point(
        self, request: Request[Any, Any, Any], db: DB, site: FromPath[Slug], point: FromPath[Slug]
    ) -> Response[Any]:
        """The stop: audio player with captions (never autoplaying), transcript, photos, previous and next stops."""
        lang = page_language(request)
        page = await point_page(db, site, point, lang)
        if wants_json(request):
            return Response(msgspec.json.encode(page), media_type="application/json", headers={"Vary": "Accept"})
        return html_response(render_point_page(page, lang), lang=lang, css=CSS, media=True, script=True)

    @route(
        "/{site:str}/{point:str}/qr.svg",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("point_qr"),
        summary="The QR code of a stop's short address",
        exclude_from_auth=True,
        media_type=MEDIA_TYPES["svg"],
    )
    async def point_qr(
        self, request: Request[Any, Any, Any], db: DB, state: State, site: FromPath[Slug], point: FromPath[Slug]
    ) -> Response[bytes]:
        """An SVG QR code of /g/{site}/{point} on this service's public address (published stops only)."""
        published = await load_published_site(db, site)
        if not any(p.slug == point for p in published.points):
            await point_page(db, site, point, "vi")  # the same 404 as the page
        cache: QRCache = state.qr_cache
        body, etag = await cache.image(base_url(state) + guide_path(site, point), "svg", QROptions(size=512))
        headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
        if request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=304, headers=headers)
        return Response(body, media_type=MEDIA_TYPES["svg"], headers=headers)

    @route(
        "/{site:str}/signs.pdf",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("site_signs_pdf"),
        summary="Printable A5 QR signs for a site's stops",
        exclude_from_auth=True,
        media_type="application/pdf",
    )
    async def signs(self, db: DB, state: State, site: FromPath[Slug]) -> Response[bytes]:
        """One A5 sign a page per stop: its name in Vietnamese and English, its QR code, a one-line hint."""
        published = await load_published_site(db, site)
        vi, en = site_public(published, "", "vi", []), site_public(published, "", "en", [])
        if not vi.points:
            raise NotFound(f"site '{site}' has no stops to sign", code="site_has_no_points")
        key = (site, published.site.version, base_url(state))
        cache: dict[tuple[str, int, str], bytes] = state.sign_sheets
        pdf = cache.get(key)
        if pdf is None:
            sheet = SignSheet(
                site_vi=vi.name,
                site_en=en.name,
                signs=[
                    Sign(
                        uri=base_url(state) + guide_path(site, p.slug),
                        title_vi=p.title,
                        title_en=q.title,
                        minutes=math.ceil(p.tracks[0].duration_s / 60) if p.tracks else None,
                    )
                    for p, q in zip(vi.points, en.points, strict=True)
                ],
            )
            renderer: PdfRenderer = state.pdf_renderer
            try:
                pdf = await renderer.render(render_sign_sheet, sheet)
            except FontMissing as exc:
                raise Unavailable(str(exc), code="sign_font_missing") from exc
            if len(cache) >= SIGN_CACHE_ENTRIES:
                cache.pop(next(iter(cache)))
            cache[key] = pdf
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": content_disposition(f"qr-signs-{site}.pdf"),
                "Cache-Control": "public, max-age=3600",
            },
        )


class PageScriptsController(Controller):
    path = "/assets/js"
    tags = ["tourism: pages"]

    @route(
        "/{name:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=get_and_head_ids("page_script"),
        summary="The point page's Media Session helper (lock-screen controls); the page works without it",
        exclude_from_auth=True,
        media_type=JS_TYPE,
    )
    async def script(self, request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
        """The script under its content-hashed name, cached for a year; any other name is a 404."""
        if name != MEDIA_SESSION_NAME:
            raise NotFound("no such script", code="script_not_found")
        return serve_bytes(request, MEDIA_SESSION_JS, JS_TYPE, cache_control=IMMUTABLE_CACHE_CONTROL)
