"""Routes of the shopper pages (batch, unit, product): HTML for browsers, JSON for apps (content negotiation)."""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, NamedTuple

import msgspec
from litestar import Controller, Request, Response
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.handlers import route
from litestar.params import FromPath, QueryParameter, SkipValidation
from litestar.types import Scope

from service.core import clock
from service.core.db import ReadDB
from service.core.edge import Lane, RequestHeaders, first_headers
from service.core.html_page import HTML_TYPE, html_response, page_language, wants_json
from service.core.prepared import Prepared
from service.settings import Settings
from service.traceability.identifiers.digital_link import (
    parse_digital_link,
    parse_short_link,
)
from service.traceability.ports import NearbySites
from service.traceability.scan import pages
from service.traceability.scan import resolve as rs
from service.traceability.scan.caches import PageEntry, TraceCaches
from service.traceability.scan.page_data import PageData, UnitInfo
from service.traceability.scan.page_html import CONTENT_SECURITY_POLICY, fill_unit, render_page, stale_note
from service.traceability.scan.producer_page import PRODUCER_CSS, producer_page, render_producer_page
from service.traceability.scan.routes.common import _parse, per_method, stale_headers

# Not validated per request: on Python 3.11 an isinstance check against a Protocol walks its attributes each
# time (a quarter of a warm shopper page's CPU); crosslinks.py is the only provider, and mypy checks it.
NearbySitesDependency = NamedDependency[SkipValidation[NearbySites | None]]


Qualifier = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=20, description="a lot or serial scanned that is not registered"),
]


_MAX_ANSWERS = 32  # per cache entry: by (language, format, unit state), and by the raw headers for the lane


class PreparedPage(NamedTuple):
    etag: str
    ok: Prepared
    not_modified: Prepared


def page_response(
    request: Request[Any, Any, Any],
    data: PageData,
    html_cache: dict[str, str],
    unit: UnitInfo | None,
    version: str,
    page_url: str,
    as_of: float | None = None,
    answers: dict[Any, PreparedPage] | None = None,
) -> Response[Any]:
    """The page as HTML or JSON, or 304; a fresh answer is encoded once per entry and language and replayed."""
    lang = page_language(request)
    as_json = wants_json(request)
    unit_key = _unit_key(unit)
    if answers is None or as_of is not None:  # stale answers carry their age: never kept
        etag, answer = _page_answer(request, data, html_cache, unit, version, page_url, as_of, lang, as_json, unit_key)
        if request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=304, headers=_page_headers(etag, as_of))
        return answer
    key = (lang, as_json, unit_key)
    prepared = answers.get(key)
    if prepared is None:
        etag, answer = _page_answer(request, data, html_cache, unit, version, page_url, None, lang, as_json, unit_key)
        if len(answers) >= _MAX_ANSWERS:  # unit pages change key with every scan count: keep the newest few
            answers.clear()
        prepared = answers[key] = PreparedPage(
            etag,
            Prepared.of(answer, request),
            Prepared.of(Response(b"", status_code=304, headers=_page_headers(etag, None)), request),
        )
    if not request.scope["query_string"]:  # ?lang= and ?format= choose too: the lane replays only plain URLs
        answers[_lane_key(first_headers(request.scope), unit_key)] = prepared
    if request.headers.get("if-none-match") == prepared.etag:
        return prepared.not_modified.response()
    return prepared.ok.response()


def _unit_key(unit: UnitInfo | None) -> str:
    return "" if unit is None else f"{unit.scan_count}|{unit.counterfeit}|{unit.first_scanned_at}"


def _lane_key(headers: RequestHeaders, unit_key: str) -> tuple[str, bytes, bytes, str]:
    """A prepared page by the raw headers that chose it (language and format), for the edge's lane."""
    return ("lane", headers.get(b"accept", b""), headers.get(b"accept-language", b""), unit_key)


def _replayed(
    entry: PageEntry | None, headers: RequestHeaders, unit: UnitInfo | None, template: str
) -> tuple[Prepared, str] | None:
    # a page kept without its nearby sites is replayed as it is until asking again is due; then the route asks
    # (and marks the time first, so the requests behind it are replayed meanwhile). Routing every request of a
    # popular page for those thirty seconds cost two thirds of its throughput under load.
    if entry is None or pages.nearby_retry_due(entry):
        return None
    prepared: PreparedPage | None = entry.answers.get(_lane_key(headers, _unit_key(unit)))
    if prepared is None:
        return None
    if headers.get(b"if-none-match") == prepared.etag.encode():
        return prepared.not_modified, template
    return prepared.ok, template


