"""The issue's other option for the label sheet, measured: symbols computed in halves on 2 processes, drawn in one.

`python -m bench.label_split` renders the same 1,000-label sheet either in one PDF process (as the service does)
or with its symbols encoded in two processes at once and the PDF drawn in one of them, while `BENCH_LOADS`
(default 3) busy processes stand in for the server's two workers and wrk on this 2-core machine. It prints the
sheet's wall time and the work the busy processes got done during the sheet as a ratio to the second before it
without one (what the sheet took from the requests served meanwhile). It prints; it touches no table.
"""

import asyncio
import concurrent.futures
import multiprocessing
import os
import time
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event

from service.core.qr import PackedSymbol, SheetEncoder
from service.traceability.identifiers.gs1 import random_code
from service.traceability.scan.labels import Label, LabelSheet, draw_label_sheet, render_label_sheet

SHEETS = 5


def encode(uris: list[str], longest: str) -> list[PackedSymbol]:
    """One half's symbols, at the version the whole sheet's longest URI needs."""
    encoder = SheetEncoder([longest, *uris], quiet_zone=2)
    return [encoder.packed(uri) for uri in uris]


def busy(counter: "Synchronized[int]", stop: Event) -> None:
    while not stop.is_set():
        for _ in range(10_000):
            pass
        with counter.get_lock():
            counter.value += 1


async def one_sheet(pool: concurrent.futures.ProcessPoolExecutor, sheet: LabelSheet, split: bool) -> float:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    if split:
        uris = [label.uri for label in sheet.labels]
        longest, half = max(uris, key=len), len(uris) // 2
        first, second = await asyncio.gather(
            loop.run_in_executor(pool, encode, uris[:half], longest),
            loop.run_in_executor(pool, encode, uris[half:], longest),
        )
        await loop.run_in_executor(pool, draw_label_sheet, sheet, first + second)
    else:
        await loop.run_in_executor(pool, render_label_sheet, sheet)
    return time.perf_counter() - started


def main() -> None:
    spawn = multiprocessing.get_context("spawn")
    uri = "https://trace.example.vn/01/08930000000012/10/TC-2025%2F07/21/{}"
    labels = [Label(uri.format(serial), serial) for serial in (random_code(13) for _ in range(1000))]
    sheet = LabelSheet(
        product_name="Chè Tân Cương đặc biệt – Hợp tác xã Trà Tân Cương", lot="TC-2025/07", labels=labels
    )
    pools = {
        split: concurrent.futures.ProcessPoolExecutor(2 if split else 1, mp_context=spawn) for split in (False, True)
    }
    for split, pool in pools.items():  # modules loaded and every process of each pool started
        for _ in range(2):
            asyncio.run(one_sheet(pool, sheet, split))
    counter, stop = spawn.Value("q", 0), spawn.Event()
    loads = [spawn.Process(target=busy, args=(counter, stop)) for _ in range(int(os.environ.get("BENCH_LOADS", "3")))]
    for process in loads:
        process.start()
    while counter.value == 0:
        time.sleep(0.2)
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    try:
        for _ in range(SHEETS):
            before, started = counter.value, time.perf_counter()
            time.sleep(1.0)
            idle_rate = (counter.value - before) / (time.perf_counter() - started)
            for split in (False, True):
                before, started = counter.value, time.perf_counter()
                seconds = asyncio.run(one_sheet(pools[split], sheet, split))
                rate = (counter.value - before) / (time.perf_counter() - started)
                results[split].append((seconds, rate / idle_rate))
    finally:
        stop.set()
        for process in loads:
            process.join()
        for pool in pools.values():
            pool.shutdown()
    for split, rows in results.items():
        walls, shares = sorted(r[0] for r in rows), sorted(r[1] for r in rows)
        print(
            f"{'halves in 2 processes, drawn in one' if split else 'one process (the service)':36} sheet median "
            f"{walls[len(walls) // 2]:.3f} s (min {walls[0]:.3f}, max {walls[-1]:.3f}); the load's work during "
            f"the sheet / without: median {shares[len(shares) // 2]:.2f}"
        )


if __name__ == "__main__":
    main()
