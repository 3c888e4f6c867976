"""Linked operations for AML: each client's recent operations, summed over a rolling window of ledger time.

An amount split into pieces each below the client's AML threshold is still
notified when the pieces reach it together within the window (by default a
ledger day: 24 hours back from the operation's ledger time). A notice covers
the operations it names: they leave the window, and the next notice starts
after them. The window is a deque per client, in log order, pruned from the
front by time, with its running total, so that a check costs the operations
that fell out of the window, not the operations in it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from fractions import Fraction
from functools import partial
from typing import NamedTuple

VALUE_PLACES = 30
"""Values are integers of 10^-30 BYN: exact for any amount (scale at most 18)
at any rate (at most 12 decimals), and summed without Fractions on the write path."""
VALUE_UNIT: int = 10**VALUE_PLACES
_POWERS_OF_TEN: tuple[int, ...] = tuple(10**places for places in range(VALUE_PLACES + 1))


def value_units(amount_minor: int, scale: int, rate: Fraction) -> int:
    """The exact BYN value of an amount at a rate, in 10^-30 BYN."""
    return amount_minor * rate.numerator * (VALUE_UNIT // (rate.denominator * _POWERS_OF_TEN[scale]))


def reaches(value: int, threshold_byn: Fraction) -> bool:
    """Whether a value in 10^-30 BYN is at or above a threshold in BYN."""
    return value * threshold_byn.denominator >= threshold_byn.numerator * VALUE_UNIT


WINDOW_OPERATIONS_MAX = 1000
"""A client's window holds at most its 1,000 latest uncovered operations (the
oldest leave it early): the decision state and its snapshots stay bounded
however many small operations a client makes in a day."""


class AmlOperation(NamedTuple):
    """One valued operation of a client: when, under which command key, worth
    how much (`value`, in 10^-30 BYN)."""

    ledger_time: datetime
    command_key: str
    value: int


class AmlWindow:
    """A client's operations not yet covered by a notice, oldest first."""

    __slots__ = ("operations", "total")

    def __init__(self, operations: Iterable[AmlOperation] = ()) -> None:
        self.operations: deque[AmlOperation] = deque(operations)
        self.total = sum(operation.value for operation in self.operations)

    def copy(self) -> AmlWindow:
        copied = AmlWindow()
        copied.operations = self.operations.copy()
        copied.total = self.total
        return copied

    def add(self, operation: AmlOperation, start: datetime) -> Callable[[], None]:
        """Adds `operation`, dropping those at or before `start` (out of the
        window) and the oldest beyond `WINDOW_OPERATIONS_MAX`; returns what
        undoes it (a batch's rollback)."""
        operations = self.operations
        operations.append(operation)
        self.total += operation.value
        dropped: list[AmlOperation] = []
        while operations[0].ledger_time <= start or len(operations) > WINDOW_OPERATIONS_MAX:
            dropped.append(operations.popleft())
            self.total -= dropped[-1].value
        return partial(self._undo_add, operation, dropped)

    def _undo_add(self, operation: AmlOperation, dropped: list[AmlOperation]) -> None:
        self.operations.extendleft(reversed(dropped))
        self.total += sum(earlier.value for earlier in dropped)
        assert self.operations.pop() is operation
        self.total -= operation.value

    def total_since(self, start: datetime) -> tuple[int, int]:
        """How many operations at the front are at or before `start` (still
        there until the next `add` prunes them), and the total of the rest."""
        total = self.total
        stale = 0
        for operation in self.operations:
            if operation.ledger_time > start:
                break
            total -= operation.value
            stale += 1
        return stale, total

    def keys_after(self, stale: int) -> list[str]:
        return [operation.command_key for operation in list(self.operations)[stale:]]

    def cover(self, keys: Iterable[str]) -> Callable[[], None]:
        """Removes the operations a notice covered; returns what undoes it."""
        before, total = self.operations, self.total
        covered = set(keys)
        self.operations = deque(operation for operation in before if operation.command_key not in covered)
        self.total = sum(operation.value for operation in self.operations)
        return partial(self._restore, before, total)

    def _restore(self, operations: deque[AmlOperation], total: int) -> None:
        self.operations, self.total = operations, total

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AmlWindow) and list(self.operations) == list(other.operations)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"AmlWindow({list(self.operations)!r})"