def page_lanes(state: State) -> dict[str, Lane]:
    """The warm shopper, unit and product pages replayed before routing (core/edge.py), by first path segment.

    Only plain URLs (no query), only entries and unit states this worker holds fresh, only answers the
    routes below prepared for the same Accept and Accept-Language; anything else goes to the routes.
    """
    caches: TraceCaches = state.trace_caches

    def trace(scope: Scope, headers: RequestHeaders) -> tuple[Prepared, str] | None:
        parts = scope["path"].split("/")  # "", "trace", code[, serial]
        if scope["query_string"] or not 3 <= len(parts) <= 4 or not all(parts[2:]):
            return None
        code = parts[2]
        if len(parts) == 3:
            return _replayed(caches.pages.get(code), headers, None, "/trace/{code}")
        unit = caches.units.get((code, parts[3]))
        return None if unit is None else _replayed(caches.pages.get(code), headers, unit, "/trace/{code}/{serial}")

    def product(scope: Scope, headers: RequestHeaders) -> tuple[Prepared, str] | None:
        parts = scope["path"].split("/")  # "", "p", gtin
        if scope["query_string"] or len(parts) != 3 or not parts[2]:
            return None
        return _replayed(caches.products.get(parts[2]), headers, None, "/p/{gtin}")

    return {"trace": trace, "p": product}


def _page_headers(etag: str, as_of: float | None) -> dict[str, str]:
    return {"Vary": "Accept, Accept-Language", "Cache-Control": "no-cache", **stale_headers(as_of), "ETag": etag}


def _page_answer(
    request: Request[Any, Any, Any],
    data: PageData,
    html_cache: dict[str, str],
    unit: UnitInfo | None,
    version: str,
    page_url: str,
    as_of: float | None,
    lang: str,
    as_json: bool,
    unit_key: str,
) -> tuple[str, Response[Any]]:
    etag = '"' + hashlib.sha256(f"{version}|{lang}|{as_json}|{unit_key}".encode()).hexdigest()[:24] + '"'
    headers = _page_headers(etag, as_of)
    if as_json:
        body = msgspec.structs.replace(data, unit=unit)
        return etag, Response(msgspec.json.encode(body), media_type="application/json", headers=headers)
    page = html_cache.get(lang)
    if page is None:
        page = render_page(data, lang=lang, page_url=page_url, today=clock.today())
        html_cache[lang] = page
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["Content-Language"] = lang
    filled = fill_unit(page, unit, lang)
    if as_of is not None:
        filled = stale_note(filled, datetime.fromtimestamp(as_of, UTC), lang)
    return etag, Response(filled, media_type=HTML_TYPE, headers=headers)


class ShopperPageController(Controller):
    path = "/"
    tags = ["traceability: shopper pages"]

    async def _batch_page(
        self,
        request: Request[Any, Any, Any],
        state: State,
        code: str,
        serial: str | None,
        nearby_sites: NearbySites | None,
    ) -> Response[Any]:
        _parse(parse_short_link, f"/q/{code}" + (f"/{serial}" if serial else ""))
        settings: Settings = state.settings
        entry, unit, as_of = await pages.batch_page(
            state.read_pool,
            state.trace_caches,
            code,
            serial,
            nearby_sites=nearby_sites,
            lang=page_language(request),
            base_url=settings.base_url,
        )
        page_url = rs.batch_page(settings.base_url, code, serial)
        return page_response(request, entry.data, entry.html, unit, entry.version, page_url, as_of, entry.answers)

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
        """The shopper page of one serialized unit: the batch page plus its scan facts (and a confirmed counterfeit)."""
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
        lot: Qualifier = None,
        serial: Qualifier = None,
    ) -> Response[Any]:
        """The product-level page a bare GTIN resolves to (saying so when the scanned lot or serial is unknown)."""
        link = _parse(parse_digital_link, f"/01/{gtin}")
        settings: Settings = state.settings
        entry, as_of = await pages.product_page(
            state.read_pool,
            state.trace_caches,
            link.gtin,
            nearby_sites=nearby_sites,
            lang=page_language(request),
            base_url=settings.base_url,
            lot=lot,
            serial=serial,
        )
        page_url = rs.product_page(settings.base_url, link.gtin)
        answers = None if lot or serial else entry.answers
        return page_response(request, entry.data, entry.html, None, entry.version, page_url, as_of, answers)

    @route(
        "/producers/{org_id:uuid}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        operation_id=per_method("producer_page"),
        exclude_from_auth=True,
    )
    async def producer_page(
        self,
        request: Request[Any, Any, Any],
        read_db: ReadDB,
        org_id: FromPath[uuid.UUID],
        nearby_sites: NearbySitesDependency = None,
    ) -> Response[Any]:
        """The producer's page: story, products, certificates and who verified them, batches on sale, places."""
        lang = page_language(request)
        page = await producer_page(read_db, org_id, nearby_sites, lang)
        if wants_json(request):
            return Response(msgspec.json.encode(page), media_type="application/json", headers={"Vary": "Accept"})
        return html_response(render_producer_page(page, lang, clock.today()), lang=lang, css=PRODUCER_CSS)
