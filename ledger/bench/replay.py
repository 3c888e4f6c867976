"""Replay benchmarks: rebuilding every view from the log, and the memory it takes.

`replay`: events per second rebuilding every view of a fresh store from an
SQLite log of N events (with worker processes, as `ledger replay` does),
beside `raw_sqlite_scan` (the best of three bare scans of the same event
table in the same run). `memory.replay`: peak RSS in MB of a fresh
process replaying the N-event log, beside the same at 100k (`at_100k`).
The logs are written through the ledger's own write path (the bench mix),
once per run for every group that needs them (`ledger.bench.stores`).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ledger.bench.stores import BenchStores
from ledger.bench.write import figure
from ledger.projections import ViewDecoder
from ledger.replay import replay_store
from ledger.store.ports import StoreLocation
from ledger.store.schema import open_store

SMALL_SIZE = 100_000
OPEN_SMALL_SIZE = 10_000
OPEN_RUNS = 3

# The replaying process's own peak (VmHWM: ru_maxrss would count the parent's
# pages at fork), plus the largest worker's peak once per worker: an upper
# bound, since forked workers share most of their pages with it.
_MEASURE = """
import os, resource, sys
from pathlib import Path
from ledger.store.ports import StoreLocation
from ledger.projections import ViewDecoder
from ledger.replay import replay_store
from ledger.store.schema import open_store
source = open_store(StoreLocation(sqlite_path=Path(sys.argv[1])), create=True)
target = open_store(StoreLocation(sqlite_path=Path(sys.argv[2])), create=True)
replay_store(source, ViewDecoder(source.mapper), target)
status = Path("/proc/self/status").read_text()
own = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
print(own + (os.cpu_count() or 1) * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def scan_rate(path: Path, runs: int = 3) -> float:
    """The fastest of a few bare scans: one scan takes a second or two, short
    enough for a noisy machine to halve it, so the reference takes its best."""
    connection = sqlite3.connect(path)
    best = 0.0
    for _ in range(runs):
        started = time.perf_counter()
        count = sum(1 for _ in connection.execute("SELECT rowid, * FROM stored_events"))
        best = max(best, count / (time.perf_counter() - started))
    connection.close()
    return best


def replay_rate(path: Path, scratch: Path) -> tuple[float, int]:
    source = open_store(StoreLocation(sqlite_path=path), create=True)
    target = open_store(StoreLocation(sqlite_path=scratch), create=True)
    started = time.perf_counter()
    count = replay_store(source, ViewDecoder(source.mapper), target)
    elapsed = time.perf_counter() - started
    source.close()
    target.close()
    return count / elapsed, count


def peak_rss_mb(path: Path, scratch: Path) -> float:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _MEASURE, str(path), str(scratch)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-500:]
    return round(int(result.stdout.strip()) / 1024, 1)


def open_seconds(store: Path, home: Path, command: list[str], stdin: Callable[[int], str] = lambda _: "") -> float:
    """The fastest of a few runs of one `ledger` command as a whole process,
    as a user starts it (interpreter, imports, opening the store, the work)."""
    best = float("inf")
    for run in range(OPEN_RUNS):
        started = time.perf_counter()
        result = subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "ledger", *command, "--home", str(home), "--database-url", f"sqlite:///{store}"],
            input=stdin(run),
            capture_output=True,
            text=True,
            check=False,
        )
        best = min(best, time.perf_counter() - started)
        assert result.returncode == 0, result.stderr[-500:]
    return best


def measure_open(store: Path, home: Path) -> tuple[float, float]:
    """`ledger balances --json` (a read) and `ledger submit` of one deposit (a write)."""
    deposit = '{{"type": "deposit", "key": "bench:open:{run}", "client_id": "c0", "asset": "BYN", "amount": "1.00", '
    deposit += '"reference": "open"}}\n'
    read = open_seconds(store, home, ["balances", "--json"])
    write = open_seconds(store, home, ["submit", "-"], lambda run: deposit.format(run=run))
    return read, write


def run_replay_benchmarks(
    size: int, stores: BenchStores, *, replay: bool = True, opening: bool = True
) -> dict[str, Any]:
    """`replay` and `memory.replay` at `size` events against 100k; `open.read`
    and `open.write` at `size` against 10k. The logs are `stores`', written
    once for every group that needs them."""
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="ledger-bench-replay-") as folder:
        root = Path(folder)
        big = stores.store(size)
        if replay:
            small = stores.store(min(size, SMALL_SIZE))
            rate, count = replay_rate(big, root / "replayed.sqlite")
            scan = scan_rate(big)
            memory_big = peak_rss_mb(big, root / "m-big.sqlite")
            memory_small = peak_rss_mb(small, root / "m-small.sqlite")
            figures["replay"] = figure(rate, "events/s", {"raw_sqlite_scan": scan}, events=count, cores=os.cpu_count())
            figures["memory.replay"] = figure(memory_big, "MB", {"at_100k": memory_small}, events=count)
        if opening:
            tiny = stores.store(min(size, OPEN_SMALL_SIZE))
            read_big, write_big = measure_open(big, root / "home-big")
            read_small, write_small = measure_open(tiny, root / "home-tiny")
            events = {"events": size, "runs": OPEN_RUNS, "best_of": OPEN_RUNS}
            figures["open.read"] = timed_figure(read_big, read_small, command="ledger balances --json", **events)
            figures["open.write"] = timed_figure(write_big, write_small, command="ledger submit (1 command)", **events)
    return figures


def timed_figure(seconds: float, at_10k: float, **details: Any) -> dict[str, Any]:
    return {
        "value": round(seconds, 3),
        "unit": "s",
        "references": {"at_10k": round(at_10k, 3)},
        "ratios": {"vs_at_10k": round(seconds / at_10k, 3)},
        **details,
    }
