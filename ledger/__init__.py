"""The crypto bank's event-sourced ledger: write path, store, projections, CLI."""

from ledger.clock import Clock, ManualClock, SystemClock
from ledger.sandbox import Sandbox
from ledger.service import CommandResult, Ledger
from ledger.views import Balance

__all__ = ["Balance", "Clock", "CommandResult", "Ledger", "ManualClock", "Sandbox", "SystemClock"]
