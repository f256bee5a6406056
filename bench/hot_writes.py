"""The two writes-and-CPU rows of issue 15 on their own: batch registration and the 1,000-label sheet.

`python -m bench.hot_writes` seeds (or reuses) the bench database, starts the server as `make bench` does
beside the bare app, and measures only: the bare route, /health/live, batch registration + first event (with
what the server's PostgreSQL sessions were waiting on meanwhile, sampled from pg_stat_activity) and the label
sheet under load. Ratios are to the bare route and /health/live of the same run. `BENCH_RUNS` repeats.
It prints; it does not touch the README's table (run `make bench` for that).
`BENCH_ONLY=labels` measures only the references and the label sheet (three sheets per run, each beside a
16-connection /health/live reference of the same length without a sheet). `BENCH_ONLY=scans` measures only
the references and the rows whose tail the scan buffer's flushes touch: the two resolver rows and the guide.
"""

import asyncio
import collections
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg
import msgspec

from bench import run as bench_run
from bench import wrk
from bench.report import Row, target
from bench.seed_large import seed_large
from service.core.db import EmbeddedPostgres

WORKER_PIDS: list[int] = []


def registration(bench: bench_run.Bench) -> Row:
    """Batch registration + first event at 16 connections: the same row as `make bench`."""
    fx = bench.fixture
    return bench.measure(
        "batch registration + first event (16 conns)",
        "/api/v1/batches",
        "≥ 500 batches/s, p99 ≤ 50 ms",
        check=target(min_rps=500, p99_ms=50, no_errors=True),
        connections=16,
        script="register_batch.lua",
        env={"BENCH_PRODUCT": str(fx.product_id), "BENCH_TOKEN": bench.token, "BENCH_PLOT": str(fx.plot_id)},
    )


def sample_waits(dsn: str, stop: threading.Event, into: collections.Counter[str]) -> None:
    """Every 20 ms: what each active server session is doing (CPU, a lock, WAL flush, client...)."""

    async def loop() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            while not stop.is_set():
                rows = await conn.fetch(
                    "select coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') as w "
                    "from pg_stat_activity where application_name = 'trace-tour' and state = 'active'"
                )
                into["samples"] += 1
                for r in rows:
                    into[r["w"]] += 1
                await asyncio.sleep(0.02)
        finally:
            await conn.close()

    asyncio.run(loop())


