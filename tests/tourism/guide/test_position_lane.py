"""Position reports answered at the edge from the site's index in memory: the route's answers, the route's errors."""

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Litestar

from service.core.edge import MAX_LANE_BODY, Edge
from service.tourism.guide.routes import POSITION_PATH
from tests.support.tourism import NOW, P1, P2, Client, assert_problem, report


def _lane_answers(app: Litestar, body: dict[str, Any]) -> bool:
    """Whether the edge answers this report itself (the site's index is in this worker's memory)."""
    edge: Edge = app.state.edge
    return edge.body_lanes[POSITION_PATH]({}, {}, msgspec.json.encode(body)) is not None  # type: ignore[arg-type]


def _parts(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    return (
        response.status_code,
        sorted((k, v) for k, v in response.headers.multi_items() if k != "x-request-id"),
        (response.content),
    )


async def _asgi_post(app: Litestar, chunks: list[bytes]) -> tuple[int, bytes]:
    """POST the body in several messages, as a phone on a slow link sends it."""
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": POSITION_PATH,
        "raw_path": POSITION_PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver.local"), (b"content-type", b"application/json")],
        "client": ("10.0.0.9", 5000),
        "server": ("testserver.local", 80),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def test_a_report_is_answered_at_the_edge_exactly_as_the_route_answers_it(
    app: Litestar, client: Client, published_site: str
) -> None:
    since = (NOW - timedelta(seconds=6)).isoformat()
    body = report(P1, inside=[{"point": "p1", "since": since}])
    assert not _lane_answers(app, body), "no site in memory yet: the route loads it"
    routed = await client.post(POSITION_PATH, json=body, headers={"Accept-Encoding": "identity"})
    assert routed.status_code == 200 and routed.json()["action"] == "play"
    assert _lane_answers(app, body)
    answered = await client.post(POSITION_PATH, json=body, headers={"Accept-Encoding": "identity"})
    assert _parts(answered) == _parts(routed)


async def test_reports_the_edge_cannot_read_still_get_the_routes_explanation(
    app: Litestar, client: Client, published_site: str
) -> None:
    assert (await client.post(POSITION_PATH, json=report(P2))).status_code == 200  # the site is in memory
    assert not _lane_answers(app, report(P1, lang="klingon"))
    assert_problem(await client.post(POSITION_PATH, json=report(P1, lang="klingon")), 422, "unknown_language")
    assert_problem(await client.post(POSITION_PATH, json=report((95.0, 105.0))), 400, "validation_failed")
    assert_problem(await client.post(POSITION_PATH, json={**report(P1), "colour": "red"}), 400, "validation_failed")
    broken = await client.post(
        POSITION_PATH, content=b'{"site": "thu-nghiem", "lat": 21.', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.headers["content-type"].startswith("application/problem+json")
    assert_problem(await client.post(POSITION_PATH, json=report(P1, site="khong-co")), 404, "site_not_found")


async def test_a_body_in_pieces_or_too_long_for_the_edge_is_answered_whole(
    app: Litestar, client: Client, published_site: str
) -> None:
    body = msgspec.json.encode(report(P2))
    assert (
        await client.post(POSITION_PATH, content=body, headers={"Content-Type": "application/json"})
    ).status_code == 200
    status, answer = await _asgi_post(app, [body[:10], body[10:25], body[25:]])
    assert status == 200 and msgspec.json.decode(answer)["play"]["point"] == "p2"
    status, answer = await _asgi_post(app, [body[:10], b"{{" + body[10:]])
    assert status == 400 and b"validation_failed" in answer, "a broken body in pieces is explained by the route"
    heard = [{"point": "p1", "at": (NOW - timedelta(days=d % 300 + 1)).isoformat()} for d in range(1500)]
    long_body = msgspec.json.encode(report(P2, heard=heard))
    assert len(long_body) > MAX_LANE_BODY
    status, answer = await _asgi_post(app, [long_body[i : i + 8192] for i in range(0, len(long_body), 8192)])
    assert status == 200, answer
    assert msgspec.json.decode(answer)["play"]["point"] == "p2", "the route got every byte the edge read first"
