"""`make bench`: seed a realistic database, start the server as deployed beside a bare Litestar app, drive both
with wrk, report every path as ratios to the two.

The bare app (bench/bare_app.py) is the framework's ceiling; the service's /health/live is our own plumbing
with no I/O. Both are measured right before and right after each row, as long as the row, and averaged, so the
ratios mean something on a noisy shared machine.
`BENCH_RUNS=3` repeats every scenario and reports medians and spreads (bench/report.py). Results:
bench/results/latest.json, the table in bench/README.md (between the markers) and bench/results/ratios.png.
"""

import asyncio
import base64
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec

from bench import faults, scale, wrk
from bench import statistics as bench_statistics
from bench.report import Row, Summary, render_table, summarise, table_line, target
from bench.seed_large import Fixture, seed_large
from service.__main__ import granian_command
from service.auth.guards import build_jwt_auth
from service.core.db import EmbeddedPostgres
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA = ROOT / "var" / "bench"
JWT_SECRET = "bench-only-secret-0123456789abcdef0123456789"
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
RUNS = max(1, int(os.environ.get("BENCH_RUNS", "1")))
WORKERS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(root: int) -> list[int]:
    """This process and every process under it, from /proc (root first)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().split(")")[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [root], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def worker_rss_mb(server_pid: int) -> list[float]:
    """RSS of every process under the server (granian master + workers), workers only."""
    rss: list[float] = []
    for pid in descendants(server_pid)[1:]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"granian" not in cmdline and b"service" not in cmdline:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss.append(int(line.split()[1]) / 1024)
    # the first granian process is the master; workers are its children
    return sorted(rss)


def main() -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `make bench` (it installs it)", file=sys.stderr)
        return 2
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bare_port = free_port()
    bare_base = f"http://127.0.0.1:{bare_port}"
    signing_key = new_signing_key()
    settings = seeding_settings(base, signing_key)
    database = EmbeddedPostgres(DATA / "pg")
    dsn = database.start()
    server: subprocess.Popen[bytes] | None = None
    bare: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        fixture = asyncio.run(seed_large(dsn, settings))
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        grown = asyncio.run(scale.grow_and_measure(dsn, DATA / "scale-media")) if os.environ.get("BENCH_SCALE") else 0
        env = server_env(dsn, port, base, signing_key)
        server = start_service(env)
        bare = start_bare_app(bare_port)
        wait_ready(base)
        wait_ready(bare_base, "/health/live")
        runs, extras = run_scenarios(Bench(base, bare_base, fixture), server.pid)
        extras["province_overview"] = bench_statistics.province_overview(dsn, base, JWT_SECRET)
        if os.environ.get("BENCH_FAULTS"):  # opt-in (~2 min): PostgreSQL stopped under load, SIGTERM; bench/faults.py
            extras["faults"] = faults.measure(base, fixture, database, dsn, env, free_port(), ROOT)
        if grown:
            extras["scale"] = grown
        write_results(runs, extras)
    finally:
        for process in (server, bare):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=60)
        database.stop()
    return 0


def new_signing_key() -> str:
    """A throwaway key for the transparency log's checkpoints, one per run (production refuses to start
    without one); the seeder and the server sign with the same."""
    return base64.b64encode(os.urandom(32)).decode()


def seeding_settings(base: str, signing_key: str) -> Settings:
    """The settings the seeder runs with (bench/seed_large.py); the server reads its own from server_env."""
    return Settings(
        env="production",
        log_signing_key=signing_key,
        database_url="postgresql://placeholder/none",
        jwt_secret=JWT_SECRET,
        public_base_url=base,
        media_dir=str(DATA / "media"),
    )


def server_env(dsn: str, port: int, base: str, signing_key: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": dsn,
        "ENV": "production",
        "JWT_SECRET": JWT_SECRET,
        "WORKERS": str(WORKERS),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PUBLIC_BASE_URL": base,
        "MEDIA_DIR": str(DATA / "media"),
        # production's level (fly.toml): every request's access line is formatted and written, as it is there
        "LOG_LEVEL": "INFO",
        "DB_POOL_MAX": "10",
        # production refuses to start without the transparency log's key: a throwaway one per run
        "LOG_SIGNING_KEY": signing_key,
        # scheduled jobs run in their own process group in production (fly.toml); inside this server they would
        # start all at once (backup's pg_dump, rollups, sweeps) and take the CPU the measured requests need
        "JOBS_IN_SERVER": "false",
    }


def start_service(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`python -m service serve` as production runs it; its standard output (the access lines, a few million a
    run) goes to /dev/null: their formatting and writing are measured, a log shipper's reading is not. Its other
    logs (standard error) stay in the bench's output."""
    command = [sys.executable, "-m", "service", "serve"]
    return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)


