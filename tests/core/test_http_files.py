"""serve_file / serve_bytes through a real Litestar app: ranges, validators, 304/412/416, HEAD, streaming."""

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, Request, Response, route
from litestar.config.compression import CompressionConfig
from litestar.enums import HttpMethod
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from service.core.errors import EXCEPTION_HANDLERS, PROBLEM_JSON
from service.core.http_files import SKIP_COMPRESSION, content_disposition, serve_bytes, serve_file

DATA = bytes(range(256)) * 40  # 10,240 bytes, every offset recognisable
BIG = os.urandom(3 * 1024 * 1024 + 123)  # larger than several read chunks


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "data.bin").write_bytes(DATA)
    (tmp_path / "big.bin").write_bytes(BIG)
    return tmp_path


@pytest.fixture
async def files_client(files: Path) -> AsyncIterator[AsyncTestClient[Litestar]]:
    methods = [HttpMethod.GET, HttpMethod.HEAD]

    @route("/bytes", http_method=methods, opt={SKIP_COMPRESSION: True})
    async def from_memory(request: Request[Any, Any, Any]) -> Response[Any]:
        return serve_bytes(request, DATA, "application/octet-stream", cache_control="public, max-age=60")

    @route("/file/{name:str}", http_method=methods, opt={SKIP_COMPRESSION: True})
    async def from_disk(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
        return await serve_file(request, files / name, "audio/ogg", filename="bài giảng.ogg")

    @route("/compressed", http_method=methods)
    async def compressed(request: Request[Any, Any, Any]) -> Response[Any]:
        return serve_bytes(request, DATA, "application/octet-stream")

    app = Litestar(
        route_handlers=[from_memory, from_disk, compressed],
        exception_handlers=EXCEPTION_HANDLERS,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024, exclude_opt_key=SKIP_COMPRESSION),
    )
    async with AsyncTestClient(app=app, base_url="https://files.example.vn") as client:
        yield client


ETAG = f'"{hashlib.sha256(DATA).hexdigest()}"'


async def test_whole_file_has_validators_and_length(files_client: AsyncTestClient[Litestar]) -> None:
    response = await files_client.get("/file/data.bin", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["etag"] == ETAG  # strong, sha256 of the file when none is given
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["content-type"] == "audio/ogg"
    assert "content-encoding" not in response.headers  # the opt keeps gzip off ranged media
    assert response.headers["last-modified"].endswith("GMT")
    assert response.headers["content-disposition"] == (
        "inline; filename=\"b_i gi_ng.ogg\"; filename*=UTF-8''b%C3%A0i%20gi%E1%BA%A3ng.ogg"
    )


@pytest.mark.parametrize("path", ["/bytes", "/file/data.bin"])
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, len(DATA) - 1),
        ("bytes=-300", len(DATA) - 300, len(DATA) - 1),
        ("bytes=10000-999999", 10000, len(DATA) - 1),
        ("bytes=-999999", 0, len(DATA) - 1),
        ("BYTES = 5 - 5", 5, 5),
    ],
)
async def test_single_ranges_answer_206(
    files_client: AsyncTestClient[Litestar], path: str, header: str, start: int, end: int
) -> None:
    response = await files_client.get(path, headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["etag"] == ETAG


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "bytes=9-3", "bytes=-", "items=0-5", "bytes=a-b"])
async def test_multiple_or_invalid_ranges_get_the_whole_file(
    files_client: AsyncTestClient[Litestar], header: str
) -> None:
    response = await files_client.get("/file/data.bin", headers={"Range": header})
    assert response.status_code == 200
    assert response.content == DATA


