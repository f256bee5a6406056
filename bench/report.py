"""Rows, ratios and the results table of `make bench`.

Every row is read as two ratios measured in the same run, around the row (before and after, averaged): to
the bare Litestar route (bench/bare_app.py, the framework's ceiling) and to the service's own `/health/live`
(our plumbing included).
With `BENCH_RUNS=3` each row is measured three times; the table shows the median and the spread (lowest to
highest) of each ratio, and a target counts as met only when the median meets it.
"""

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One measured path in one run; `check` decides `met` from the row itself (None: nothing to meet)."""

    name: str
    path: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx_3xx: int
    ratio: float | None  # to the service's /health/live
    target: str
    met: bool | None
    note: str = ""
    ratio_bare: float | None = None  # to the bare Litestar route
    # the bare route's own p99 in the reference windows around the row (averaged): the machine's floor that minute
    bare_p99_ms: float | None = None
    io_stall_pct: float | None = None  # share of the row's time some task waited for the disk (PSI)
    check: Callable[["Row"], bool] | None = field(default=None, repr=False, compare=False)

    def judge(self) -> None:
        if self.check is not None:
            self.met = self.check(self)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("check", None)
        return data


def target(
    *,
    bare: float | None = None,
    service: float | None = None,
    p99_ms: float | None = None,
    min_rps: float | None = None,
    no_errors: bool = False,
) -> Callable[[Row], bool]:
    """A check from the usual kinds of target; all given conditions must hold."""

    def check(row: Row) -> bool:
        ok = True
        if bare is not None:
            ok &= row.ratio_bare is not None and row.ratio_bare >= bare
        if service is not None:
            ok &= row.ratio is not None and row.ratio >= service
        if p99_ms is not None:
            ok &= row.p99_ms <= p99_ms
        if min_rps is not None:
            ok &= row.rps >= min_rps
        if no_errors:
            ok &= row.errors + row.non_2xx_3xx == 0
        return ok

    return check


@dataclass
class Summary:
    """A row over several runs: medians, and the spread of each ratio."""

    row: Row  # medians of every figure; met is judged on them
    runs: int
    ratio_spread: tuple[float, float] | None
    bare_spread: tuple[float, float] | None
    met_runs: int  # in how many single runs the target was met

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.row.as_dict(),
            "runs": self.runs,
            "ratio_spread": self.ratio_spread,
            "ratio_bare_spread": self.bare_spread,
            "met_runs": self.met_runs,
        }


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _spread(values: Sequence[float | None]) -> tuple[float, float] | None:
    present = [v for v in values if v is not None]
    return (min(present), max(present)) if present else None


def summarise(runs: Sequence[Sequence[Row]]) -> list[Summary]:
    """Rows of the same name across runs, in the order of the first run."""
    by_name: dict[str, list[Row]] = {}
    for rows in runs:
        for row in rows:
            by_name.setdefault(row.name, []).append(row)
    summaries: list[Summary] = []
    for same in by_name.values():
        first = same[0]
        median = Row(
            first.name,
            first.path,
            first.connections,
            _median([r.rps for r in same]) or 0.0,
            _median([r.p50_ms for r in same]) or 0.0,
            _median([r.p99_ms for r in same]) or 0.0,
            sum(r.errors for r in same),
            sum(r.non_2xx_3xx for r in same),
            _median([r.ratio for r in same]),
            first.target,
            None,
            first.note,
            _median([r.ratio_bare for r in same]),
            bare_p99_ms=_median([r.bare_p99_ms for r in same]),
            io_stall_pct=_median([r.io_stall_pct for r in same]),
            check=first.check,
        )
        median.judge()
        if first.check is None:  # a verdict set by hand (e.g. the label sheet): the majority of runs
            verdicts = [r.met for r in same if r.met is not None]
            median.met = None if not verdicts else sum(verdicts) * 2 > len(verdicts)
        summaries.append(
            Summary(
                median,
                len(same),
                _spread([r.ratio for r in same]),
                _spread([r.ratio_bare for r in same]),
                sum(1 for r in same if r.met),
            )
        )
    return summaries


def _ratio_cell(median: float | None, spread: tuple[float, float] | None, runs: int) -> str:
    if median is None:
        return ""
    if runs < 2 or spread is None:
        return f"{median:.2f}"
    return f"{median:.2f} ({spread[0]:.2f}–{spread[1]:.2f})"


COLUMNS = (
    "path", "conns", "req/s", "p50 ms", "p99 ms", "bare p99 ms around", "I/O wait %", "errors", "× bare Litestar",
    "× service /health/live", "target", "met",
)  # fmt: skip


def table_line(
    name: str, target: str, met: str, *, conns: str = "", p50: str = "", live: str = "", bare: str = ""
) -> str:
    """A line of the results table that is not a wrk row (memory, the province overview); other cells empty."""
    cells = dict.fromkeys(COLUMNS, "")
    cells.update({"path": name, "conns": conns, "p50 ms": p50, "× bare Litestar": bare, "× service /health/live": live})
    cells.update({"target": target, "met": met})
    return "| " + " | ".join(cells.values()) + " |"


def render_table(summaries: Sequence[Summary], extra_lines: Sequence[str] = ()) -> str:
    runs = max((s.runs for s in summaries), default=1)
    each = f"median of {runs} runs (spread)" if runs > 1 else "one run"
    lines = ["| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS)]
    for s in summaries:
        r = s.row
        met = {True: "yes", False: "**no**", None: ""}[r.met]
        if runs > 1 and r.met is not None:
            met += f" ({s.met_runs}/{s.runs})"
        floor = "" if r.bare_p99_ms is None else f"{r.bare_p99_ms:.1f}"
        io = "" if r.io_stall_pct is None else f"{r.io_stall_pct:.0f}"
        lines.append(
            f"| {r.name} | {r.connections} | {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {floor} | {io} | "
            f"{r.errors + r.non_2xx_3xx} | {_ratio_cell(r.ratio_bare, s.bare_spread, s.runs)} | "
            f"{_ratio_cell(r.ratio, s.ratio_spread, s.runs)} | {r.target} | {met} |"
        )
    lines.extend(extra_lines)
    lines.append(
        f"\nFigures: {each}; ratios are to routes measured before and after each row (averaged), as long as the "
        "row, on the same server. *Bare p99 ms around*: the bare Litestar route's own p99 in those windows, what "
        "this machine allowed a route that does nothing that minute. *I/O wait %*: the share of the row's time in "
        "which some task on the machine waited for the disk (Linux PSI)."
    )
    return "\n".join(lines)
