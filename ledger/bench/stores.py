"""Stores written through the ledger's own write path, made once per bench run.

A store of a million events takes minutes to write (some 5k events/s with
the audit log kept in the same transactions: leaves, tiles and all), so the
groups that need one share it: `replay` and `open.*` replay and open it,
`audit.export`, `audit.prove` and `memory.export` export and prove from it.
`BenchStores.store(size)` writes the store of `size` events the first time
it is asked for, in the run's temporary folder, and gives the same file after.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from ledger.bench.write import setup_commands, to_command, workload
from ledger.service import Ledger

WRITE_BATCH = 2000


def write_log(path: Path, size: int) -> None:
    """`size` events of the bench mix through `Ledger.submit`, in batches."""
    commands = setup_commands()
    with Ledger.open(home=path.parent, database_url=f"sqlite:///{path}", create=True) as ledger:
        ledger.submit(commands)
        moves = workload(size - len(commands))
        for start in range(0, len(moves), WRITE_BATCH):
            # Commands made a batch at a time: a million at once held a gigabyte.
            ledger.submit([to_command(start + n, move) for n, move in enumerate(moves[start : start + WRITE_BATCH])])


class BenchStores:
    """SQLite stores of the bench mix by size, each written once, removed at exit."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="ledger-bench-stores-"))
        self._stores: dict[int, Path] = {}

    def store(self, size: int) -> Path:
        if size not in self._stores:
            path = self.root / f"events-{size}" / "ledger.sqlite"
            path.parent.mkdir()
            write_log(path, size)
            self._stores[size] = path
        return self._stores[size]

    def __enter__(self) -> BenchStores:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
