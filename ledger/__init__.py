"""The crypto bank's event-sourced ledger: write path, store, projections, CLI.

The names below are imported on first use (PEP 562), so that `ledger
balances` does not load the write path to read the views.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("crypto-bank-ledger")
except PackageNotFoundError:  # run from a checkout that was never installed
    __version__ = "0+unknown"

if TYPE_CHECKING:
    from ledger.clock import Clock, ManualClock, SystemClock
    from ledger.sandbox import Sandbox
    from ledger.service import CommandResult, Ledger
    from ledger.views import (
        Balance,
        EventRow,
        InvalidCursor,
        InvalidQuery,
        TransactionFilter,
        TransactionPage,
        TransactionRow,
    )

_HOMES = {
    "Balance": "ledger.views",
    "Clock": "ledger.clock",
    "CommandResult": "ledger.service",
    "EventRow": "ledger.views",
    "InvalidCursor": "ledger.views",
    "InvalidQuery": "ledger.views",
    "Ledger": "ledger.service",
    "ManualClock": "ledger.clock",
    "Sandbox": "ledger.sandbox",
    "SystemClock": "ledger.clock",
    "TransactionFilter": "ledger.views",
    "TransactionPage": "ledger.views",
    "TransactionRow": "ledger.views",
}
__all__ = [
    "Balance",
    "Clock",
    "CommandResult",
    "EventRow",
    "InvalidCursor",
    "InvalidQuery",
    "Ledger",
    "ManualClock",
    "Sandbox",
    "SystemClock",
    "TransactionFilter",
    "TransactionPage",
    "TransactionRow",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
