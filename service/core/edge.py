"""The outermost layer of every HTTP request: its id, and CORS for browsers on other origins.

One pure ASGI layer around the whole application (routing, 404s and 405s included), reading the request's
headers once. It replaces Litestar's CORS middleware, which parsed the headers into a `Headers` object and
checked its bypass rules on every request (about a seventh of `/health/live`'s CPU in process); the
answers are the same for this service's policy, which is fixed: any origin may read the public API, no
credentials (bearer tokens are sent explicitly), these response headers exposed.

- A request without `Origin` (phones' apps, shoppers' navigations, servers) passes with only its id added.
- `OPTIONS` with `Origin` is a preflight: answered here, `204`, every method, the headers asked for.
- Any other request with `Origin` gets `Access-Control-Allow-Origin: *` and the exposed headers; with a
  cookie, the origin itself and `Vary: Origin` (so a cached answer is never shared across origins).

The request id is the client's `X-Request-ID` when it is sane (a phone's retry keeps its id), else a new
one; it is echoed on the answer and set for the logs and problem documents. The request metrics and the
access line are kept here too, once per request, after the answer: under the route template the router
wrote into the scope (or the lane's), so a route's labels cost a dict lookup and no middleware layer per
route (service/core/observability.py); requests no route took (404, 405) count under one series. Access
lines (when INFO is on for `service.access`) are queued and written in batches on standard output
(observability.AccessLines; `app.on_shutdown` writes what is left).

**Warm lanes.** A GET whose answer a route prepared before (core/prepared.py: the resolver's redirect, the
shopper pages) is replayed here, before routing: the route registers a `Lane` for its first path segment,
and the lane finds the prepared answer for exactly this request in the route's own cache (so a change
notification that drops the cache entry drops the replay with it), doing whatever the route does on each
hit (recording the scan). A lane answers only what the route answered for the same request line and
headers; anything else (a miss, HEAD, a query it does not know) goes on to Litestar as before. What a lane
skips is Litestar's routing, kwargs, middleware stack and response building: it still counts the request
under the route's own metrics, writes the access line, and gzips as the compression middleware would (once
per answer). A Host header that is not a plain name or address is never answered here (Litestar judges it).
Routes register their lanes from their lifespans: `app.state.edge.lanes[segment] = lane`.

A POST whose answer is computed from its body alone (the audio guide's position report) can have a body
lane, by exact path: the edge reads the body (up to MAX_LANE_BODY bytes) and the lane answers from it, or
declines (a body it cannot decode, a site not in memory), and the route gets the very same body to answer
and explain, problem+json included.
"""

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from time import perf_counter
from typing import Any, Final

from litestar.constants import DEFAULT_ALLOWED_CORS_HEADERS
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from service.core.observability import (
    PREFLIGHT,
    AccessLines,
    Exchange,
    RequestMetrics,
    access_log,
    current_exchange,
    new_request_id,
    sane_request_id,
)
from service.core.prepared import Prepared

# the member bound once: looking `ScopeType.HTTP` up on the Enum class costs ~70 ns more on every request
_HTTP: Final = ScopeType.HTTP
_ID = b"x-request-id"
_ORIGIN = b"origin"
_COOKIE = b"cookie"
_VARY = b"vary"
_ASKED_HEADERS = b"access-control-request-headers"
_HOST = b"host"
_ACCEPT_ENCODING = b"accept-encoding"
# the request headers the edge reads, each its own name: one dict lookup per header instead of four comparisons
_READ: Final = {name: name for name in (_ID, _ORIGIN, _COOKIE, _ASKED_HEADERS)}
# a plain host name or address (a subset of what Litestar's router accepts): anything else is left to the router
_PLAIN_HOST = re.compile(rb"\A[0-9A-Za-z.\-:\[\]]*\Z")
_ALLOW_ORIGIN = b"access-control-allow-origin"
_METHODS = b"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
_PREFLIGHT_MAX_AGE = 600


