"""Progress of long work, with its total, on a terminal only (DESIGN.md section 6).

    with progress("exporting leaves", total=n) as advance:
        for page in pages:
            ...
            advance(len(page))

shows a bar and "exporting leaves 123,456/1,000,000" on stderr while the work
runs, drawn by `rich.progress`, when stderr is a terminal; anywhere else (a
pipe, a file, a test, `--json`) it writes nothing at all, not even a last line.
Code that reports progress takes a `ProgressStart` (this function's
signature) and calls it, so that it need not know where progress goes;
`no_progress` is the silent one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TextIO

Advance = Callable[[int], None]


class ProgressStart(Protocol):
    def __call__(self, description: str, *, total: int | None = None) -> AbstractContextManager[Advance]: ...


def _ignore(_steps: int) -> None:
    return None


@contextmanager
def no_progress(description: str, *, total: int | None = None) -> Iterator[Advance]:  # noqa: ARG001
    yield _ignore


@contextmanager
def progress(
    description: str, *, total: int | None = None, stream: TextIO | None = None, enabled: bool = True
) -> Iterator[Advance]:
    """An `advance(steps)` for work of `total` steps (None: not known), shown on
    `stream` (stderr) only when it is a terminal and `enabled`."""
    stream = stream if stream is not None else sys.stderr
    if not enabled or not _is_terminal(stream):
        yield _ignore
        return
    from rich.console import Console  # noqa: PLC0415 (only a terminal needs it)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn  # noqa: PLC0415

    counts = "{task.completed:,}/{task.total:,}" if total is not None else "{task.completed:,}"
    columns = (
        TextColumn("{task.description}"),
        TextColumn(counts),
        BarColumn(),
        TimeRemainingColumn() if total is not None else TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as bar:
        task = bar.add_task(description, total=total)

        def advance(steps: int) -> None:
            bar.advance(task, steps)

        yield advance


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a stream without isatty, or one closed
        return False