def start_bare_app(port: int) -> subprocess.Popen[bytes]:
    """The bare Litestar app under the same granian settings as `python -m service serve`."""
    command = granian_command("bench.bare_app:build", "127.0.0.1", port, WORKERS)
    return subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)


def wait_ready(base: str, path: str = "/health/ready") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server did not become ready in 60 s")


def token_for(fixture: Fixture) -> str:
    jwt = build_jwt_auth(Settings(jwt_secret=JWT_SECRET))
    return jwt.create_token(
        identifier=str(fixture.farmer_id), token_extras={"role": "farmer", "ver": 1}
    )  # a new user is at version 1


class Bench:
    """What every scenario gets: the two servers, the seeded fixture, and `measure()` (one row, two ratios).

    A new scenario is a function `(bench) -> list[Row]` in its own module under bench/, added to SCENARIOS.
    """

    def __init__(self, base: str, bare: str, fixture: Fixture) -> None:
        self.base, self.bare, self.fixture = base, bare, fixture
        self.token = token_for(fixture)
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.baselines: list[float] = []
        # /health/live ÷ the bare route in each pair of 64-connection reference windows (bare, then live)
        self.reference_ratios: list[float] = []

    def reference(self, connections: int = 64) -> tuple[wrk.WrkResult, wrk.WrkResult]:
        """wrk's figures (req/s, p99) for the bare route and the service's /health/live, now, as long as a row.

        Measured just as long as the row itself: a shorter window reads higher on this machine (the bare route
        measured 2 s and then 5 s read 0.90 × itself, 0.88-1.08 over three runs), which biased every ratio.
        """
        bare = wrk.run(f"{self.bare}/health/live", connections=connections, seconds=SECONDS)
        live = wrk.run(f"{self.base}/health/live", connections=connections, seconds=SECONDS)
        return bare, live

    def measure(
        self,
        name: str,
        path: str,
        target: str,
        *,
        check: Callable[[Row], bool] | None = None,
        connections: int = 64,
        headers: dict[str, str] | None = None,
        script: str | None = None,
        env: dict[str, str] | None = None,
        note: str = "",
        server: str | None = None,
    ) -> Row:
        base = server or self.base
        wrk.run(f"{base}{path}", connections=connections, seconds=1, headers=headers, script=script, env=env)  # warm-up
        # the references are taken before and after the row and averaged, so a drift of the machine during the
        # row (other tenants, heat) weighs on the reference as on the row: the bare route then reads ~1.0 × itself
        bare_before, live_before = self.reference(connections)
        r = wrk.run(f"{base}{path}", connections=connections, seconds=SECONDS, headers=headers, script=script, env=env)
        bare_after, live_after = self.reference(connections)
        bare = (bare_before.requests_per_s + bare_after.requests_per_s) / 2
        live = (live_before.requests_per_s + live_after.requests_per_s) / 2
        self.baselines.append(live)
        if connections == 64:  # as the /health/live row is measured
            self.reference_ratios += [
                live_rps.requests_per_s / bare_rps.requests_per_s
                for bare_rps, live_rps in ((bare_before, live_before), (bare_after, live_after))
                if bare_rps.requests_per_s
            ]
        row = Row(
            name,
            path,
            connections,
            r.requests_per_s,
            r.p50_ms,
            r.p99_ms,
            r.errors,
            r.non_2xx_3xx,
            r.requests_per_s / live if live else None,
            target,
            None,
            note,
            r.requests_per_s / bare if bare else None,
            bare_p99_ms=(bare_before.p99_ms + bare_after.p99_ms) / 2,
            io_stall_pct=r.io_stall_pct,
            check=check,
        )
        row.judge()
        print(
            f"{name:52} {r.requests_per_s:9.0f} rps  p50 {r.p50_ms:6.1f} ms  p99 {r.p99_ms:6.1f} ms  "
            f"x bare {row.ratio_bare or 0:.2f}  x live {row.ratio or 0:.2f}  io wait {r.io_stall_pct or 0:.0f} %  "
            f"non-2xx/3xx {r.non_2xx_3xx}  errors {r.errors}",
            flush=True,
        )
        return row


def warm(bench: Bench) -> str:
    """Warm the caches a shopper would warm (first render of each page and QR image); the offline ETag."""
    fx = bench.fixture
    with httpx.Client(base_url=bench.base, timeout=30) as client:
        for path in (
            f"/trace/{fx.code}",
            f"/trace/{fx.unit_code}/{fx.unit_serial}",
            f"/p/{fx.gtin}",
            f"/api/v1/batches/{fx.gtin_batch_id}/qr.png",
        ):
            client.get(path, headers={"Accept": "application/json"})
            client.get(path)
        offline = client.get("/api/v1/sites/atk-dinh-hoa/offline?lang=vi")
        return offline.headers.get("etag", "")


