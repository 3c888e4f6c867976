"""`ledger bench`: the benchmarks (ledger.bench), imported only here."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    pass

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.

from ledger.cli.edges import (
    JsonOption,
    app,
    out,
    progress_bar,
)


@app.command()
def bench(
    as_json: JsonOption = False,
    events: Annotated[
        int, typer.Option("--events", min=100, max=2_000_000, help="Business transactions for write.*.")
    ] = 20_000,
    audit_events: Annotated[
        int, typer.Option("--audit-events", min=1000, max=10_000_000, help="Leaves for audit.* and memory.*.")
    ] = 1_000_000,
    replay_events: Annotated[
        int,
        typer.Option("--replay-events", min=1000, max=10_000_000, help="Events for replay, memory.replay and open.*."),
    ] = 1_000_000,
    requests: Annotated[
        int, typer.Option("--requests", min=1000, max=1_000_000, help="HTTP requests for serve.http.")
    ] = 20_000,
    only: Annotated[str | None, typer.Option(help="Run only figures starting with this, like 'audit'.")] = None,
) -> None:
    """Benchmarks with references measured in the same run (JSON with --json)."""
    from ledger.bench.audit import run_audit_benchmarks
    from ledger.bench.export import run_export_benchmarks
    from ledger.bench.replay import run_replay_benchmarks
    from ledger.bench.serve import run_serve_benchmark
    from ledger.bench.stores import BenchStores
    from ledger.bench.write import run_benchmarks

    figures: dict[str, Any] = {}
    writing = only is None or "write".startswith(only) or only.startswith("write")
    auditing = only is None or any(name.startswith(only) or only.startswith(name) for name in ("audit", "memory"))
    replay = only is None or any(name.startswith(only) or only.startswith(name) for name in ("replay", "memory"))
    opening = only is None or "open".startswith(only) or only.startswith("open")
    serving = only is None or "serve".startswith(only) or only.startswith("serve")
    steps = writing + 2 * auditing + (replay or opening) + serving  # each benchmark run, a step
    # The stores written through the write path are shared by the groups that use them.
    with progress_bar(as_json, "benchmarking", total=steps, unit="benchmarks") as advance, BenchStores() as stores:
        if writing:
            figures.update(run_benchmarks(events)["figures"])
            advance(1)
        if auditing:
            figures.update(run_audit_benchmarks(audit_events))
            advance(1)
            figures.update(run_export_benchmarks(audit_events, stores))
            advance(1)
        if replay or opening:
            figures.update(run_replay_benchmarks(replay_events, stores, replay=replay, opening=opening))
            advance(1)
        if serving:
            figures.update(run_serve_benchmark(requests))
            advance(1)
    report = {"figures": figures}
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table()
    for column in ("Figure", "Value", "Unit", "References"):
        table.add_column(column)
    for name, figure in report["figures"].items():
        references = ", ".join(f"{k} {v}" for k, v in figure["references"].items())
        if figure.get("unavailable"):
            references = escape(f"skipped: {figure['unavailable']}")  # an install hint's [extra] is no markup
        table.add_row(name, str(figure["value"]), figure["unit"], references)
    out.print(table)