log = logging.getLogger("service.edge")
MAX_LANE_BODY = 64 * 1024
# the request's headers by lower-case name, the first of each (as Litestar's `request.headers.get` reads them)
RequestHeaders = dict[bytes, bytes]
# the prepared answer for exactly this GET and the route's path template (its metrics series, as Litestar names
# it: "/trace/{code}"), or None to let the route answer; a lane does not await (one that raises is logged and
# the route answers)
Lane = Callable[[Scope, RequestHeaders], tuple[Prepared, str] | None]
# the same for a POST, from its whole body
BodyLane = Callable[[Scope, RequestHeaders, bytes], tuple[Prepared, str] | None]


def first_headers(scope: Scope) -> RequestHeaders:
    """The request's headers, the first of each name (a lane and its route build their keys from these)."""
    found: RequestHeaders = {}
    for name, value in scope["headers"]:
        if name not in found:
            found[name] = value
    return found


class Edge:
    """Request id and CORS, around the application's whole ASGI handler; warm answers replayed by lanes."""

    def __init__(self, app: ASGIApp, expose_headers: Sequence[str], metrics: RequestMetrics | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.lanes: dict[str, Lane] = {}
        # the requests being answered (their route is read when a scrape asks: RequestMetrics.in_progress)
        self.in_flight: dict[Exchange, None] = metrics.in_flight if metrics is not None else {}
        self.body_lanes: dict[str, BodyLane] = {}
        self.access = AccessLines()
        self.simple = (
            (_ALLOW_ORIGIN, b"*"),
            (b"access-control-expose-headers", ", ".join(sorted(set(expose_headers))).encode("latin-1")),
        )
        self.preflight = (
            (b"access-control-max-age", str(_PREFLIGHT_MAX_AGE).encode()),
            (_ALLOW_ORIGIN, b"*"),
            (b"access-control-allow-methods", _METHODS),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != _HTTP:
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        method: str = scope["method"]  # HTTP only here
        path = scope["path"]  # as asked (the router may rewrite the scope's for a mounted app)
        rid: bytes | None = None
        origin: bytes | None = None
        asked: bytes | None = None
        cookie = False
        for name, value in scope["headers"]:
            kind = _READ.get(name)
            if kind is None:
                continue
            if kind is _ID:
                rid = sane_request_id(value)
            elif kind is _ORIGIN:
                origin = value
            elif kind is _COOKIE:
                cookie = True
            else:
                asked = value
        exchange = Exchange(scope, rid or new_request_id())
        token = current_exchange.set(exchange)
        in_flight = self.in_flight
        in_flight[exchange] = None
        try:
            if origin is not None and method == "OPTIONS":
                scope["path_template"] = PREFLIGHT  # answered here for every path: one series, not one per path
                await self._preflight(exchange, asked, send)
                return
            added = [(_ID, exchange.header)]
            joins_vary = origin is not None and cookie
            if origin is not None:
                added += self._simple(origin, cookie)
            if self.lanes and method == "GET":
                lane = self.lanes.get(path[1:].partition("/")[0])
                if lane is not None and await self._replay(lane, scope, exchange, send, added, joins_vary):
                    return
            elif self.body_lanes and method == "POST":
                body_lane = self.body_lanes.get(path)
                if body_lane is not None:
                    rest = await self._answer_from_body(body_lane, scope, receive, exchange, send, added, joins_vary)
                    if rest is None:
                        return
                    receive = rest

            # a plain function handing back `send`'s awaitable: no coroutine of its own for each message
            def answer(message: Message) -> Awaitable[None]:
                if message["type"] == "http.response.start":
                    exchange.status = message["status"]
                    headers = message.get("headers", ())
                    message["headers"] = _merged(headers, added) if joins_vary else [*headers, *added]
                return send(message)

            await self.app(scope, receive, answer)
        finally:
            del in_flight[exchange]
            elapsed = perf_counter() - started
            if self.metrics is not None:  # under the route's template: the router's, or the lane's for a replay
                self.metrics.finish(method, scope.get("path_template"), exchange.status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                self.access.add(method, path, exchange.status, elapsed, exchange.header)
            current_exchange.reset(token)

    async def _replay(
        self,
        lane: Lane,
        scope: Scope,
        exchange: Exchange,
        send: Send,
        added: list[tuple[bytes, bytes]],
        joins_vary: bool,
    ) -> bool:
        """Send the lane's prepared answer for this request, if it has one; False to let the app answer."""
        headers = first_headers(scope)
        host = headers.get(_HOST)
        if host is not None and _PLAIN_HOST.match(host) is None:
            return False
        found = _asked(lane, scope, headers)
        if found is None:
            return False
        await self._send(found, headers, scope, exchange, send, added, joins_vary)
        return True

    async def _answer_from_body(
        self,
        lane: BodyLane,
        scope: Scope,
        receive: Receive,
        exchange: Exchange,
        send: Send,
        added: list[tuple[bytes, bytes]],
        joins_vary: bool,
    ) -> Receive | None:
        """Answer a POST from its body; else the `receive` that hands the app the messages read here first."""
        read: list[ReceiveMessage] = []
        size = 0
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break  # the client went away: the app sees it too
            size += len(message.get("body", b""))
            if size > MAX_LANE_BODY or not message.get("more_body", False):
                break
        headers = first_headers(scope)
        host = headers.get(_HOST)
        last = read[-1]
        complete = last["type"] == "http.request" and not last.get("more_body", False)
        if complete and size <= MAX_LANE_BODY and (host is None or _PLAIN_HOST.match(host) is not None):
            body = b"".join(m.get("body", b"") for m in read if m["type"] == "http.request")
            found = _asked(lane, scope, headers, body)
            if found is not None:
                await self._send(found, headers, scope, exchange, send, added, joins_vary)
                return None

        async def replay() -> ReceiveMessage:
            return read.pop(0) if read else await receive()

        return replay

    async def _send(
        self,
        found: tuple[Prepared, str],
        headers: RequestHeaders,
        scope: Scope,
        exchange: Exchange,
        send: Send,
        added: list[tuple[bytes, bytes]],
        joins_vary: bool,
    ) -> None:
        prepared = found[0].encoded_for(headers.get(_ACCEPT_ENCODING, b""))
        # counted under the route's own series: a replayed answer and a routed one count together
        scope["path_template"] = found[1]
        exchange.status = status = prepared.status
        sent = _merged(prepared.headers, added) if joins_vary else [*prepared.headers, *added]
        await send({"type": "http.response.start", "status": status, "headers": sent})
        await send({"type": "http.response.body", "body": prepared.body, "more_body": False})

    def _simple(self, origin: bytes, cookie: bool) -> list[tuple[bytes, bytes]]:
        if not cookie:
            return list(self.simple)
        # a request carrying a cookie is answered for its own origin only, and caches must keep them apart
        return [(_ALLOW_ORIGIN, origin), *self.simple[1:], (_VARY, b"Origin")]

    async def _preflight(self, exchange: Exchange, asked: bytes | None, send: Send) -> None:
        headers = [*self.preflight, (_ID, exchange.header)]
        wanted = {h.strip() for h in (asked or b"").decode("latin-1").split(",") if h.strip()}
        if wanted:
            allowed = ", ".join(sorted(wanted | DEFAULT_ALLOWED_CORS_HEADERS))
            headers.append((b"access-control-allow-headers", allowed.encode("latin-1")))
        exchange.status = 204
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _asked(lane: Callable[..., tuple[Prepared, str] | None], *args: Any) -> tuple[Prepared, str] | None:
    """A lane's answer; a lane that fails is logged and the route answers instead (with its error handling)."""
    try:
        return lane(*args)
    except Exception:
        log.exception("a warm lane failed; the route answers")
        return None


def _merged(headers: Iterable[tuple[bytes, bytes]], added: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The answer's headers with ours; a `Vary: Origin` joins the answer's own Vary instead of replacing it."""
    merged = [*headers]
    for name, value in added:
        if name == _VARY:
            for i, (existing, present) in enumerate(merged):
                if existing.lower() == _VARY:
                    merged[i] = (existing, present + b", " + value)
                    break
            else:
                merged.append((name, value))
        else:
            merged.append((name, value))
    return merged
