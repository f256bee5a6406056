"""Faults under load (issue 11), opt-in: `BENCH_FAULTS=1 make bench`, or alone: `python -m bench.faults`.

1. PostgreSQL stopped for BENCH_OUTAGE_SECONDS (30) while wrk drives shoppers (the shopper page, HTML) and
   scans (the resolver's lot URI: 307 + one scan each): the share of each answered during the outage, how
   long the server took to be ready after PostgreSQL was back, and scans answered vs stored (lost: 0).
2. SIGTERM to a second server (same deployment, 2 workers) while wrk drives scans: answered vs stored.

Every resolver answer records exactly one scan row (dedup only decides whether it counts in the daily
figures), so "stored" is the growth of the `scans` table. wrk abandons the requests still in flight when its
time is up; the server may have recorded those, so stored can exceed answered by at most the connection
count. Lost is answered minus stored, when positive.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import wrk
from bench.seed_large import Fixture
from service.core.db import EmbeddedPostgres

OUTAGE_SECONDS = int(os.environ.get("BENCH_OUTAGE_SECONDS", "30"))
SIGTERM_AFTER_SECONDS = 5
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html", "Accept-Language": "vi"}
README_START, README_END = "<!-- faults:start -->", "<!-- faults:end -->"


def stored_scans(dsn: str) -> int:
    async def count() -> int:
        conn = await asyncpg.connect(dsn)
        try:
            return int(await conn.fetchval("select count(*) from scans"))
        finally:
            await conn.close()

    return asyncio.run(count())


def until_stored(dsn: str, at_least: int, limit: float = 90.0) -> tuple[int, float]:
    """Poll the scan count until it reaches `at_least` (the spool replays, the buffers flush) or time is up."""
    started = time.monotonic()
    count = stored_scans(dsn)
    while count < at_least and time.monotonic() - started < limit:
        time.sleep(0.25)
        count = stored_scans(dsn)
    return count, time.monotonic() - started


def seconds_until_ready(base: str, limit: float = 120.0) -> float:
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=2) as client:
        while time.monotonic() - started < limit:
            try:
                if client.get("/health/ready").status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"not ready {limit} s after PostgreSQL came back")


def in_background(
    results: dict[str, wrk.WrkResult], name: str, url: str, seconds: int, **kwargs: Any
) -> threading.Thread:
    def drive() -> None:
        results[name] = wrk.run(url, seconds=seconds, **kwargs)

    thread = threading.Thread(target=drive, name=f"wrk {name}")
    thread.start()
    return thread


def answered(result: wrk.WrkResult) -> int:
    return result.requests - result.non_2xx_3xx


def outage(base: str, fx: Fixture, database: EmbeddedPostgres, dsn: str) -> dict[str, Any]:
    """PostgreSQL away for OUTAGE_SECONDS under shopper and scan load, then back."""
    page, resolver = f"{base}/trace/{fx.code}", f"{base}/01/{fx.gtin}/10/{fx.gtin_lot}"
    warm_every_worker([(page, HTML), (resolver, JSON)])
    # the same load with the database up, for ratios (the machine is shared: raw figures mean little)
    normal: dict[str, wrk.WrkResult] = {}
    threads = [
        in_background(normal, "page", page, 5, connections=32, headers=HTML),
        in_background(normal, "resolver", resolver, 5, connections=32, headers=JSON),
    ]
    for thread in threads:
        thread.join()
    time.sleep(1.0)  # the scans so far are flushed (4 times a second) before counting starts
    before = stored_scans(dsn)

    results: dict[str, wrk.WrkResult] = {}
    stop_started = time.monotonic()
    database.stop()
    stopped_in = time.monotonic() - stop_started
    threads = [
        in_background(results, "page", page, OUTAGE_SECONDS, connections=32, headers=HTML),
        in_background(results, "resolver", resolver, OUTAGE_SECONDS, connections=32, headers=JSON),
    ]
    for thread in threads:
        thread.join()
    restart_started = time.monotonic()
    database.start()
    restarted_in = time.monotonic() - restart_started
    to_ready = seconds_until_ready(base)
    sent = answered(results["resolver"])
    stored, waited = until_stored(dsn, before + sent)
    figures = {
        "outage_seconds": OUTAGE_SECONDS,
        "postgres_stop_seconds": round(stopped_in, 2),
        "postgres_start_seconds": round(restarted_in, 2),
        "page": _share(results["page"], normal["page"]),
        "resolver": _share(results["resolver"], normal["resolver"]),
        "ready_after_restart_seconds": round(to_ready, 2),
        "scans_answered": sent,
        "scans_stored": stored - before,
        "scans_stored_within_seconds": round(to_ready + waited, 2),
        "scans_lost": max(0, sent - (stored - before)),
    }
    print(f"outage under load: {figures}", flush=True)
    return figures


def warm_every_worker(targets: list[tuple[str, dict[str, str]]], rounds: int = 60) -> None:
    """A new connection per request, so every granian worker loads (and holds) each answer.

    wrk keeps its connections, and they may all land on one worker: a worker that never served a page
    has nothing to answer from while the database is away (what the first run of this module showed).
    """
    for url, headers in targets:
        for _ in range(rounds):
            httpx.get(url, headers={**headers, "Connection": "close"}, timeout=10, follow_redirects=False)


def _share(result: wrk.WrkResult, normal: wrk.WrkResult) -> dict[str, Any]:
    total = result.requests + result.errors
    return {
        "rps_with_database": round(normal.requests_per_s),
        "p99_ms_with_database": normal.p99_ms,
        "rps_ratio_to_with_database": round(result.requests_per_s / normal.requests_per_s, 2)
        if normal.requests_per_s
        else None,
        "requests": result.requests,
        "answered": answered(result),
        "share_answered": round(answered(result) / total, 4) if total else None,
        "non_2xx_3xx": result.non_2xx_3xx,
        "socket_errors": result.errors,
        "rps": round(result.requests_per_s),
        "p99_ms": result.p99_ms,
    }


def sigterm(fx: Fixture, dsn: str, server_env: dict[str, str], port: int) -> dict[str, Any]:
    """A second server, scans driven at it, SIGTERM while they arrive: every answered scan is stored."""
    from bench import run  # run imports this module

    base = f"http://127.0.0.1:{port}"
    env = {**server_env, "PORT": str(port), "PUBLIC_BASE_URL": base, "JOBS_IN_SERVER": "false"}
    server = run.start_service(env)
    try:
        seconds_until_ready(base, limit=60)
        resolver = f"{base}/01/{fx.gtin}/10/{fx.gtin_lot}"
        warm_every_worker([(resolver, JSON)])
        time.sleep(1.0)
        before = stored_scans(dsn)
        results: dict[str, wrk.WrkResult] = {}
        thread = in_background(results, "resolver", resolver, SIGTERM_AFTER_SECONDS + 3, connections=64, headers=JSON)
        time.sleep(SIGTERM_AFTER_SECONDS)
        term_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        exited_in = time.monotonic() - term_at
        thread.join()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    sent = answered(results["resolver"])
    stored = stored_scans(dsn) - before
    figures = {
        "scans_answered": sent,
        "scans_stored": stored,
        "scans_lost": max(0, sent - stored),
        "exit_code": code,
        "exited_seconds_after_sigterm": round(exited_in, 2),
    }
    print(f"SIGTERM under scan load: {figures}", flush=True)
    return figures


def measure(
    base: str, fx: Fixture, database: EmbeddedPostgres, dsn: str, server_env: dict[str, str], port: int, root: Path
) -> dict[str, Any]:
    """Both faults; the README's Faults table is rewritten between its markers."""
    figures = {"outage": outage(base, fx, database, dsn), "sigterm": sigterm(fx, dsn, server_env, port)}
    readme = root / "bench" / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_START in text and README_END in text:
        table = render(figures)
        text = (
            text[: text.index(README_START) + len(README_START)] + "\n" + table + "\n" + text[text.index(README_END) :]
        )
        readme.write_text(text, encoding="utf-8")
    return figures


