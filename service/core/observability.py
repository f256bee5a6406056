"""Request ids, structured JSON logs, per-route request metrics and the Prometheus collectors of the pools."""

import asyncio
import bisect
import contextlib
import contextvars
import itertools
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar.types import HTTPScope
from prometheus_client import REGISTRY, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_enabled() -> bool:
    """True inside a worker of a `serve` that sums its workers' metrics (METRICS_PORT, core/metrics_server.py)."""
    return bool(os.environ.get(MULTIPROC_ENV))


# a client's X-Request-ID is kept only when it is short and plain: it goes into logs and headers
_SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
access_log = logging.getLogger("service.access")


class _Ids:
    """Request ids: 16 random hex digits per worker, then a counter; as long as a uuid4 hex, far cheaper."""

    def __init__(self) -> None:
        self.prefix = secrets.token_hex(8).encode()
        self.next = itertools.count(1).__next__


_ids = _Ids()


def new_request_id() -> bytes:
    """A new request id, as the header carries it."""
    return b"%s%016x" % (_ids.prefix, _ids.next())


class Exchange(msgspec.Struct, eq=False):
    """One request as the layers around the application see it: its scope, id, and the status it was answered with.

    The id is kept as the `X-Request-ID` header carries it (the logs decode it when they write a line); `status`
    starts as the 500 the server sends when an exception escapes before any answer. A msgspec Struct: made in a
    fifth of the time of a class with `__init__`, on every request; `eq=False` keeps it hashable by identity (the
    requests in flight are a dict of them).
    """

    scope: HTTPScope
    header: bytes
    status: int = 500

    @property
    def rid(self) -> str:
        return self.header.decode("latin-1")


# the request being answered: set by the edge (service/core/edge.py) around each request, read by the logs
current_exchange: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar("exchange", default=None)


def sane_request_id(candidate: bytes) -> bytes | None:
    """A client's X-Request-ID, kept only when it is short and plain (it goes into logs and headers)."""
    return candidate if _SAFE_ID.fullmatch(candidate) else None


def current_request_id() -> str | None:
    """The id of the request being handled (the edge layer, service/core/edge.py, sets it for every request)."""
    exchange = current_exchange.get()
    return None if exchange is None else exchange.rid


# every JSON log line's timestamp, the access lines' too (AccessLines)
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id, so logs can be searched by request."""

    _encoder = msgspec.json.Encoder()

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, _TS_FORMAT),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        exchange = current_exchange.get()
        if exchange is not None:
            entry["request_id"] = exchange.rid
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

    __slots__ = ("by_status", "method", "path")

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.path = path
        self.by_status: dict[int, _Series] = {}


# the series of requests no route took (the router's 404 and 405), so unknown paths cannot grow the label set
UNROUTED = "(no route)"
# CORS preflights, answered by the edge for any path
PREFLIGHT = "(preflight)"
# the scrape itself is not counted
NOT_COUNTED = "/metrics"


class AccessLine(msgspec.Struct):
    """One request as its access line reads (the keys of the JSON log lines, JsonFormatter, in the same order)."""

    ts: str
    level: str
    logger: str
    msg: str
    request_id: str
    method: str
    path: str
    status: int
    ms: float


_wall_clock = time.time


class AccessLines:
    """The access line of every request, one JSON object per line on standard output, written in batches.

    Through `logging` a line cost ~13 us of the event loop's time (a LogRecord, the formatter's strftime, a
    write and a flush per request: more than the whole of a warm shopper page's own work), so production, which
    logs at INFO, answered cheap requests at about half the rate the benchmark measured at WARNING. Here a line
    is one msgspec encoding (its timestamp formatted once a second) appended to a list; the list is written in
    one call when it holds `max_lines`, or `max_delay` seconds after its first line, and when the app shuts
    down. A worker killed outright loses at most that fraction of a second of access lines, never another log.

    Standard output, apart from the other logs on standard error: Fly.io collects both, and a consumer that
    wants only one of the two streams can have it.
    """

    def __init__(self, *, max_lines: int = 256, max_delay: float = 0.2) -> None:
        self.max_lines = max_lines
        self.max_delay = max_delay
        self._lines: list[bytes] = []
        self._encode = msgspec.json.Encoder().encode
        self._next_second = 0.0  # the wall clock's next whole second: the timestamp is formatted again then
        self._ts = ""
        self._timer: asyncio.TimerHandle | None = None

    def add(self, method: str, path: str, status: int, elapsed: float, request_id: bytes) -> None:
        """Queue the line of one answered request (on the event loop's thread, as the edge calls it)."""
        now = _wall_clock()
        if now >= self._next_second:
            second = int(now)
            self._next_second, self._ts = second + 1, time.strftime(_TS_FORMAT, time.localtime(second))
        line = AccessLine(
            self._ts,
            "INFO",
            access_log.name,
            "request",
            request_id.decode("latin-1"),
            method,
            path,
            status,
            int(elapsed * 100_000 + 0.5) / 100,  # ms to two decimals (round() costs three times as much)
        )
        self._lines.append(self._encode(line))
        if len(self._lines) >= self.max_lines:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.max_delay, self.flush)

    def flush(self) -> None:
        """Write the queued lines now (the stream is looked up here: a test's captured stdout, a reopened one)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        lines.append(b"")
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout: the lines are dropped, not the app
            sys.stdout.write(b"\n".join(lines).decode())
            sys.stdout.flush()


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
        # the requests being answered: their route is read when a scrape asks (the router writes `path_template`
        # into the scope), so nothing per request but an insert and a delete (a dict: no method call for either)
        self.in_flight: dict[Exchange, None] = {}

    def route(self, method: str, path: str) -> _RouteSeries:
        key = (method, path)
        found = self.routes.get(key)
        if found is None:
            found = self.routes[key] = _RouteSeries(method, path)
        return found

    def finish(self, method: str, template: str | None, status: int, elapsed: float) -> None:
        """Count one answered request under its route's template (the scrape itself is not counted)."""
        path = template or UNROUTED
        route = self.routes.get((method, path))
        if route is None:
            if path.startswith(NOT_COUNTED):
                return
            route = self.route(method, path)
        series = route.by_status.get(status)
        if series is None:
            series = route.by_status[status] = _Series()
        series.count += 1
        series.total += elapsed
        series.buckets[bisect.bisect_left(_BUCKETS, elapsed)] += 1

    def in_progress(self) -> list[tuple[str, str, int]]:
        """The requests being answered now, per method and route template."""
        counts: dict[tuple[str, str], int] = {}
        for exchange in list(self.in_flight):
            scope = exchange.scope
            template = scope.get("path_template") or UNROUTED
            if not template.startswith(NOT_COUNTED):
                key = (scope["method"], template)
                counts[key] = counts.get(key, 0) + 1
        return [(method, path, running) for (method, path), running in counts.items()]

    def snapshot(self) -> "WorkerRequests":
        """This worker's numbers as plain records (what a worker writes for the summing metrics port)."""
        series = [
            SeriesRecord(route.method, route.path, status, s.count, s.total, list(s.buckets))
            for route in list(self.routes.values())
            for status, s in list(route.by_status.items())
        ]
        return WorkerRequests(prefix=self.prefix, app_name=self.app_name, series=series, in_progress=self.in_progress())

    def collect(self) -> Any:
        yield from request_families(self.prefix, self.app_name, [self.snapshot()])


