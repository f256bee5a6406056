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
one; it is echoed on the answer, set for the logs and problem documents, and the status sent is kept for
the request metrics (service/core/observability.py).
"""

from collections.abc import Iterable, Sequence

from litestar.constants import DEFAULT_ALLOWED_CORS_HEADERS
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.core.observability import Exchange, enter_exchange, leave_exchange, new_request_id, sane_request_id

_ID = b"x-request-id"
_ORIGIN = b"origin"
_COOKIE = b"cookie"
_VARY = b"vary"
_ASKED_HEADERS = b"access-control-request-headers"
_ALLOW_ORIGIN = b"access-control-allow-origin"
_METHODS = b"DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"
_PREFLIGHT_MAX_AGE = 600


class Edge:
    """Request id and CORS, around the application's whole ASGI handler."""

    def __init__(self, app: ASGIApp, expose_headers: Sequence[str]) -> None:
        self.app = app
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
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        rid: str | None = None
        origin: bytes | None = None
        asked: bytes | None = None
        cookie = False
        for name, value in scope["headers"]:
            if name == _ID:
                rid = sane_request_id(value.decode("latin-1"))
            elif name == _ORIGIN:
                origin = value
            elif name == _COOKIE:
                cookie = True
            elif name == _ASKED_HEADERS:
                asked = value
        exchange = Exchange(rid or new_request_id())
        token = enter_exchange(exchange)
        try:
            if origin is not None and scope.get("method") == "OPTIONS":
                await self._preflight(exchange, asked, send)
                return
            added = [(_ID, exchange.rid.encode())]
            joins_vary = origin is not None and cookie
            if origin is not None:
                added += self._simple(origin, cookie)

            async def answer(message: Message) -> None:
                if message["type"] == "http.response.start":
                    exchange.status = message["status"]
                    headers = message.get("headers", ())
                    message["headers"] = _merged(headers, added) if joins_vary else [*headers, *added]
                await send(message)

            await self.app(scope, receive, answer)
        finally:
            leave_exchange(token)

    def _simple(self, origin: bytes, cookie: bool) -> list[tuple[bytes, bytes]]:
        if not cookie:
            return list(self.simple)
        # a request carrying a cookie is answered for its own origin only, and caches must keep them apart
        return [(_ALLOW_ORIGIN, origin), *self.simple[1:], (_VARY, b"Origin")]

    async def _preflight(self, exchange: Exchange, asked: bytes | None, send: Send) -> None:
        headers = [*self.preflight, (_ID, exchange.rid.encode())]
        wanted = {h.strip() for h in (asked or b"").decode("latin-1").split(",") if h.strip()}
        if wanted:
            allowed = ", ".join(sorted(wanted | DEFAULT_ALLOWED_CORS_HEADERS))
            headers.append((b"access-control-allow-headers", allowed.encode("latin-1")))
        exchange.status = 204
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


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
