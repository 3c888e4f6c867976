"""The `ledger` command line: thin commands over `Sandbox` and `Ledger`, one module an area.

`edges` holds what they share (the app, options, and the one table that maps
every expected failure to its exit code); `store`, `reads`, `queries`,
`writes`, `audit`, `replay`, `serve` and `bench` register their commands on import. The write path, the
domain's commands and the library are imported inside the commands that use
them, so a read (`ledger balances`) starts without them.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Any

from ledger.cli.edges import app, internal_error, log_options_first, run_command_line

AREAS = (
    "store",
    "writes",
    "scenarios",
    "reads",
    "queries",
    "audit",
    "liabilities",
    "replay",
    "serve",
    "bench",
)  # in `ledger --help`'s order
for _area in AREAS:
    import_module(f"ledger.cli.{_area}")

__all__ = ["app", "main"]


def main() -> Any:
    """The `ledger` command: a bug that reaches here is one line and exit 70, not a traceback."""
    os.umask(0o077)  # every file the command makes is its owner's alone: stores, keys, bundles, reports
    try:
        return run_command_line(log_options_first(sys.argv[1:]))
    except Exception as error:
        internal_error(error)
