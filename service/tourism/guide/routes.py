"""Public routes of the audio guide: what to play at a position, and the offline pack of a site."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from litestar.types import Scope

from service.core.edge import BodyLane, Lane, RequestHeaders
from service.core.errors import ServiceError
from service.core.prepared import Prepared
from service.tourism.guide.caches import TourismCaches
from service.tourism.guide.counts import GuideCounter
from service.tourism.guide.offline import current_offline_etag, etag_matches, offline_manifest
from service.tourism.guide.schemas import GuideAnswer, PositionReport
from service.tourism.guide.service import guide_answer, guide_position
from service.tourism.params import LangQuery, base_url


def _counted(state: State, answer: GuideAnswer) -> GuideAnswer:
    """A play is counted (anonymously: site, point, language, day) when the answer says play."""
    if answer.action == "play" and answer.play is not None:
        counter: GuideCounter = state.guide_counter
        counter.play(answer.site, answer.play.point, answer.play.lang)
    return answer


POSITION_PATH = "/api/v1/guide/position"


def position_lane(state: State) -> BodyLane:
    """Position reports answered at the edge (core/edge.py) from the site's index in memory.

    The same decoding (strict: what the route would refuse is never accepted here), the same answer and the
    same count as the route; a body that does not decode, a site not in memory or a refused language go on
    to the route, which loads, answers or explains.
    """
    caches: TourismCaches = state.tourism_caches
    origin = base_url(state)

    def answer(scope: Scope, headers: RequestHeaders, body: bytes) -> tuple[Prepared, str] | None:
        try:
            report = _decode_report(body)
        except msgspec.DecodeError:  # ValidationError too: the route says what is wrong
            return None
        guide = caches.guides.get(report.site)
        if guide is None:
            return None
        try:
            found = _counted(state, guide_answer(guide, report, origin))
        except ServiceError:
            return None
        encoded = msgspec.json.encode(found)
        return Prepared(200, (_JSON, (b"content-length", str(len(encoded)).encode())), encoded), POSITION_PATH

    return answer


OFFLINE_TEMPLATE = "/api/v1/sites/{slug}/offline"


def offline_lane(state: State) -> Lane:
    """An app checking its offline pack is current (If-None-Match) gets the prepared 304 at the edge.

    Only the 304 (a download is counted and built by the route), only for a site and language the route
    already answered (so both are valid), only with no query or `?lang=` alone.
    """
    caches: TourismCaches = state.tourism_caches

    def replay(scope: Scope, headers: RequestHeaders) -> tuple[Prepared, str] | None:
        if_none_match = headers.get(b"if-none-match")
        parts = scope["path"].split("/")  # "", "api", "v1", "sites", slug, "offline"
        if not if_none_match or len(parts) != 6 or parts[3] != "sites" or parts[5] != "offline" or parts[2] != "v1":
            return None
        query: bytes = scope["query_string"]
        lang = "vi"
        if query:
            asked = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if len(asked) != 1 or asked[0][0] != "lang":
                return None
            lang = asked[0][1]
        per_lang = caches.offline_304.get(parts[4])
        found = None if per_lang is None else per_lang.get(lang)
        if found is None or not etag_matches(if_none_match.decode("latin-1"), found[0]):
            return None
        return found[1], OFFLINE_TEMPLATE

    return replay


@asynccontextmanager
async def guide_lanes_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Position reports and offline-pack revalidations answered at the edge (core/edge.py)."""
    edge = getattr(app.state, "edge", None)
    if edge is None:
        yield
        return
    edge.body_lanes[POSITION_PATH] = position_lane(app.state)
    edge.lanes["api"] = offline_lane(app.state)
    try:
        yield
    finally:
        edge.body_lanes.pop(POSITION_PATH, None)
        edge.lanes.pop("api", None)


_decode_report = msgspec.json.Decoder(PositionReport).decode
_JSON = (b"content-type", b"application/json")


class GuideController(Controller):
    path = "/api/v1"
    tags = ["tourism: guide"]

    @post(
        POSITION_PATH.removeprefix("/api/v1"),
        operation_id="guide_position",
        summary="What to play at this position",
        exclude_from_auth=True,
        status_code=200,
    )
    async def position(self, state: State, data: JSONBody[PositionReport]) -> GuideAnswer:
        """What to play now at this position, and the next stop with distance and bearing."""
        caches: TourismCaches = state.tourism_caches
        return _counted(state, await guide_position(state.read_pool, caches.guides, data, base_url(state)))

    @get(
        OFFLINE_TEMPLATE.removeprefix("/api/v1").replace("{slug}", "{slug:str}"),
        operation_id="site_offline_pack",
        summary="Get a site's offline pack",
        exclude_from_auth=True,
    )
    async def offline_pack(
        self, request: Request[Any, Any, Any], state: State, slug: FromPath[str], lang: LangQuery = "vi"
    ) -> Response[Any]:
        """The offline manifest; 304 when If-None-Match carries the current ETag (no manifest is built)."""
        origin = base_url(state)
        headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
        if_none_match = request.headers.get("if-none-match")
        if if_none_match:
            caches: TourismCaches = state.tourism_caches
            per_lang = caches.offline_304.get(slug)
            if per_lang is not None and lang in per_lang:
                etag, not_modified = per_lang[lang]
            else:
                token = caches.offline_304.token()
                etag = await current_offline_etag(state.read_pool, caches.site_versions, slug, lang, origin)
                not_modified = Prepared.of(Response(b"", status_code=304, headers={**headers, "ETag": etag}), request)
                per_lang = caches.offline_304.get(slug) or {}
                per_lang[lang] = (etag, not_modified)
                caches.offline_304.put(slug, per_lang, token)
            if etag_matches(if_none_match, etag):
                return not_modified.response()
        manifest = await offline_manifest(state.read_pool, slug, lang, origin)
        counter: GuideCounter = state.guide_counter
        counter.download(slug)
        return Response(manifest, headers={**headers, "ETag": manifest.etag})
