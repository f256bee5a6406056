"""Liveness, readiness and Prometheus metrics."""

import asyncio

import asyncpg
import msgspec
from litestar import Controller, get
from litestar.datastructures import State

from service.core.errors import Unavailable
from service.core.http_files import SKIP_COMPRESSION


class HealthStatus(msgspec.Struct):
    status: str


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    # fifteen bytes: compression cannot help, so the gzip middleware is not even in the way; no I/O, so a
    # plain function called on the loop (no coroutine to build and await)
    @get(
        "/live", operation_id="health_live", exclude_from_auth=True, opt={SKIP_COMPRESSION: True}, sync_to_thread=False
    )
    def live(self) -> HealthStatus:
        """The process answers; no I/O."""
        return HealthStatus(status="ok")

    @get("/ready", operation_id="health_ready", exclude_from_auth=True)
    async def ready(self, state: State) -> HealthStatus:
        """The database answers within two seconds; 503 otherwise, so load balancers route around us."""
        pool: asyncpg.Pool = state.pool
        try:
            async with asyncio.timeout(2):
                async with pool.acquire() as conn:
                    await conn.fetchval("select 1")
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise Unavailable(
                f"database not reachable: {type(exc).__name__}",
                code="database_unavailable",
                headers={"Retry-After": "5"},
            ) from exc
        return HealthStatus(status="ok")
