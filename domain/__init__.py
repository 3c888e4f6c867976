"""The pure model of the crypto bank's ledger: values, commands, events, rules."""

from domain.commands import COMMAND_ADAPTER, BaseCommand, Command
from domain.decide import Outcome, Stamp, command_stream, decide, handle
from domain.errors import BatchRejected, InvalidCommand, LedgerError, RuleViolation
from domain.state import LedgerState

__all__ = [
    "COMMAND_ADAPTER",
    "BaseCommand",
    "BatchRejected",
    "Command",
    "InvalidCommand",
    "LedgerError",
    "LedgerState",
    "Outcome",
    "RuleViolation",
    "Stamp",
    "command_stream",
    "decide",
    "handle",
]
