"""Request ids, structured JSON logs, per-route request metrics and the Prometheus collectors of the pools."""

import bisect
import contextvars
import itertools
import logging
import re
import secrets
import sys
import time
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

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


# Latency buckets of prometheus_client's default histogram (seconds), so dashboards read the same series.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_BUCKET_LABELS = (*(str(floatToGoString(b)) for b in _BUCKETS), "+Inf")  # type: ignore[no-untyped-call]


class _Series:
    """Count, sum and bucket counts of one (route, method, status): plain numbers, no lock.

    Only the event loop's thread touches them (one request at a time between awaits); a scrape reads them
    from the same thread, so nothing can tear.
    """

    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.buckets = [0] * (len(_BUCKETS) + 1)


class _RouteSeries:
    """Everything counted for one route template and method: resolved once, on the route's first request."""

    __slots__ = ("by_status", "in_progress", "method", "path")

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        self.in_progress = 0
        self.by_status: dict[int, _Series] = {}


class RequestMetrics(Collector):
    """Requests per route, method and status, their latency and the requests in progress.

    The same series as Litestar's Prometheus middleware (`{prefix}_requests_total`,
    `{prefix}_request_duration_seconds`, `{prefix}_requests_in_progress`, `{prefix}_requests_error_total`),
    kept as plain numbers and turned into metric families only when /metrics is scraped.
    """

    def __init__(self, prefix: str, app_name: str) -> None:
        self.prefix = prefix
        self.app_name = app_name
        self.routes: dict[tuple[str, str], _RouteSeries] = {}

    def route(self, method: str, path: str) -> _RouteSeries:
        key = (method, path)
        found = self.routes.get(key)
        if found is None:
            found = self.routes[key] = _RouteSeries(method, path)
        return found

    def collect(self) -> Any:
        names = ["method", "path", "status_code", "app_name"]
        total = CounterMetricFamily(f"{self.prefix}_requests", "Total requests", labels=names)
        errors = CounterMetricFamily(f"{self.prefix}_requests_error", "Total errors in requests", labels=names)
        duration = HistogramMetricFamily(
            f"{self.prefix}_request_duration_seconds", "Request duration, in seconds", labels=names
        )
        progress = GaugeMetricFamily(
            f"{self.prefix}_requests_in_progress",
            "Total requests currently in progress",
            labels=["method", "path", "status_code", "app_name"],
        )
        for route in list(self.routes.values()):
            progress.add_metric([route.method, route.path, "200", self.app_name], route.in_progress)
            for status, series in list(route.by_status.items()):
                labels = [route.method, route.path, str(status), self.app_name]
                total.add_metric(labels, series.count)
                if status >= 500:
                    errors.add_metric(labels, series.count)
                running, cumulative = 0, []
                for le, count in zip(_BUCKET_LABELS, series.buckets, strict=True):
                    running += count
                    cumulative.append((le, running))
                duration.add_metric(labels, cumulative, series.total)
        yield total
        yield errors
        yield duration
        yield progress


_metrics: dict[tuple[str, str], RequestMetrics] = {}


def request_metrics(prefix: str, app_name: str) -> RequestMetrics:
    """One collector per process and prefix, registered once (apps built again in tests share it)."""
    found = _metrics.get((prefix, app_name))
    if found is None:
        found = _metrics[(prefix, app_name)] = RequestMetrics(prefix, app_name)
        REGISTRY.register(found)
    return found


class _Ids:
    """Request ids: 16 random hex digits per worker, then a counter; as long as a uuid4 hex, far cheaper."""

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.next = itertools.count(1).__next__


_ids = _Ids()
_ID_HEADER = b"x-request-id"


class ObservabilityMiddleware:
    """Request id (the client's X-Request-ID when sane, echoed), one access line, and the request metrics.

    Pure ASGI, once per route (Litestar builds a stack per route): the route's labels are looked up on its
    first request and kept; per request there is one closure, one header tuple and a few additions.
    """

    excluded_prefix = "/metrics"

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics
        self._by_method: dict[str, _RouteSeries | None] = {}

    def _route(self, scope: HTTPScope) -> _RouteSeries | None:
        method: str = scope["method"]
        found = self._by_method.get(method, False)
        if found is False:
            path: str = scope.get("path_template") or scope["path"]
            found = None if path.startswith(self.excluded_prefix) else self.metrics.route(method, path)
            self._by_method[method] = found
        return found  # type: ignore[return-value]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        rid = None
        for name, value in scope["headers"]:
            if name == _ID_HEADER:
                candidate = value.decode("latin-1")
                rid = candidate if _SAFE_ID.match(candidate) else None
                break
        if rid is None:
            rid = f"{_ids.prefix}{_ids.next():016x}"
        token = _request_id.set(rid)
        id_header = (_ID_HEADER, rid.encode())
        route = self._route(scope)
        started = time.perf_counter()
        status = 500  # an exception that escapes before any answer is counted as the 500 the server sends

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        if route is not None:
            route.in_progress += 1
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            if route is not None:
                route.in_progress -= 1
                series = route.by_status.get(status)
                if series is None:
                    series = route.by_status[status] = _Series()
                series.count += 1
                series.total += elapsed
                series.buckets[bisect.bisect_left(_BUCKETS, elapsed)] += 1
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(
                    "request",
                    extra={
                        "fields": {
                            "method": scope.get("method"),
                            "path": scope.get("path"),
                            "status": status,
                            "ms": round(elapsed * 1000, 2),
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


def watch_pool(pool: Any) -> None:
    """Register the pool collector once per process, then track this pool."""
    global _pool_collector
    if _pool_collector is None:
        _pool_collector = PoolCollector()
        REGISTRY.register(_pool_collector)
    _pool_collector.pools[id(pool)] = pool


def unwatch_pool(pool: Any) -> None:
    if _pool_collector is not None:
        _pool_collector.pools.pop(id(pool), None)
