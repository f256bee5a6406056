"""Access lines: one JSON object per request on standard output, with its id, written in batches, none lost."""

import asyncio
import logging
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.core.observability import AccessLines, access_log
from service.settings import Settings


@pytest.fixture
def access_lines_on(caplog: pytest.LogCaptureFixture) -> None:
    """INFO for `service.access`, as production logs (LOG_LEVEL=INFO); put back after the test."""
    caplog.set_level(logging.INFO, logger=access_log.name)


def lines(captured: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in captured.splitlines() if '"logger":"service.access"' in line]


@pytest.mark.usefixtures("access_lines_on")
async def test_each_request_has_one_line_with_its_id_status_and_time(
    client: AsyncTestClient[Litestar], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    live = await client.get("/health/live", headers={"X-Request-ID": "phone-7.retry-2"})
    missing = await client.get("/khong-co-trang-nay")
    # a path a client chose: quotes, a line break and Vietnamese, decoded from the URL into the ASGI path
    odd = await client.get('/khong-co/%22ch%C3%A8%22%0A{"status":200}')
    await asyncio.sleep(0.5)  # written within a fraction of a second, not with each request
    written = lines(capsys.readouterr().out)
    assert [line["request_id"] for line in written] == [r.headers["x-request-id"] for r in (live, missing, odd)]
    first = written[0]
    assert first["request_id"] == "phone-7.retry-2"
    assert (first["method"], first["path"], first["status"]) == ("GET", "/health/live", 200)
    assert (first["level"], first["logger"], first["msg"]) == ("INFO", "service.access", "request")
    assert isinstance(first["ms"], float) and 0 <= first["ms"] < 10_000
    assert first["ts"][:4].isdigit() and first["ts"][10] == "T"
    assert written[1]["status"] == missing.status_code >= 400
    assert written[1]["path"] == "/khong-co-trang-nay"
    assert written[2]["path"] == '/khong-co/"chè"\n{"status":200}', "escaped: one line, the path as asked"
    assert written[2]["status"] == odd.status_code >= 400


@pytest.mark.usefixtures("access_lines_on")
async def test_lines_still_queued_are_written_when_the_app_stops(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with AsyncTestClient(app=create_app(settings), base_url="https://trace.example.vn") as client:
        capsys.readouterr()
        answered = [await client.get("/health/live") for _ in range(5)]
    written = lines(capsys.readouterr().out)  # no wait: the shutdown wrote them
    assert [line["request_id"] for line in written] == [r.headers["x-request-id"] for r in answered]


async def test_a_busy_worker_writes_a_full_batch_at_once_and_the_rest_later(capsys: pytest.CaptureFixture[str]) -> None:
    access = AccessLines(max_lines=3, max_delay=0.3)
    capsys.readouterr()
    for n in range(4):
        access.add("GET", f"/trace/{n}", 200, 0.001234, b"id-%d" % n)
    assert [line["path"] for line in lines(capsys.readouterr().out)] == ["/trace/0", "/trace/1", "/trace/2"]
    await asyncio.sleep(0.5)
    (last,) = lines(capsys.readouterr().out)
    assert (last["path"], last["request_id"], last["ms"]) == ("/trace/3", "id-3", 1.23)


async def test_no_access_lines_below_info(
    client: AsyncTestClient[Litestar], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=access_log.name)
    capsys.readouterr()
    assert (await client.get("/health/live")).status_code == 200
    await asyncio.sleep(0.5)
    assert lines(capsys.readouterr().out) == []
