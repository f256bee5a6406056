"""Request ids, structured JSON logs and the Prometheus collectors that are not per-route."""

import asyncio
import contextvars
import logging
import re
import sys
import time
import uuid
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import REGISTRY, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.core.metrics_server import multiprocess_enabled

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("service.access")


def current_request_id(fallback_header: str | None = None) -> str | None:
    """The id of the request being handled; routing errors happen before the middleware, so they pass the header."""
    rid = _request_id.get()
    if rid is None and fallback_header and _SAFE_ID.match(fallback_header):
        return fallback_header
    return rid


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id, so logs can be searched by request."""

    _encoder = msgspec.json.Encoder()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = _request_id.get()
        if rid:
            entry["request_id"] = rid
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry).decode()


def configure_logging(level: str) -> None:
    """JSON lines for our loggers; they do not propagate, so a server's root config cannot reformat them."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name, logger_level in (("service", level.upper()), ("pgserver", "WARNING")):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logger_level)
        logger.propagate = False


class RequestIdMiddleware:
    """Give every request an id (the client's X-Request-ID when sane), echo it, log one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        rid = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                rid = candidate if _SAFE_ID.match(candidate) else None
                break
        rid = rid or uuid.uuid4().hex
        token = _request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                        }
                    },
                )
            _request_id.reset(token)


class PoolCollector(Collector):
    """Reports the size and idle connections of every live asyncpg pool of this process."""

    def __init__(self) -> None:
        self.pools: dict[int, Any] = {}

    def collect(self) -> Any:
        size = GaugeMetricFamily("db_pool_connections", "Connections open in the database pool")
        idle = GaugeMetricFamily("db_pool_idle_connections", "Idle connections in the database pool")
        maximum = GaugeMetricFamily("db_pool_max_connections", "Configured pool maximum")
        for pool in list(self.pools.values()):
            size.add_metric([], pool.get_size())
            idle.add_metric([], pool.get_idle_size())
            maximum.add_metric([], pool.get_max_size())
        yield size
        yield idle
        yield maximum


_pool_collector: PoolCollector | None = None
_pool_gauges: "PoolGauges | None" = None


class PoolGauges:
    """The same figures where several workers write one multiprocess directory (METRICS_PORT, see
    service/core/metrics_server.py): a collector there would be read by no one, so each worker writes
    its pools' figures every few seconds into live-summed gauges (a dead worker's share is not counted).
    """

    REFRESH_SECONDS = 5.0

    def __init__(self) -> None:
        self.pools: dict[int, Any] = {}
        self.size = Gauge("db_pool_connections", "Connections open in the database pools", multiprocess_mode="livesum")
        self.idle = Gauge(
            "db_pool_idle_connections", "Idle connections in the database pools", multiprocess_mode="livesum"
        )
        self.maximum = Gauge("db_pool_max_connections", "Configured pool maxima", multiprocess_mode="livesum")
        self._timer: asyncio.TimerHandle | None = None

    def refresh(self) -> None:
        pools = list(self.pools.values())
        self.size.set(sum(p.get_size() for p in pools))
        self.idle.set(sum(p.get_idle_size() for p in pools))
        self.maximum.set(sum(p.get_max_size() for p in pools))
        self._timer = None
        if pools:
            self._timer = asyncio.get_running_loop().call_later(self.REFRESH_SECONDS, self.refresh)

    def watch(self, pool: Any) -> None:
        self.pools[id(pool)] = pool
        if self._timer is None:
            self.refresh()

    def unwatch(self, pool: Any) -> None:
        self.pools.pop(id(pool), None)
        if not self.pools and self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self.refresh()


def watch_pool(pool: Any) -> None:
    """Register the pool collector (or, summing workers, the gauges) once per process, then track this pool."""
    global _pool_collector, _pool_gauges
    if multiprocess_enabled():
        if _pool_gauges is None:
            _pool_gauges = PoolGauges()
        _pool_gauges.watch(pool)
        return
    if _pool_collector is None:
        _pool_collector = PoolCollector()
        REGISTRY.register(_pool_collector)
    _pool_collector.pools[id(pool)] = pool


def unwatch_pool(pool: Any) -> None:
    if _pool_gauges is not None:
        _pool_gauges.unwatch(pool)
    if _pool_collector is not None:
        _pool_collector.pools.pop(id(pool), None)