HOT = "≥ 0.5 × bare, p99 ≤ 25 ms"
hot = target(bare=0.5, p99_ms=25)


def core_scenarios(bench: Bench) -> list[Row]:
    fx, measure = bench.fixture, bench.measure
    offline_etag = warm(bench)
    json_accept = {"Accept": "application/json"}
    html_accept = {"Accept": "text/html", "Accept-Language": "vi"}
    rows = [
        measure("bare Litestar route (no middleware)", "/health/live", "reference", server=bench.bare),
        measure(
            "service GET /health/live (no I/O, all middleware)",
            "/health/live",
            "≥ 0.85 × bare",
            check=target(bare=0.85),
        ),
        measure(
            "resolver, lot URI, JSON (307 + scan)",
            f"/01/{fx.gtin}/10/{fx.gtin_lot}",
            HOT,
            check=hot,
            headers=json_accept,
        ),
        measure(
            "shopper page, JSON",
            f"/trace/{fx.code}",
            HOT,
            check=hot,
            headers=json_accept,
            note="the page the resolver redirects to",
        ),
        measure("shopper page, HTML", f"/trace/{fx.code}", HOT, check=hot, headers=html_accept),
        measure(
            "resolver, serialized unit (scan + counterfeit check)",
            f"/q/{fx.unit_code}/{fx.unit_serial}",
            HOT,
            check=hot,
        ),
        measure("unit page, HTML", f"/trace/{fx.unit_code}/{fx.unit_serial}", HOT, check=hot, headers=html_accept),
        measure("product page, HTML", f"/p/{fx.gtin}", HOT, check=hot, headers=html_accept),
    ]
    guide_body = os.environ.get("BENCH_GUIDE_BODY") or msgspec.json.encode(guide_request()).decode()
    rows.append(
        measure(
            "bare Litestar POST, the guide's JSON body (decoded, echoed)",
            "/echo-position",
            "reference (POST)",
            server=bench.bare,
            script="post_json.lua",
            env={"BENCH_BODY": guide_body},
            note="a POST with a body, nothing of ours (Python's default garbage collector too: most of its p99)",
        )
    )
    rows.append(
        measure(
            "guide position among 10,000 points",
            "/api/v1/guide/position",
            HOT,
            check=hot,
            script="post_json.lua",
            env={"BENCH_BODY": guide_body},
        )
    )
    rows.append(
        measure(
            "offline manifest, 304 revalidation",
            "/api/v1/sites/atk-dinh-hoa/offline?lang=vi",
            HOT,
            check=hot,
            headers={"If-None-Match": offline_etag},
        )
    )
    rows.append(measure("cached QR PNG", f"/api/v1/batches/{fx.gtin_batch_id}/qr.png", HOT, check=hot))
    rows.append(
        measure(
            "batch registration + first event (16 conns)",
            "/api/v1/batches",
            "≥ 500 batches/s, p99 ≤ 50 ms",
            check=target(min_rps=500, p99_ms=50, no_errors=True),
            connections=16,
            script="register_batch.lua",
            env={"BENCH_PRODUCT": str(fx.product_id), "BENCH_TOKEN": bench.token, "BENCH_PLOT": str(fx.plot_id)},
        )
    )
    rows.append(
        measure(
            "producer's scans per day, 1,000,000 scans",
            f"/api/v1/batches/{fx.hot_batch_id}/scans",
            "p99 ≤ 50 ms",
            check=target(p99_ms=50, no_errors=True),
            connections=1,
            headers=bench.auth,
        )
    )
    rows.append(label_sheet(bench))
    return rows


# Other engineers' modules add their scenario functions here (one line each); each run calls them in order.
SCENARIOS: list[Callable[[Bench], list[Row]]] = [core_scenarios]


def run_scenarios(bench: Bench, server_pid: int) -> tuple[list[list[Row]], dict[str, object]]:
    runs: list[list[Row]] = []
    for number in range(1, RUNS + 1):
        if RUNS > 1:
            print(f"--- run {number} of {RUNS}", flush=True)
        rows: list[Row] = []
        for scenario in SCENARIOS:
            rows.extend(scenario(bench))
        runs.append(rows)
    extras: dict[str, object] = {
        "rss_mb": worker_rss_mb(server_pid),
        "baseline_rps_around_each": [round(v) for v in bench.baselines],
        "live_over_bare_in_references": [round(v, 3) for v in bench.reference_ratios],
    }
    return runs, extras


def guide_request() -> dict[str, object]:
    from bench.seed_large import GUIDE_SITE

    return {"site": GUIDE_SITE, "lat": 21.6157, "lon": 105.6913, "accuracy_m": 8, "lang": "vi", "heard": []}


