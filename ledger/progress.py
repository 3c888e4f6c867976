"""Progress of long work, with its total, on a terminal only (DESIGN.md section 6).

    with progress("exporting leaves", total=n) as advance:
        for page in pages:
            ...
            advance(len(page))

shows a bar, "exporting leaves 123,456/1,000,000", the rate ("12,345
leaves/s") and the time left on stderr while the work runs, drawn by
`rich.progress`, when stderr is a terminal; anywhere else (a pipe, a file, a
test, `--json`) it writes nothing at all, not even a last line. The unit of
the rate is the description's last word unless `unit` names it. Code that
reports progress takes a `ProgressStart` (this function's signature) and
calls it, so that it need not know where progress goes; `no_progress` is the
silent one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

Advance = Callable[[int], None]


class ProgressStart(Protocol):
    def __call__(
        self, description: str, *, total: int | None = None, unit: str | None = None
    ) -> AbstractContextManager[Advance]: ...


def _ignore(_steps: int) -> None:
    return None


@contextmanager
def no_progress(description: str, *, total: int | None = None, unit: str | None = None) -> Iterator[Advance]:  # noqa: ARG001
    yield _ignore


@contextmanager
def progress(
    description: str,
    *,
    total: int | None = None,
    unit: str | None = None,
    stream: TextIO | None = None,
    enabled: bool = True,
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
        BarColumn(bar_width=None),
        _rate_column(unit or description.rsplit(maxsplit=1)[-1]),
        TimeElapsedColumn(),
        *([TextColumn("eta"), TimeRemainingColumn()] if total is not None else []),
    )
    with Progress(*columns, console=Console(file=stream), transient=False) as bar:
        task = bar.add_task(description, total=total)

        def advance(steps: int) -> None:
            bar.advance(task, steps)

        yield advance


def _rate_column(unit: str) -> ProgressColumn:
    """ "12,345 events/s": the steps done over the time taken so far (a mean,
    steadier than rich's recent speed, and known from the first step)."""
    from rich.progress import ProgressColumn  # noqa: PLC0415
    from rich.table import Column  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            elapsed = task.finished_time if task.finished_time is not None else task.elapsed
            if not elapsed or not task.completed:
                return Text(f"- {unit}/s", style="progress.data.speed", no_wrap=True)
            return Text(f"{rate_text(task.completed / elapsed)} {unit}/s", style="progress.data.speed", no_wrap=True)

    return RateColumn(table_column=Column(no_wrap=True))  # a narrow terminal shortens the bar instead


def rate_text(per_second: float) -> str:
    """A rate as people read it: 12,345 or 42.5 or 0.25."""
    if per_second >= 100:
        return f"{per_second:,.0f}"
    if per_second >= 1:
        return f"{per_second:.1f}"
    return f"{per_second:.2f}"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a stream without isatty, or one closed
        return False
