"""Answers encoded once and replayed: status, raw headers and body bytes held in a per-worker cache.

A warm hot path (shopper page, resolver redirect, cached QR, offline 304) should do almost nothing: no
re-encoding of the body, no header merging, no per-request dict building. `Prepared.of()` lets Litestar
build the answer the ordinary way once (so the bytes and headers are exactly what it would send) and keeps
them; `Prepared.response()` hands that back to Litestar as a Response whose ASGI app sends two messages.

Only answers that do not depend on the request beyond the cache key may be prepared: the key must hold
everything the answer varies on (language, JSON or HTML, the ETag a client sent...).
"""

import gzip
from typing import Any

from litestar import Request, Response
from litestar.types import Receive, Scope, Send

# the app's compression settings (service/app.py): gzip at this level for bodies of at least this many bytes
COMPRESS_FROM = 1024
GZIP_LEVEL = 6


class Prepared:
    """One answer as raw ASGI parts; shared by every request that gets it (never mutated after creation)."""

    __slots__ = ("_gzipped", "body", "headers", "status")

    def __init__(self, status: int, headers: tuple[tuple[bytes, bytes], ...], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self._gzipped: Prepared | None = None

    def encoded_for(self, accept_encoding: bytes) -> "Prepared":
        """This answer as a client accepting `accept_encoding` gets it: gzip-compressed once, then replayed.

        The same rule as the app's compression middleware (core/edge.py's lane skips it): gzip when the client
        names it and the body is at least COMPRESS_FROM bytes; `Content-Encoding`, the new length and
        `Vary: Accept-Encoding` are set as the middleware sets them.
        """
        if len(self.body) < COMPRESS_FROM or b"gzip" not in accept_encoding:
            return self
        if self._gzipped is None:
            body = gzip.compress(self.body, compresslevel=GZIP_LEVEL, mtime=0)
            replaced = (b"content-length", b"vary", b"content-encoding")
            headers = [(n, v) for n, v in self.headers if n.lower() not in replaced]
            vary = b", ".join([v for n, v in self.headers if n.lower() == b"vary"] + [b"Accept-Encoding"])
            headers += [(b"content-encoding", b"gzip"), (b"content-length", str(len(body)).encode()), (b"vary", vary)]
            self._gzipped = Prepared(self.status, tuple(headers), body)
        return self._gzipped

    @classmethod
    def of(cls, response: Response[Any], request: Request[Any, Any, Any]) -> "Prepared":
        """What Litestar would send for `response`, encoded now, once."""
        asgi = response.to_asgi_response(None, request)
        return cls(asgi.status_code, tuple(asgi.encode_headers()), asgi.body)

    def response(self) -> "PreparedResponse":
        return PreparedResponse(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # a fresh header list each time: middleware (compression, request id) may add to it
        await send({"type": "http.response.start", "status": self.status, "headers": list(self.headers)})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class PreparedResponse(Response[bytes]):
    """A Response that is already encoded: Litestar's response handler gets the prepared ASGI app back."""

    __slots__ = ("prepared",)

    def __init__(self, prepared: Prepared) -> None:
        super().__init__(prepared.body, status_code=prepared.status)
        self.prepared = prepared

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **_: Any) -> Any:
        """The prepared parts as they are (routes that use this set no route-level headers or cookies)."""
        return self.prepared