def label_sheet(bench: Bench) -> Row:
    """Time a 1,000-unit label sheet while wrk keeps hitting the service's /health/live."""
    fx = bench.fixture
    outcome: dict[str, object] = {}

    def fetch() -> None:
        started = time.perf_counter()
        with httpx.Client(base_url=bench.base, timeout=60) as client:
            response = client.get(f"/api/v1/batches/{fx.label_batch_id}/labels.pdf", headers=bench.auth)
        outcome["seconds"] = time.perf_counter() - started
        outcome["status"] = response.status_code
        outcome["pages"] = response.content.count(b"/Type /Page\n") or response.content.count(b"/Type /Page")

    thread = threading.Thread(target=fetch)
    thread.start()
    during = wrk.run(f"{bench.base}/health/live", connections=16, seconds=3)
    thread.join()
    seconds = float(str(outcome.get("seconds", 999)))
    failed = 0 if outcome.get("status") == 200 else 1
    print(f"label sheet 1,000 units: {seconds:.3f} s, {outcome}; /health/live meanwhile {during}", flush=True)
    row = Row(
        "label sheet PDF, 1,000 units (p50 = p99 = its time)",
        f"/api/v1/batches/{fx.label_batch_id}/labels.pdf",
        1,
        1 / seconds,
        seconds * 1000,
        seconds * 1000,
        during.errors + failed,
        during.non_2xx_3xx,
        None,
        "≤ 2 s, others served",
        None,
        f"/health/live meanwhile {during.requests_per_s:,.0f} req/s, p99 {during.p99_ms:.1f} ms",
        None,
        io_stall_pct=during.io_stall_pct,
        check=target(p99_ms=2000, no_errors=True),
    )
    row.judge()  # each run's own verdict, so the table can say in how many runs it was met
    return row


def write_results(runs: list[list[Row]], extras: dict[str, object]) -> None:
    summaries = summarise(runs)
    payload = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "seconds_per_run": SECONDS,
        "runs": len(runs),
        "rows": [s.as_dict() for s in summaries],
        "each_run": [[r.as_dict() for r in rows] for rows in runs],
        **extras,
    }
    (RESULTS / "latest.json").write_bytes(msgspec.json.format(msgspec.json.encode(payload)))
    extra_lines: list[str] = []
    rss = extras.get("rss_mb", [])
    if isinstance(rss, list) and rss:
        worst = max(rss)
        extra_lines.append(
            table_line(
                "server memory after the runs",
                "≤ 200 MB RSS per worker",
                f"{'yes' if worst <= 200 else '**no**'} ({', '.join(f'{v:.0f}' for v in rss)} MB)",
            )
        )
    pairs = extras.get("live_over_bare_in_references", [])
    if isinstance(pairs, list) and len(pairs) >= 4:
        # the same quantity as the /health/live row, read from every back-to-back pair of reference windows of
        # the runs: many short comparisons instead of one, so one window's luck weighs less (informational)
        quartiles = statistics.quantiles(pairs, n=4)
        extra_lines.append(
            table_line(
                f"service /health/live ÷ bare route, all {len(pairs)} reference pairs (median, quartiles)",
                "",
                "",
                bare=f"{statistics.median(pairs):.2f} ({quartiles[0]:.2f}–{quartiles[2]:.2f})",
            )
        )
    overview = extras.get("province_overview")
    if isinstance(overview, dict):
        extra_lines.append(bench_statistics.table_row(overview))
    table = render_table(summaries, extra_lines)
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    if start in text and end in text:
        text = text[: text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end) :]
        readme.write_text(text, encoding="utf-8")
    chart(summaries)
    print(table)


def chart(summaries: list[Summary]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [s for s in summaries if s.row.ratio_bare is not None]
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(measured) + 1.5))
    names = [s.row.name for s in measured]
    ratios = [s.row.ratio_bare or 0 for s in measured]
    colours = ["#2e7d32" if s.row.met else ("#c62828" if s.row.met is False else "#757575") for s in measured]
    ax.barh(names, ratios, color=colours)
    low = [r - (s.bare_spread or (r, r))[0] for r, s in zip(ratios, measured, strict=True)]
    high = [(s.bare_spread or (r, r))[1] - r for r, s in zip(ratios, measured, strict=True)]
    ax.errorbar(ratios, names, xerr=[low, high], fmt="none", ecolor="#333", capsize=3)
    ax.axvline(1.0, color="#333", linewidth=0.8)
    # two lines: on one, the label was wider than the figure and cut off at the right
    ax.set_xlabel("requests/s as a ratio to a bare Litestar route\n(same machine, same run; bars: spread)")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(RESULTS / "ratios.png", dpi=110)


if __name__ == "__main__":
    sys.exit(main())
