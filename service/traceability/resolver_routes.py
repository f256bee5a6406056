"""Routes of the scan side: the GS1 resolver, the shopper page, QR images, units, labels and scans.

`scan_side_lifespan` owns this side's resources (scan buffer and its flusher, QR and page caches,
the label process); app.py lists it after the database lifespan so the last scans flush before the
pool closes.
"""

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

import msgspec
from litestar import Controller, Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.handlers import route
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from service.auth.guards import client_address
from service.core.db import borrow
from service.core.errors import NotFound, ServiceError
from service.media.service import public_url
from service.settings import Settings
from service.traceability import dl_compression as dlc
from service.traceability import resolver as rs
from service.traceability.code_routes import route_handlers as code_route_handlers
from service.traceability.digital_link import (
    DigitalLink,
    DigitalLinkError,
    ShortLink,
    parse_digital_link,
    parse_short_link,
)
from service.traceability.hotcache import PageEntry, TraceCaches
from service.traceability.labels import LabelRenderer
from service.traceability.page import (
    NearbySites,
    PageData,
    PlaceRef,
    UnitInfo,
    batch_page_data,
    page_version,
    product_page_data,
)
from service.traceability.page_template import CONTENT_SECURITY_POLICY, fill_unit, render_page
from service.traceability.public_epcis import route_handlers as public_epcis_route_handlers
from service.traceability.qr import (
    QRCache,
)
from service.traceability.scans import (
    ScanRecorder,
    coarse_position,
)

log = logging.getLogger("service.traceability.resolver_routes")


