"""The framework's ceiling: one Litestar route returning a small msgspec Struct, no middleware.

`make bench` serves it with the same granian settings as the service, so every row can be read as a
ratio to what Litestar itself costs on this machine, in the same run.
"""

import msgspec
from litestar import Litestar, get


class Live(msgspec.Struct):
    status: str


@get("/health/live", sync_to_thread=False)
def live() -> Live:
    """The same answer as the service's liveness route, with nothing around it."""
    return Live(status="ok")


def build() -> Litestar:
    """Granian's factory (`bench.bare_app:build`)."""
    return Litestar(route_handlers=[live], openapi_config=None, debug=False)
