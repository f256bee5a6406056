"""Metrics of every granian worker, summed, on a port of their own (METRICS_PORT).

granian runs the app in several worker processes; each has its own counters, so a plain /metrics tells
whichever worker answered about itself only. With METRICS_PORT set, `serve` gives the workers one
prometheus_client multiprocess directory (PROMETHEUS_MULTIPROC_DIR: each process writes its samples to
memory-mapped files there) and serves the sum of those files from the parent process, on a port that
Fly's `[metrics]` scraper reaches over the private network and `[http_service]` never exposes. That is
why this port needs no token; the main port's /metrics keeps METRICS_TOKEN, and also reports the sum.
"""

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Metric, multiprocess, start_http_server
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_enabled() -> bool:
    """True inside a worker of a `serve` that sums its workers' metrics."""
    return bool(os.environ.get(MULTIPROC_ENV))


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

    def collect(self) -> Iterable[Metric]:
        for path in self.directory.glob("gauge_live*_*.db"):
            pid = int(path.stem.rsplit("_", 1)[1])
            if not _alive(pid):
                multiprocess.mark_process_dead(pid, str(self.directory))  # type: ignore[no-untyped-call]
        collected: Iterable[Metric] = self.summed.collect()  # type: ignore[no-untyped-call]
        return collected


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
