"""The framework's ceiling: Litestar routes with nothing of ours around them, no middleware.

`GET /health/live` returns a small msgspec Struct: `make bench` serves it with the same granian settings as
the service, so every row can be read as a ratio to what Litestar itself costs on this machine, in the same
run. `POST /echo-position` decodes a small JSON body and answers it: a POST with a body on the framework and
the server alone (the audio guide's position report is such a POST). Nothing of ours means Python's default
garbage collector settings too: its full collections are most of this row's p99 (bench/README.md, session 9).
"""

import msgspec
from litestar import Litestar, get, post


class Live(msgspec.Struct):
    status: str


@get("/health/live", sync_to_thread=False)
def live() -> Live:
    """The same answer as the service's liveness route, with nothing around it."""
    return Live(status="ok")


class Position(msgspec.Struct):
    site: str
    lat: float
    lon: float


@post("/echo-position", sync_to_thread=False, status_code=200)
def echo_position(data: Position) -> Position:
    """A POST whose JSON body is decoded and answered: what any body costs the framework and the server."""
    return data


def build() -> Litestar:
    """Granian's factory (`bench.bare_app:build`)."""
    return Litestar(route_handlers=[live, echo_position], openapi_config=None, debug=False)