class SeriesRecord(msgspec.Struct, array_like=True):
    method: str
    path: str
    status: int
    count: int
    total: float
    buckets: list[int]


class WorkerRequests(msgspec.Struct, kw_only=True):
    """One worker's request metrics, written to the multiprocess directory as requests_<pid>.json."""

    prefix: str
    app_name: str
    series: list[SeriesRecord]
    in_progress: list[tuple[str, str, int]]


def request_families(prefix: str, app_name: str, workers: list[WorkerRequests]) -> Any:
    """The metric families of one or more workers' numbers, summed per (method, path, status)."""
    names = ["method", "path", "status_code", "app_name"]
    merged: dict[tuple[str, str, int], SeriesRecord] = {}
    progress: dict[tuple[str, str], int] = {}
    for worker in workers:
        for record in worker.series:
            key = (record.method, record.path, record.status)
            found = merged.get(key)
            if found is None:
                merged[key] = SeriesRecord(*key, record.count, record.total, list(record.buckets))
            else:
                found.count += record.count
                found.total += record.total
                found.buckets = [a + b for a, b in zip(found.buckets, record.buckets, strict=True)]
        for method, path, running in worker.in_progress:
            progress[(method, path)] = progress.get((method, path), 0) + running
    total = CounterMetricFamily(f"{prefix}_requests", "Total requests", labels=names)
    errors = CounterMetricFamily(f"{prefix}_requests_error", "Total errors in requests", labels=names)
    duration = HistogramMetricFamily(f"{prefix}_request_duration_seconds", "Request duration, in seconds", labels=names)
    in_progress = GaugeMetricFamily(
        f"{prefix}_requests_in_progress", "Total requests currently in progress", labels=names
    )
    for (method, path), running in progress.items():
        in_progress.add_metric([method, path, "200", app_name], running)
    for record in merged.values():
        labels = [record.method, record.path, str(record.status), app_name]
        total.add_metric(labels, record.count)
        if record.status >= 500:
            errors.add_metric(labels, record.count)
        cumulative = list(zip(_BUCKET_LABELS, itertools.accumulate(record.buckets), strict=True))
        duration.add_metric(labels, cumulative, record.total)
    yield total
    yield errors
    yield duration
    yield in_progress


_metrics: dict[tuple[str, str], RequestMetrics] = {}


def request_metrics(prefix: str, app_name: str) -> RequestMetrics:
    """One collector per process and prefix, registered once (apps built again in tests share it)."""
    found = _metrics.get((prefix, app_name))
    if found is None:
        found = _metrics[(prefix, app_name)] = RequestMetrics(prefix, app_name)
        REGISTRY.register(found)
    return found


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


REQUESTS_SNAPSHOT_SECONDS = 5.0


def write_requests_snapshot(directory: str) -> None:
    """Write this worker's request metrics next to prometheus_client's files (atomically: a scrape never reads half)."""
    for metrics in list(_metrics.values()):
        target = os.path.join(directory, f"requests_{metrics.prefix}_{os.getpid()}.json")
        temporary = f"{target}.tmp"
        with open(temporary, "wb") as out:
            out.write(msgspec.json.encode(metrics.snapshot()))
        os.replace(temporary, target)


@asynccontextmanager
async def worker_metrics_lifespan(_app: Any) -> AsyncIterator[None]:
    """Where several workers are summed, each writes its request numbers every few seconds and on shutdown.

    The requests are counted as plain numbers in the worker (no lock, no file on the hot path); the summing
    side (service/core/metrics_server.py) reads these files beside prometheus_client's own.
    """
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        yield
        return

    async def keep_writing() -> None:
        while True:
            await asyncio.sleep(REQUESTS_SNAPSHOT_SECONDS)
            await asyncio.to_thread(write_requests_snapshot, directory)

    task = asyncio.create_task(keep_writing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.to_thread(write_requests_snapshot, directory)
