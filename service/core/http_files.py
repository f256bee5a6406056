"""Serve bytes or files over HTTP properly: strong ETags, 304s, byte ranges (206/416), HEAD.

Litestar's File response does neither ranges nor conditional requests; audio players seek with
Range and 3D viewers revalidate with If-None-Match, so both matter here.

    return await serve_file(request, path, "audio/ogg", etag=sha256_hex)
    return serve_bytes(request, data, "model/gltf-binary")

Handlers using these should accept GET and HEAD (`@route(..., http_method=[HttpMethod.GET, HttpMethod.HEAD])`)
and set `opt={SKIP_COMPRESSION: True}` so the app's gzip middleware leaves ranges alone (this needs the
app's CompressionConfig to have `exclude_opt_key=SKIP_COMPRESSION`).

Multiple ranges (`bytes=0-1,5-6`) are answered with the whole representation (200), which RFC 9110
allows; no multipart/byteranges. Syntactically invalid Range headers are ignored (200), as the RFC says.
"""

import asyncio
import hashlib
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any
from urllib.parse import quote

import anyio
import msgspec
from litestar import Request, Response
from litestar.background_tasks import BackgroundTask, BackgroundTasks
from litestar.datastructures import Cookie
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse

from service.core.errors import PROBLEM_JSON, NotFound, Problem

SKIP_COMPRESSION = "skip_compression"
DEFAULT_CACHE_CONTROL = "public, max-age=86400"
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
CHUNK_BYTES = 256 * 1024

_ETAG = re.compile(r'\s*((?:W/)?"[^"]*")\s*(?:,|$)')
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
_DIGESTS: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_DIGEST_CACHE_SIZE = 1024


# --- the decision, independent of where the bytes live ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """What to answer: a status, the byte span to send (length 0 = no body) and headers."""

    status: int
    start: int
    length: int
    headers: dict[str, str]


def quote_etag(etag: str) -> str:
    """'abc' -> '"abc"'; already-quoted (or weak) tags stay as they are."""
    return etag if etag.startswith(('"', 'W/"')) else f'"{etag}"'


def _tags(header: str) -> list[str]:
    return [match.group(1) for match in _ETAG.finditer(header)]


def _weak_match(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    ours = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == ours for tag in _tags(header))