@pytest.mark.parametrize("header", [f"bytes={len(DATA)}-", "bytes=999999-1000000", "bytes=-0"])
@pytest.mark.parametrize("path", ["/bytes", "/file/data.bin"])
async def test_unsatisfiable_range_is_416(files_client: AsyncTestClient[Litestar], path: str, header: str) -> None:
    response = await files_client.get(path, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "range_not_satisfiable"


@pytest.mark.parametrize(
    "if_none_match",
    [ETAG, f"W/{ETAG}", f'"other", {ETAG}', "*", f'W/"x",W/{ETAG}'],
)
@pytest.mark.parametrize("path", ["/bytes", "/file/data.bin"])
async def test_matching_if_none_match_is_304_without_body(
    files_client: AsyncTestClient[Litestar], path: str, if_none_match: str
) -> None:
    response = await files_client.get(path, headers={"If-None-Match": if_none_match, "Range": "bytes=0-1"})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == ETAG
    assert "cache-control" in response.headers


async def test_other_etag_gets_the_file(files_client: AsyncTestClient[Litestar]) -> None:
    response = await files_client.get("/bytes", headers={"If-None-Match": '"stale", W/"older"'})
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["cache-control"] == "public, max-age=60"


async def test_if_modified_since(files_client: AsyncTestClient[Litestar], files: Path) -> None:
    mtime = datetime.fromtimestamp((files / "data.bin").stat().st_mtime, UTC)
    later = format_datetime(mtime + timedelta(seconds=5), usegmt=True)
    earlier = format_datetime(mtime - timedelta(days=1), usegmt=True)
    assert (await files_client.get("/file/data.bin", headers={"If-Modified-Since": later})).status_code == 304
    assert (await files_client.get("/file/data.bin", headers={"If-Modified-Since": earlier})).status_code == 200
    # If-None-Match wins over If-Modified-Since.
    both = {"If-Modified-Since": later, "If-None-Match": '"stale"'}
    assert (await files_client.get("/file/data.bin", headers=both)).status_code == 200


async def test_if_range(files_client: AsyncTestClient[Litestar]) -> None:
    ranged = await files_client.get("/file/data.bin", headers={"Range": "bytes=0-3", "If-Range": ETAG})
    assert ranged.status_code == 206
    assert ranged.content == DATA[:4]
    last_modified = ranged.headers["last-modified"]
    by_date = await files_client.get("/file/data.bin", headers={"Range": "bytes=0-3", "If-Range": last_modified})
    assert by_date.status_code == 206
    for stale in ('"changed"', f"W/{ETAG}", "Mon, 01 Jan 2001 00:00:00 GMT"):
        full = await files_client.get("/file/data.bin", headers={"Range": "bytes=0-3", "If-Range": stale})
        assert full.status_code == 200, stale
        assert full.content == DATA


async def test_if_match_mismatch_is_412(files_client: AsyncTestClient[Litestar]) -> None:
    response = await files_client.get("/bytes", headers={"If-Match": '"not-this"'})
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert (await files_client.get("/bytes", headers={"If-Match": ETAG})).status_code == 200


@pytest.mark.parametrize("path", ["/bytes", "/file/data.bin"])
async def test_head_has_headers_and_no_body(files_client: AsyncTestClient[Litestar], path: str) -> None:
    response = await files_client.head(path, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200  # Range is defined for GET only
    assert response.content == b""
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["etag"] == ETAG
    assert response.headers["accept-ranges"] == "bytes"
    assert (await files_client.head(path, headers={"If-None-Match": ETAG})).status_code == 304


async def test_big_file_streams_whole_and_across_chunks(files_client: AsyncTestClient[Litestar]) -> None:
    whole = await files_client.get("/file/big.bin")
    assert whole.status_code == 200
    assert whole.content == BIG
    assert whole.headers["etag"] == f'"{hashlib.sha256(BIG).hexdigest()}"'
    start, end = 256 * 1024 - 10, 2 * 256 * 1024 + 10  # spans two chunk boundaries
    part = await files_client.get("/file/big.bin", headers={"Range": f"bytes={start}-{end}"})
    assert part.status_code == 206
    assert part.content == BIG[start : end + 1]


async def test_missing_file_is_404_problem(files_client: AsyncTestClient[Litestar]) -> None:
    response = await files_client.get("/file/nope.bin")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "file_not_found"


async def test_without_the_opt_gzip_would_apply(files_client: AsyncTestClient[Litestar]) -> None:
    """Why handlers set the opt: the app's gzip middleware compresses anything big enough."""
    response = await files_client.get("/compressed", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"
    assert response.content == DATA


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("products.csv", "inline; filename=\"products.csv\"; filename*=UTF-8''products.csv"),
        ('a"b;c\\d', "inline; filename=\"a_b_c_d\"; filename*=UTF-8''a%22b%3Bc%5Cd"),
        (
            "chè Tân Cương.pdf",
            "inline; filename=\"ch_ T_n C__ng.pdf\"; filename*=UTF-8''ch%C3%A8%20T%C3%A2n%20C%C6%B0%C6%A1ng.pdf",
        ),
        (
            "x\r\nSet-Cookie: a=b",
            "inline; filename=\"x__Set-Cookie: a=b\"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20a%3Db",
        ),
    ],
)
def test_content_disposition_follows_rfc_6266(name: str, header: str) -> None:
    assert content_disposition(name) == header