def profile_worker(pids: list[int], name: str) -> subprocess.Popen[bytes] | None:
    """`BENCH_PYSPY=1`: py-spy samples the server and its workers for 6 s (var/bench/py-spy-<name>.txt)."""
    if not os.environ.get("BENCH_PYSPY") or not pids:
        return None
    out = bench_run.DATA / f"py-spy-{name}.txt"
    command = ["py-spy", "record", "--subprocesses", "-p", str(pids[0]), "-d", "6", "-r", "200", "--format", "raw"]
    command += ["-o", str(out)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (exited ones are lost: fine for long-lived servers)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def cpu_groups() -> dict[str, list[int]]:
    """The server's processes (granian, its workers) and PostgreSQL's (the bench cluster's postmaster, backends)."""
    postmaster = int((bench_run.DATA / "pg" / "postmaster.pid").read_text().split()[0])
    return {"server": bench_run.descendants(WORKER_PIDS[0]), "postgres": bench_run.descendants(postmaster)}


def cpu_per_registration(bench: bench_run.Bench) -> None:
    """3 s more of the registration load alone, with the CPU the server and PostgreSQL spent on it."""
    fx = bench.fixture
    env = {"BENCH_PRODUCT": str(fx.product_id), "BENCH_TOKEN": bench.token, "BENCH_PLOT": str(fx.plot_id)}
    groups = cpu_groups()
    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    time.sleep(3)
    idle = {name: cpu_seconds(pids) - before[name] for name, pids in cpu_groups().items()}
    print("CPU with no requests, 3 s: " + ", ".join(f"{n} {v:.2f} s" for n, v in idle.items()), flush=True)
    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    result = wrk.run(f"{bench.base}/api/v1/batches", connections=16, seconds=3, script="register_batch.lua", env=env)
    spent = {name: cpu_seconds(pids) - before[name] for name, pids in cpu_groups().items()}
    print(
        f"CPU per registration ({result.requests} registered in 3 s): "
        + ", ".join(f"{name} {1000 * value / max(result.requests, 1):.2f} ms" for name, value in spent.items()),
        flush=True,
    )


def label_sheets(bench: bench_run.Bench, sheets: int = 3) -> list[Row]:
    """The sheet under load, each time after the same /health/live load without a sheet (what the sheet costs it)."""
    rows = []
    for _ in range(sheets):
        alone = wrk.run(f"{bench.base}/health/live", connections=16, seconds=3)
        print(f"/health/live at 16 connections, no sheet: {alone.requests_per_s:,.0f} req/s", flush=True)
        rows.append(bench_run.label_sheet(bench))
    return rows


def scan_rows(bench: bench_run.Bench) -> list[Row]:
    """The resolver's two rows (each request a scan into the buffer) and the guide, as `make bench` runs them."""
    fx, hot = bench.fixture, bench_run.hot
    guide_body = msgspec.json.encode(bench_run.guide_request()).decode()
    return [
        bench.measure(
            "resolver, lot URI, JSON (307 + scan)",
            f"/01/{fx.gtin}/10/{fx.gtin_lot}",
            bench_run.HOT,
            check=hot,
            headers={"Accept": "application/json"},
        ),
        bench.measure(
            "resolver, serialized unit (scan + counterfeit check)",
            f"/q/{fx.unit_code}/{fx.unit_serial}",
            bench_run.HOT,
            check=hot,
        ),
        bench.measure(
            "guide position among 10,000 points",
            "/api/v1/guide/position",
            bench_run.HOT,
            check=hot,
            script="post_json.lua",
            env={"BENCH_BODY": guide_body},
        ),
    ]


def focused(bench: bench_run.Bench, dsn: str) -> list[Row]:
    rows = [
        bench.measure("bare Litestar route (no middleware)", "/health/live", "reference", server=bench.bare),
        bench.measure("service GET /health/live", "/health/live", "≥ 0.85 × bare", check=target(bare=0.85)),
    ]
    if os.environ.get("BENCH_ONLY") == "labels":
        return rows + label_sheets(bench)
    if os.environ.get("BENCH_ONLY") == "scans":
        return rows + scan_rows(bench)
    waits: collections.Counter[str] = collections.Counter()
    stop = threading.Event()
    sampler = threading.Thread(target=sample_waits, args=(dsn, stop, waits))
    sampler.start()
    profiler = profile_worker(WORKER_PIDS, "registration")
    try:
        rows.append(registration(bench))
        cpu_per_registration(bench)
    finally:
        stop.set()
        sampler.join()
        if profiler is not None:
            profiler.wait()
    samples = waits.pop("samples", 1)
    print("server sessions during registration (mean active per sample, by wait):")
    for name, count in waits.most_common(8):
        print(f"  {name:40} {count / samples:5.2f}")
    rows.append(bench_run.label_sheet(bench))
    return rows


def main() -> int:
    data = bench_run.DATA
    data.mkdir(parents=True, exist_ok=True)
    port, bare_port = bench_run.free_port(), bench_run.free_port()
    base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    signing_key = bench_run.new_signing_key()
    settings = bench_run.seeding_settings(base, signing_key)
    database = EmbeddedPostgres(data / "pg")
    dsn = database.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        fixture = asyncio.run(seed_large(dsn, settings))
        env = bench_run.server_env(dsn, port, base, signing_key)
        processes.append(bench_run.start_service(env))
        processes.append(bench_run.start_bare_app(bare_port))
        bench_run.wait_ready(base)
        bench_run.wait_ready(bare_base, "/health/live")
        WORKER_PIDS[:] = [processes[0].pid]
        bench = bench_run.Bench(base, bare_base, fixture)
        for number in range(bench_run.RUNS):
            print(f"--- run {number + 1} of {bench_run.RUNS}", flush=True)
            started = time.perf_counter()
            rows = focused(bench, dsn)
            for row in rows:
                print(
                    f"{row.name:48} {row.rps:8.0f}/s p50 {row.p50_ms:7.1f} p99 {row.p99_ms:7.1f} "
                    f"x bare {row.ratio_bare or 0:.3f} x live {row.ratio or 0:.3f} met {row.met} {row.note}"
                )
            print(f"(run took {time.perf_counter() - started:.0f} s)", flush=True)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
        database.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