def _strong_match(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return not etag.startswith("W/") and any(tag == etag for tag in _tags(header))


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(start, end) inclusive; None when the header is to be ignored; False when unsatisfiable."""
    if "," in header:
        return None  # several ranges: we send the whole thing (allowed by RFC 9110 §14.2)
    match = _RANGE.match(header)
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return False
        return max(0, size - suffix), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        return False
    end = min(int(last), size - 1) if last else size - 1
    return start, end


def plan_response(
    method: str,
    request_headers: Any,
    *,
    size: int,
    content_type: str,
    etag: str,
    last_modified: datetime | None,
    cache_control: str,
    filename: str | None = None,
) -> Plan:
    """RFC 9110 §13.2.2 order: If-Match, If-None-Match / If-Modified-Since, then Range with If-Range."""
    validators = {"etag": etag, "cache-control": cache_control}
    if last_modified is not None:
        validators["last-modified"] = format_datetime(last_modified.astimezone(UTC).replace(microsecond=0), usegmt=True)
    headers = {**validators, "accept-ranges": "bytes", "content-type": content_type}
    if filename:
        headers["content-disposition"] = content_disposition(filename)

    if_match = request_headers.get("if-match")
    if if_match is not None and not _strong_match(if_match, etag):
        return Plan(412, 0, 0, {**validators, "content-type": PROBLEM_JSON})

    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        if _weak_match(if_none_match, etag):
            return Plan(304, 0, 0, validators)
    elif last_modified is not None and (since := request_headers.get("if-modified-since")):
        since_at = _http_date(since)
        if since_at is not None and last_modified.replace(microsecond=0) <= since_at:
            return Plan(304, 0, 0, validators)

    range_header = request_headers.get("range")
    if method == "GET" and range_header and _if_range_holds(request_headers.get("if-range"), etag, last_modified):
        span = _byte_range(range_header, size)
        if span is False:
            return Plan(416, 0, 0, {**validators, "content-range": f"bytes */{size}", "content-type": PROBLEM_JSON})
        if isinstance(span, tuple):
            start, end = span
            headers["content-range"] = f"bytes {start}-{end}/{size}"
            headers["content-length"] = str(end - start + 1)
            return Plan(206, start, end - start + 1, headers)
    headers["content-length"] = str(size)
    return Plan(200, 0, size, headers)


def _if_range_holds(if_range: str | None, etag: str, last_modified: datetime | None) -> bool:
    """No If-Range: the range applies. Otherwise only when the validator still matches (strongly)."""
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    since = _http_date(value)
    return since is not None and last_modified is not None and last_modified.replace(microsecond=0) == since


def content_disposition(filename: str, disposition: str = "inline") -> str:
    """RFC 6266: the name percent-encoded as `filename*=UTF-8''...` (RFC 8187), and an ASCII `filename`
    for old clients with every quote, backslash, semicolon, control or non-ASCII character replaced."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\;%' else "_" for c in filename) or "download"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- the response ------------------------------------------------------------------------------------


async def _file_chunks(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """Read the span in chunks through a worker thread; the file is opened only when the body is sent."""
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await f.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


class RangeResponse(Response[bytes]):
    """A planned answer whose body is a slice of bytes in memory or a span of a file on disk."""

    def __init__(self, plan: Plan, *, data: bytes | None = None, path: Path | None = None) -> None:
        super().__init__(content=b"", status_code=plan.status, headers=plan.headers)
        self.plan = plan
        self.data = data
        self.path = path

    def _problem_body(self, request: Request[Any, Any, Any]) -> bytes:
        if self.plan.status == 416:
            code, title, detail = (
                "range_not_satisfiable",
                "Range not satisfiable",
                "the requested range is outside the file",
            )
        else:
            code, title, detail = "precondition_failed", "Precondition failed", "the file has changed (If-Match)"
        problem = Problem(
            type=f"https://trace-tour.thainguyen.gov.vn/problems/{code.replace('_', '-')}",
            title=title,
            status=self.plan.status,
            detail=detail,
            code=code,
            instance=request.url.path,
        )
        return msgspec.json.encode(problem)

    def to_asgi_response(
        self,
        app: Any,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        headers: dict[str, str] | None = None,
        **_: Any,
    ) -> ASGIResponse:
        is_head = request.method == "HEAD"
        merged = {**(headers or {}), **self.headers}
        all_cookies = [*self.cookies, *(cookies or ())]
        plan = self.plan
        common: dict[str, Any] = {
            "background": self.background or background,
            "cookies": all_cookies,
            "status_code": plan.status,
            "is_head_response": is_head,
            "media_type": merged.get("content-type", "application/octet-stream"),
        }
        if plan.status in (412, 416):
            body = self._problem_body(request)
            merged["content-length"] = str(len(body))
            return ASGIResponse(body=b"" if is_head else body, headers=merged, **common)
        if plan.status == 304 or is_head or plan.length == 0:
            return ASGIResponse(body=b"", headers=merged, **common)
        if self.data is not None:
            return ASGIResponse(body=self.data[plan.start : plan.start + plan.length], headers=merged, **common)
        assert self.path is not None
        return ASGIStreamingResponse(
            iterator=_file_chunks(self.path, plan.start, plan.length), headers=merged, **common
        )


def serve_bytes(
    request: Request[Any, Any, Any],
    data: bytes,
    content_type: str,
    *,
    etag: str | None = None,
    last_modified: datetime | None = None,
    cache_control: str = DEFAULT_CACHE_CONTROL,
    filename: str | None = None,
) -> RangeResponse:
    """Answer with in-memory bytes; the ETag defaults to the quoted sha256 of the data."""
    plan = plan_response(
        request.method,
        request.headers,
        size=len(data),
        content_type=content_type,
        etag=quote_etag(etag or hashlib.sha256(data).hexdigest()),
        last_modified=last_modified,
        cache_control=cache_control,
        filename=filename,
    )
    return RangeResponse(plan, data=data)


async def file_sha256(path: Path) -> str:
    """sha256 of a file, cached by (path, size, mtime) so a file is hashed once while unchanged."""

    def digest() -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        cached = _DIGESTS.get(key)
        if cached is not None:
            return cached
        with path.open("rb") as f:
            value = hashlib.file_digest(f, "sha256").hexdigest()
        _DIGESTS[key] = value
        while len(_DIGESTS) > _DIGEST_CACHE_SIZE:
            _DIGESTS.popitem(last=False)
        return value

    return await asyncio.to_thread(digest)


async def serve_file(
    request: Request[Any, Any, Any],
    path: Path | str,
    content_type: str,
    *,
    etag: str | None = None,
    cache_control: str = DEFAULT_CACHE_CONTROL,
    filename: str | None = None,
) -> RangeResponse:
    """Answer with a file, streamed in chunks off the loop; pass `etag` (e.g. a stored sha256) to skip hashing."""
    file_path = Path(path)
    try:
        stat = await asyncio.to_thread(file_path.stat)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound("this file does not exist", code="file_not_found") from exc
    if not S_ISREG(stat.st_mode):
        raise NotFound("this file does not exist", code="file_not_found")
    plan = plan_response(
        request.method,
        request.headers,
        size=stat.st_size,
        content_type=content_type,
        etag=quote_etag(etag or await file_sha256(file_path)),
        last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
        cache_control=cache_control,
        filename=filename,
    )
    return RangeResponse(plan, path=file_path)


__all__ = [
    "DEFAULT_CACHE_CONTROL",
    "IMMUTABLE_CACHE_CONTROL",
    "SKIP_COMPRESSION",
    "Plan",
    "RangeResponse",
    "file_sha256",
    "plan_response",
    "quote_etag",
    "serve_bytes",
    "serve_file",
]
