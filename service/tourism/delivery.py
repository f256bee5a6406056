"""Serving file bytes with ETag, 304 and single-range 206 responses.

A narrow stand-in for the shared service/http_files.py: tourism calls only `serve_bytes`, so swapping
in the shared helper is one call.
"""

import re
from typing import Any

from litestar import Request, Response

from service.errors import ServiceError

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = [part.strip().removeprefix("W/") for part in header.split(",")]
    return etag in candidates


def serve_bytes(
    request: Request[Any, Any, Any],
    data: bytes,
    *,
    media_type: str,
    etag: str,
    cache_control: str = "public, max-age=3600",
    filename: str | None = None,
) -> Response[bytes]:
    """200 / 206 / 304 / 416 for an in-memory file; the ETag is quoted and strong."""
    headers = {"ETag": etag, "Cache-Control": cache_control, "Accept-Ranges": "bytes"}
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(b"", status_code=304, headers=headers, media_type=media_type)
    size = len(data)
    range_header = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if range_header and (if_range is None or if_range.strip() == etag):
        match = _RANGE.match(range_header.strip())
        if match is None or (not match.group(1) and not match.group(2)):
            return _unsatisfiable(size, headers)
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
        else:
            start = max(size - int(last), 0)
            end = size - 1
        if start >= size or end < start:
            return _unsatisfiable(size, headers)
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        return Response(data[start : end + 1], status_code=206, headers=headers, media_type=media_type)
    return Response(data, status_code=200, headers=headers, media_type=media_type)


def _unsatisfiable(size: int, headers: dict[str, str]) -> Response[bytes]:
    raise ServiceError(
        f"the requested range is outside the file ({size} bytes)",
        status=416,
        code="range_not_satisfiable",
        headers={"Content-Range": f"bytes */{size}", "ETag": headers["ETag"]},
    )