@asynccontextmanager
async def scan_side_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Scan buffer + flusher, caches, label process; flushes the buffer on the way out."""
    recorder = ScanRecorder(app.state.pool)
    renderer = LabelRenderer()
    app.state.scan_recorder = recorder
    app.state.qr_cache = QRCache()
    app.state.label_renderer = renderer
    recorder.start()
    # In production the label process starts in the background, so the first sheet is not slowed by it;
    # tests and development start it on first use instead of once per app.
    warming = asyncio.create_task(renderer.warm_up()) if app.state.settings.env == "production" else None
    try:
        yield
    finally:
        await recorder.close()
        if warming is not None and not warming.done():
            warming.cancel()
        await asyncio.to_thread(renderer.close)


def per_method(name: str) -> Any:
    """GET and HEAD share a handler; OpenAPI wants one operation id per method."""

    def operation_id(handler: Any, method: str, path: Any) -> str:
        return name if method.upper() == "GET" else f"{name}_{method.lower()}"

    return operation_id


class BadIdentifier(ServiceError):
    status, code, title = 400, "invalid_digital_link", "Invalid identifier"


def _raw_path(request: Request[Any, Any, Any]) -> str:
    """The path as sent (percent-escapes intact: a lot may contain an encoded '/'); no query string."""
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    return raw.split(b"?", 1)[0].decode("latin-1")


def _position(request: Request[Any, Any, Any]) -> tuple[float, float] | None:
    """Coarse position if the app sends one: header X-Scan-Position: lat,lon, or ?lat=&lon=."""
    header = request.headers.get("x-scan-position")
    if header:
        return coarse_position(header)
    lat, lon = request.query_params.get("lat"), request.query_params.get("lon")
    return coarse_position(f"{lat},{lon}") if lat and lon else None


async def resolve(
    request: Request[Any, Any, Any],
    state: State,
    link: DigitalLink | ShortLink,
    compressed: dlc.Decompressed | None = None,
) -> Response[Any]:
    """Answer for `link`; a compressed request is answered as its uncompressed URI, plus Link owl:sameAs."""
    settings: Settings = state.settings
    base = settings.base_url
    anchor = link.uri(base)
    carried = urlencode(compressed.query, quote_via=quote) if compressed is not None else ""
    same_as = None if compressed is None else anchor + (f"?{carried}" if carried else "")
    headers = {
        "Link": rs.link_header(anchor, same_as=same_as),
        "Vary": "Accept, Accept-Language",
        "Cache-Control": "no-store",
    }
    target = await _resolved(state, link, anchor)
    if target is None:
        raise NotFound("nothing is registered under this identifier", code="identifier_not_found", headers=headers)
    link_type = request.query_params.get("linkType")
    accept = request.headers.get("accept", "")
    wants_linkset = link_type in ("linkset", "all") or (link_type is None and rs.LINKSET_TYPE in accept)
    if wants_linkset:
        response: Response[Any] = Response(
            rs.linkset(target, anchor, base),
            media_type=rs.LINKSET_TYPE,
            headers={**headers, "Link": rs.link_header(anchor, same_as=same_as, with_context=True)},
        )
    else:
        wanted = "defaultLink" if link_type is None else rs.normalize_link_type(link_type)
        candidates = rs.merged_links(target, base).get(wanted) if wanted else None
        if not candidates:
            raise NotFound(f"this item has no link of type {link_type}", code="link_type_not_found", headers=headers)
        chosen = rs.choose_link(candidates, accept, request.headers.get("accept-language", ""))
        query = "&".join(q for q in (carried, request.scope["query_string"].decode("latin-1")) if q)
        response = Response(b"", status_code=307, headers={**headers, "Location": rs.with_query(chosen.href, query)})
    if request.method == HttpMethod.GET and target.batch_id is not None:
        recorder: ScanRecorder = state.scan_recorder
        recorder.record(
            batch_id=target.batch_id,
            unit_id=target.unit_id,
            client_address=client_address(request),
            user_agent=request.headers.get("user-agent", "")[:512],
            position=_position(request),
        )
    return response


async def _resolved(state: State, link: DigitalLink | ShortLink, anchor: str) -> rs.Target | None:
    """The identifier's target from this worker's cache; the database only on a miss (unknowns are not cached)."""
    caches: TraceCaches = state.trace_caches

    async def load() -> rs.Target | None:
        async with borrow(state.pool) as conn:
            if isinstance(link, DigitalLink):
                return await rs.resolve_digital_link(conn, link)
            return await rs.resolve_short_link(conn, link)

    target = await caches.targets.get_or_load(anchor, load)
    if target is not None and target.batch_id is not None:
        caches.track(target.batch_id, "targets", anchor)
    return target


def _parse(parser: Any, *args: str) -> Any:
    try:
        return parser(*args)
    except DigitalLinkError as exc:
        raise BadIdentifier(exc.detail, code=exc.code) from exc


@route(
    "/01/{rest:path}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    operation_id=per_method("resolve_digital_link"),
    exclude_from_auth=True,
    tags=["resolver"],
)
async def resolve_gtin(request: Request[Any, Any, Any], state: State, rest: FromPath[str]) -> Response[Any]:
    """GS1 Digital Link resolver: redirect to the shopper page, a requested link type, or the linkset."""
    path = _raw_path(request)
    parts = path.strip("/").split("/")
    if len(parts) == 3 and dlc.PARTIAL_SEGMENT.fullmatch(parts[2]):  # /01/{gtin}/{compressed qualifiers}
        partial: dlc.Decompressed = _parse(dlc.decompress_qualifiers, parts[1], parts[2])
        return await resolve(request, state, partial.link, partial)
    return await resolve(request, state, _parse(parse_digital_link, path))


@route(
    "/{segment:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    operation_id=per_method("resolve_compressed_digital_link"),
    exclude_from_auth=True,
    tags=["resolver"],
)
async def resolve_compressed(request: Request[Any, Any, Any], state: State, segment: FromPath[str]) -> Response[Any]:
    """A compressed GS1 Digital Link (one base64url segment): the same answers as its uncompressed URI."""
    if dlc.SEGMENT.fullmatch(segment) is None:  # not shaped like a compressed link: an unknown page
        raise NotFound("there is nothing at this address", code="not_found")
    decompressed: dlc.Decompressed = _parse(dlc.decompress, segment)
    return await resolve(request, state, decompressed.link, decompressed)


@route(
    "/q/{rest:path}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    operation_id=per_method("resolve_short_code"),
    exclude_from_auth=True,
    tags=["resolver"],
)
async def resolve_short(request: Request[Any, Any, Any], state: State, rest: FromPath[str]) -> Response[Any]:
    """Short codes of products without a GTIN: the same answers as the Digital Link resolver."""
    return await resolve(request, state, _parse(parse_short_link, _raw_path(request)))


@get(
    "/.well-known/gs1resolver",
    operation_id="gs1_resolver_description",
    exclude_from_auth=True,
    tags=["resolver"],
    cache_control=None,
)
async def resolver_description(state: State) -> Response[dict[str, Any]]:
    """The GS1 resolver description file."""
    settings: Settings = state.settings
    return Response(rs.resolver_description(settings.base_url), headers={"Cache-Control": "public, max-age=3600"})


# --- the shopper page ----------------------------------------------------------------------------

NearbySitesDependency = NamedDependency[NearbySites | None]
HTML_TYPE = "text/html; charset=utf-8"


def page_language(request: Request[Any, Any, Any]) -> str:
    """?lang=en|vi wins; else the first of vi/en in Accept-Language by weight; Vietnamese by default."""
    asked = request.query_params.get("lang")
    if asked == "vi" or asked == "en":
        return str(asked)
    best, best_q = "vi", -1.0
    for part in request.headers.get("accept-language", "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if primary in ("vi", "en") and q > best_q:
            best, best_q = primary, q
    return best


def wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return request.query_params.get("format") == "json" or ("application/json" in accept and "text/html" not in accept)


async def _nearby(nearby_sites: NearbySites | None, data: PageData, lang: str) -> list[PlaceRef]:
    """Heritage sites near the producer; the tourism side failing never breaks the page."""
    p = data.producer
    if nearby_sites is None or p.lat is None or p.lon is None:
        return []
    try:
        return await asyncio.wait_for(nearby_sites.near(p.lat, p.lon, lang, 3), timeout=0.5)
    except Exception:  # a cross-domain failure is logged, the page still renders
        log.warning("nearby sites unavailable", exc_info=True)
        return []


def _photo_urls(data: PageData, base: str) -> None:
    data.photos = [public_url(base, uuid.UUID(photo)) for photo in data.photos]


def page_response(
    request: Request[Any, Any, Any],
    data: PageData,
    html_cache: dict[str, str],
    unit: UnitInfo | None,
    version: str,
    page_url: str,
) -> Response[Any]:
    lang = page_language(request)
    headers = {"Vary": "Accept, Accept-Language", "Cache-Control": "no-cache"}
    unit_key = "" if unit is None else f"{unit.scan_count}|{unit.flagged}|{unit.first_scanned_at}"
    as_json = wants_json(request)
    etag = '"' + hashlib.sha256(f"{version}|{lang}|{as_json}|{unit_key}".encode()).hexdigest()[:24] + '"'
    headers["ETag"] = etag
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    if as_json:
        body = msgspec.structs.replace(data, unit=unit)
        return Response(msgspec.json.encode(body), media_type="application/json", headers=headers)
    page = html_cache.get(lang)
    if page is None:
        page = render_page(data, lang=lang, page_url=page_url, today=date.today())
        html_cache[lang] = page
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["Content-Language"] = lang
    return Response(fill_unit(page, unit, lang), media_type=HTML_TYPE, headers=headers)


class ShopperPageController(Controller):
    path = "/"
    tags = ["shopper page"]

    async def _batch_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        code: str,
        serial: str | None,
        nearby_sites: NearbySites | None,
    ) -> Response[Any]:
        """Served from this worker's caches; a miss reads the database, releases it, then asks tourism."""
        _parse(parse_short_link, f"/q/{code}" + (f"/{serial}" if serial else ""))
        caches: TraceCaches = state.trace_caches
        settings: Settings = state.settings

        async def load_page() -> PageEntry | None:
            async with borrow(state.pool) as conn:
                version = await page_version(conn, code, None)
                data = None if version is None else await batch_page_data(conn, version.batch_id)
            if version is None or data is None:
                return None
            _photo_urls(data, settings.base_url)
            data.nearby = await _nearby(nearby_sites, data, page_language(request))  # connection released
            return PageEntry(batch_id=version.batch_id, data=data, html={}, version=version.version)

        async def load_unit() -> UnitInfo | None:
            async with borrow(state.pool) as conn:
                version = await page_version(conn, code, serial)
            return None if version is None else version.unit

        entry = await caches.pages.get_or_load(code, load_page)
        if entry is None:
            raise NotFound("nothing is registered under this code", code="identifier_not_found")
        caches.track(entry.batch_id, "pages", code)
        unit = None
        if serial is not None:
            unit = await caches.units.get_or_load((code, serial), load_unit)
            if unit is None:
                raise NotFound("nothing is registered under this code", code="identifier_not_found")
            caches.track(entry.batch_id, "units", (code, serial))
        page_url = rs.batch_page(settings.base_url, code, serial)
        return page_response(request, entry.data, entry.html, unit, entry.version, page_url)

    @route(
        "/trace/{code:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=per_method("batch_page"),
        exclude_from_auth=True,
    )
    async def batch_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        code: FromPath[str],
        nearby_sites: NearbySitesDependency = None,
    ) -> Response[Any]:
        """The shopper page of a batch (HTML; JSON with Accept: application/json)."""
        return await self._batch_page(request, state, code, None, nearby_sites)

    @route(
        "/trace/{code:str}/{serial:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=per_method("unit_page"),
        exclude_from_auth=True,
    )
    async def unit_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        code: FromPath[str],
        serial: FromPath[str],
        nearby_sites: NearbySitesDependency = None,
    ) -> Response[Any]:
        """The shopper page of one serialized unit: the batch page plus genuine/suspicious status."""
        return await self._batch_page(request, state, code, serial, nearby_sites)

    @route(
        "/p/{gtin:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=per_method("product_page"),
        exclude_from_auth=True,
    )
    async def product_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        gtin: FromPath[str],
        nearby_sites: NearbySitesDependency = None,
    ) -> Response[Any]:
        """The product-level page a bare GTIN resolves to."""
        link = _parse(parse_digital_link, f"/01/{gtin}")
        async with borrow(state.pool) as conn:  # released before tourism is asked for nearby sites
            data = await product_page_data(conn, link.gtin)
        if data is None:
            raise NotFound("no product has this GTIN", code="identifier_not_found")
        settings: Settings = state.settings
        _photo_urls(data, settings.base_url)
        data.nearby = await _nearby(nearby_sites, data, page_language(request))
        page_url = rs.product_page(settings.base_url, link.gtin)
        return page_response(request, data, {}, None, f"product|{time.monotonic()}", page_url)


route_handlers: list[ControllerRouterHandler] = [
    resolve_gtin,
    resolve_short,
    resolve_compressed,
    resolver_description,
    ShopperPageController,
    *code_route_handlers,
    *public_epcis_route_handlers,
]