def render(figures: dict[str, Any]) -> str:
    o, s = figures["outage"], figures["sigterm"]
    page, resolver = o["page"], o["resolver"]
    return "\n".join(
        [
            "| fault (with wrk load) | figures |",
            "|---|---|",
            f"| PostgreSQL stopped for {o['outage_seconds']} s, 32 connections on the shopper page (HTML) and 32 on "
            f"the resolver (lot URI, one scan each) | shopper page answered: **{page['share_answered']:.1%}** "
            f"({page['answered']:,} of {page['requests'] + page['socket_errors']:,}; {page['rps']:,} req/s = "
            f"{page['rps_ratio_to_with_database']} × the same load with the database up, p99 {page['p99_ms']:.1f} ms "
            f"vs {page['p99_ms_with_database']:.1f} ms); resolver answered: **{resolver['share_answered']:.1%}** "
            f"({resolver['answered']:,} of {resolver['requests'] + resolver['socket_errors']:,}; {resolver['rps']:,} "
            f"req/s = {resolver['rps_ratio_to_with_database']} ×, p99 {resolver['p99_ms']:.1f} ms vs "
            f"{resolver['p99_ms_with_database']:.1f} ms) |",
            f"| PostgreSQL started again (took {o['postgres_start_seconds']} s) | ready "
            f"**{o['ready_after_restart_seconds']} s** after; scans answered during the outage "
            f"{o['scans_answered']:,}, stored {o['scans_stored']:,} (all within {o['scans_stored_within_seconds']} s "
            f"of the restart): **lost {o['scans_lost']}** |",
            f"| SIGTERM to the server (2 workers) {SIGTERM_AFTER_SECONDS} s into 64 connections of scans | answered "
            f"{s['scans_answered']:,}, stored {s['scans_stored']:,}: **lost {s['scans_lost']}**; exited "
            f"{s['exited_seconds_after_sigterm']} s after the signal (code {s['exit_code']}) |",
        ]
    )


def main() -> int:
    """Alone: seed, start the server as `make bench` does, measure the faults only."""
    from bench import run
    from bench.seed_large import seed_large

    run.DATA.mkdir(parents=True, exist_ok=True)
    port = run.free_port()
    base = f"http://127.0.0.1:{port}"
    signing_key = run.new_signing_key()
    settings = run.seeding_settings(base, signing_key)
    database = EmbeddedPostgres(run.DATA / "pg")
    dsn = database.start()
    server: subprocess.Popen[bytes] | None = None
    try:
        fixture = asyncio.run(seed_large(dsn, settings))
        env = run.server_env(dsn, port, base, signing_key)
        server = run.start_service(env)
        run.wait_ready(base)
        measure(base, fixture, database, dsn, env, run.free_port(), run.ROOT)
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=60)
        database.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
