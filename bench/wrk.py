"""Drive the server with wrk (a separate process) and parse what it prints."""

import os
import re
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non_2xx_3xx: int
    # share of the run's time in which some task on the machine waited for the disk (Linux PSI), when readable
    io_stall_pct: float | None = None


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not match:
        raise ValueError(f"cannot read wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def io_stalled_us() -> int | None:
    """Microseconds in which some task waited for I/O since boot (/proc/pressure/io), or None without PSI."""
    try:
        some = Path("/proc/pressure/io").read_text().splitlines()[0]
        return int(some.rsplit("total=", 1)[1])
    except (OSError, IndexError, ValueError):
        return None


def parse(output: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = sum(int(g) for g in socket.groups()) if socket else 0
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(rps, p50, p99, total, errors, int(non_ok.group(1)) if non_ok else 0)


def run(
    url: str,
    *,
    connections: int = 64,
    threads: int = 1,
    seconds: int = 5,
    script: str | None = None,
    headers: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> WrkResult:
    # One wrk thread by default: wrk shares this machine's 2 cores with the server it measures, and a second
    # thread only takes more of them. Measured side by side (64 connections, 5 s rows, medians of three, four
    # alternating passes): with two threads the bare route's p99 read 7-8 ms, the guide's 24-26 ms and the lot
    # resolver's 23-26 ms; with one, 8-9, 12-14 and 10-11 ms, and as many or more requests per second.
    threads = min(threads, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", str(LUA_DIR / script)]
    command.append(url)
    stalled, started = io_stalled_us(), time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, env={**os.environ, **(env or {})}, check=True
    )
    elapsed, stalled_after = time.monotonic() - started, io_stalled_us()
    if done.stderr.strip():
        print(done.stderr.strip())
    result = parse(done.stdout)
    if stalled is None or stalled_after is None:
        return result
    return replace(result, io_stall_pct=100 * (stalled_after - stalled) / (elapsed * 1_000_000))
