"""Metrics of every granian worker, summed, on a port of their own (METRICS_PORT).

granian runs the app in several worker processes; each has its own counters, so a plain /metrics tells
whichever worker answered about itself only. With METRICS_PORT set, `serve` gives the workers one
prometheus_client multiprocess directory (PROMETHEUS_MULTIPROC_DIR: each process writes its samples to
memory-mapped files there) and serves the sum of those files from the parent process, on a port that
Fly's `[metrics]` scraper reaches over the private network and `[http_service]` never exposes. That is
why this port needs no token; the main port's /metrics keeps METRICS_TOKEN, and also reports the sum.

Request counts and latencies are kept by each worker as plain numbers (service/core/observability.py: no
lock or file work per request); each worker writes them as requests_<prefix>_<pid>.json into the same
directory every few seconds and on shutdown, and the sum below reads those too, so they lag by at most that.
"""

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import msgspec
from prometheus_client import CollectorRegistry, Metric, multiprocess, start_http_server
from prometheus_client.registry import Collector

from service.core.observability import MULTIPROC_ENV, WorkerRequests, multiprocess_enabled, request_families

__all__ = ["MULTIPROC_ENV", "metrics_port", "multiprocess_enabled", "summed_registry", "workers_metrics_dir"]


@contextmanager
def workers_metrics_dir() -> Iterator[Path]:
    """A fresh, empty directory for one run of the server (old files would add a previous run's counts)."""
    directory = Path(tempfile.mkdtemp(prefix="trace-tour-metrics-"))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class LiveWorkersCollector(Collector):
    """The sum over the directory's files, after dropping live-gauge files of workers that have died
    (granian respawns a failed worker: its counters still count, its "in progress" gauges must not)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.summed = multiprocess.MultiProcessCollector(None, path=str(directory))  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        for path in self.directory.glob("gauge_live*_*.db"):
            pid = int(path.stem.rsplit("_", 1)[1])
            if not _alive(pid):
                multiprocess.mark_process_dead(pid, str(self.directory))  # type: ignore[no-untyped-call]
        collected: Iterable[Metric] = self.summed.collect()  # type: ignore[no-untyped-call]
        yield from collected
        yield from self.requests()

    def requests(self) -> Iterable[Metric]:
        """The request metrics the workers write as requests_<prefix>_<pid>.json (see observability)."""
        by_series: dict[tuple[str, str], list[WorkerRequests]] = {}
        for path in sorted(self.directory.glob("requests_*.json")):
            try:
                worker = msgspec.json.decode(path.read_bytes(), type=WorkerRequests)
            except (OSError, msgspec.DecodeError):
                continue  # a file removed or replaced under us: the next scrape reads it
            if not _alive(int(path.stem.rsplit("_", 1)[1])):
                worker.in_progress = []  # a dead worker's requests count; its "in progress" does not
            by_series.setdefault((worker.prefix, worker.app_name), []).append(worker)
        for (prefix, app_name), workers in by_series.items():
            yield from request_families(prefix, app_name, workers)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def summed_registry(directory: Path) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(LiveWorkersCollector(directory))
    return registry


@contextmanager
def metrics_port(host: str, port: int, directory: Path) -> Iterator[WSGIServer]:
    """Serve the workers' summed metrics on host:port (a daemon thread) until the block ends."""
    server, thread = start_http_server(port, addr=host, registry=summed_registry(directory))
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
