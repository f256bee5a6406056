"""`serve` with METRICS_PORT: a real listening port with every worker's metrics summed, no token; the main
port's /metrics still needs it."""

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from service.core.observability import REQUESTS_SNAPSHOT_SECONDS
from service.settings import Settings

TOKEN = "metrics-token-" + "m" * 16
REQUESTS = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def requests_to(text: str, path: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name == "trace_tour_requests":
            total += sum(s.value for s in family.samples if s.name.endswith("_total") and s.labels["path"] == path)
    return total


def gauge(text: str, name: str) -> float | None:
    for family in text_string_to_metric_families(text):
        if family.name == name:
            return sum(s.value for s in family.samples)
    return None


async def until_ready(base: str, limit: float = 60.0) -> None:
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        while time.monotonic() - started < limit:
            try:
                if (await client.get("/health/ready")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"the server was not ready within {limit} s")


async def test_the_metrics_port_sums_every_worker_and_the_main_port_keeps_its_token(
    settings: Settings, tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "JWT_SECRET": settings.jwt_secret,
        "ENV": "test",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "2",
        "METRICS_PORT": str(metrics_port),
        "METRICS_HOST": "127.0.0.1",
        "METRICS_TOKEN": TOKEN,
        "JOBS_IN_SERVER": "false",
        "MEDIA_DIR": str(tmp_path / "media"),
        "SCAN_SPOOL_DIR": str(tmp_path / "spool"),
        "LOG_LEVEL": "WARNING",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "service",
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await until_ready(base)
        # a fresh connection each time, so both workers answer some of them
        for _ in range(REQUESTS):
            async with httpx.AsyncClient(base_url=base) as client:
                assert (await client.get("/health/live")).status_code == 200
        async with httpx.AsyncClient(timeout=5) as client:
            # workers write their request counts every few seconds (no file work per request): poll a little
            scraped = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
            deadline = asyncio.get_running_loop().time() + 3 * REQUESTS_SNAPSHOT_SECONDS
            while requests_to(scraped.text, "/health/live") < REQUESTS and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.5)
                scraped = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
            assert scraped.status_code == 200
            assert requests_to(scraped.text, "/health/live") == REQUESTS
            pool = gauge(scraped.text, "db_pool_max_connections")
            # both workers' pools, summed (each worker's own view would show one)
            assert pool is not None and pool >= 2 * Settings().db_pool_max

            assert (await client.get(f"{base}/metrics")).status_code == 401
            main = await client.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            assert main.status_code == 200
            assert requests_to(main.text, "/health/live") == REQUESTS  # the sum here too, not one worker's share
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(server.communicate(), timeout=60)
    assert server.returncode == 0, output.decode()
    with socket.socket() as probe:  # the metrics port closed with the server
        assert probe.connect_ex(("127.0.0.1", metrics_port)) != 0
