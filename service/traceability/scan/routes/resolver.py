"""Routes of the GS1 resolver: Digital Link (plain and compressed), short codes and the description file."""

import functools
import logging
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.enums import HttpMethod
from litestar.handlers import route
from litestar.params import FromPath
from litestar.types import Scope

from service.auth.guards import client_address_of
from service.core.edge import Lane, RequestHeaders, first_headers
from service.core.errors import NotFound
from service.core.prepared import Prepared
from service.settings import Settings
from service.traceability.identifiers import compression as dlc
from service.traceability.identifiers.digital_link import DigitalLink, ShortLink, parse_digital_link, parse_short_link
from service.traceability.scan import resolve as rs
from service.traceability.scan.caches import TraceCaches
from service.traceability.scan.routes.common import _parse, per_method, stale_headers
from service.traceability.scan.scans import ScanRecorder, coarse_position
from service.traceability.scan.unknown import UnknownScanCounter

log = logging.getLogger("service.traceability.resolver_routes")


def _raw_path(request: Request[Any, Any, Any]) -> str:
    """The path as sent (percent-escapes intact: a lot may contain an encoded '/'); no query string."""
    return raw_path(request.scope)


def raw_path(scope: Scope) -> str:
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    return raw.split(b"?", 1)[0].decode("latin-1")


def _position(scope: Scope, headers: RequestHeaders) -> tuple[float, float] | None:
    """Coarse position if the app sends one: header X-Scan-Position: lat,lon, or ?lat=&lon=."""
    header = headers.get(b"x-scan-position")
    if header:
        return coarse_position(header.decode("latin-1"))
    query: bytes = scope["query_string"]
    if not query:
        return None
    params = dict(reversed(parse_qsl(query.decode("latin-1"))))  # the first of each, as request.query_params
    lat, lon = params.get("lat"), params.get("lon")
    return coarse_position(f"{lat},{lon}") if lat and lon else None


def answer_key(scope: Scope, headers: RequestHeaders) -> tuple[str, str, str, str]:
    """Everything a resolver answer varies on: the path as sent, the query, and the negotiation headers."""
    return (
        raw_path(scope),
        scope["query_string"].decode("latin-1"),
        headers.get(b"accept", b"").decode("latin-1"),
        headers.get(b"accept-language", b"").decode("latin-1"),
    )


def _warm_answer(request: Request[Any, Any, Any], state: State, key: tuple[str, str, str, str]) -> Response[Any] | None:
    """The encoded answer given before for the same key (its target still cached), with this scan recorded."""
    caches: TraceCaches = state.trace_caches
    found = caches.answers.get(key)
    if found is None:
        return None
    prepared, target = found
    _record(request, state, target)
    return prepared.response()


def resolver_lanes(state: State) -> dict[str, Lane]:
    """The warm answers of `/01/...` and `/q/...` replayed before routing (core/edge.py), each scan recorded.

    The same key as the routes below and the same record of the scan: a lane hit and a routed warm answer
    are the same answer.
    """
    caches: TraceCaches = state.trace_caches

    def replay(scope: Scope, headers: RequestHeaders, template: str) -> tuple[Prepared, str] | None:
        found = caches.answers.get(answer_key(scope, headers))
        if found is None:
            return None
        prepared, target = found
        record_scan(state, target, scope, headers)
        return prepared, template

    return {
        "01": functools.partial(replay, template="/01/{rest}"),
        "q": functools.partial(replay, template="/q/{rest}"),
    }


def _record(request: Request[Any, Any, Any], state: State, target: rs.Target) -> None:
    if request.method == HttpMethod.GET:
        record_scan(state, target, request.scope, first_headers(request.scope))


def record_scan(state: State, target: rs.Target, scope: Scope, headers: RequestHeaders) -> None:
    """A GET of a resolver address is a scan: counted for an unknown lot/serial, buffered for a known batch."""
    if target.walked_up:
        unknown: UnknownScanCounter = state.unknown_scans
        unknown.record(target.product_id, lot=target.unknown_lot, serial=target.unknown_serial)
    if target.batch_id is not None:
        recorder: ScanRecorder = state.scan_recorder
        recorder.record(
            batch_id=target.batch_id,
            unit_id=target.unit_id,
            client_address=client_address_of(scope, state.settings),
            user_agent=headers.get(b"user-agent", b"")[:512].decode("latin-1"),
            position=_position(scope, headers),
        )


async def resolve(
    request: Request[Any, Any, Any],
    state: State,
    link: DigitalLink | ShortLink,
    compressed: dlc.Decompressed | None = None,
    answer_key: tuple[str, str, str, str] | None = None,
) -> Response[Any]:
    """Answer for `link`; a compressed request is answered as its uncompressed URI, plus Link owl:sameAs.

    With `answer_key`, a fresh 307 or linkset answer is kept encoded (tracked with its batch, so a change
    to the batch drops it with the target) and replayed by `_warm_answer`.
    """
    settings: Settings = state.settings
    caches: TraceCaches = state.trace_caches
    token = caches.answers.token()
    base = settings.base_url
    anchor = link.uri(base)
    carried = urlencode(compressed.query, quote_via=quote) if compressed is not None else ""
    same_as = None if compressed is None else anchor + (f"?{carried}" if carried else "")
    headers = {
        "Link": rs.link_header(anchor, same_as=same_as),
        "Vary": "Accept, Accept-Language",
        "Cache-Control": "no-store",
    }
    target, as_of = await rs.cached_target(state.read_pool, state.trace_caches, link, anchor)
    headers.update(stale_headers(as_of))
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
        try:
            chosen = rs.choose_link(
                candidates,
                accept,
                request.headers.get("accept-language", ""),
                request.query_params.get("context"),
            )
        except rs.Ambiguous as tie:  # links no request attribute can tell apart: the client chooses
            return Response(
                {"linkType": rs.GS1_VOC + str(wanted), "links": [msgspec.to_builtins(link) for link in tie.links]},
                status_code=300,
                headers=headers,
            )
        query = "&".join(q for q in (carried, rs.forwarded_query(request.scope["query_string"].decode("latin-1"))) if q)
        response = Response(b"", status_code=307, headers={**headers, "Location": rs.with_query(chosen.href, query)})
    if answer_key is not None and as_of is None and not target.walked_up:
        caches.answers.put(answer_key, (Prepared.of(response, request), target), token)
        if target.batch_id is not None:
            caches.track(target.batch_id, "answers", answer_key)
    _record(request, state, target)
    return response


@route(
    "/01/{rest:path}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    operation_id=per_method("resolve_digital_link"),
    exclude_from_auth=True,
    tags=["traceability: resolver"],
)
async def resolve_gtin(request: Request[Any, Any, Any], state: State, rest: FromPath[str]) -> Response[Any]:
    """GS1 Digital Link resolver: redirect to the shopper page, a requested link type, or the linkset."""
    path = _raw_path(request)
    key = answer_key(request.scope, first_headers(request.scope))
    warm = _warm_answer(request, state, key)
    if warm is not None:
        return warm
    parts = path.strip("/").split("/")
    if len(parts) == 3 and dlc.PARTIAL_SEGMENT.fullmatch(parts[2]):  # /01/{gtin}/{compressed qualifiers}
        partial: dlc.Decompressed = _parse(dlc.decompress_qualifiers, parts[1], parts[2])
        return await resolve(request, state, partial.link, partial, key)
    return await resolve(request, state, _parse(parse_digital_link, path), answer_key=key)


@route(
    "/{segment:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    operation_id=per_method("resolve_compressed_digital_link"),
    exclude_from_auth=True,
    tags=["traceability: resolver"],
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
    tags=["traceability: resolver"],
)
async def resolve_short(request: Request[Any, Any, Any], state: State, rest: FromPath[str]) -> Response[Any]:
    """Short codes of products without a GTIN: the same answers as the Digital Link resolver."""
    path = _raw_path(request)
    key = answer_key(request.scope, first_headers(request.scope))
    warm = _warm_answer(request, state, key)
    if warm is not None:
        return warm
    return await resolve(request, state, _parse(parse_short_link, path), answer_key=key)


@get(
    "/.well-known/gs1resolver",
    operation_id="gs1_resolver_description",
    exclude_from_auth=True,
    tags=["traceability: resolver"],
    cache_control=None,
)
async def resolver_description(state: State) -> Response[dict[str, Any]]:
    """The GS1 resolver description file."""
    settings: Settings = state.settings
    return Response(rs.resolver_description(settings.base_url), headers={"Cache-Control": "public, max-age=3600"})
