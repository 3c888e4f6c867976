"""Clocks: injectable, so replays and simulations are deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to, by `step` on every reading."""

    def __init__(self, start: datetime, step: timedelta = timedelta(0)) -> None:
        assert start.tzinfo is not None, "ledger times are time-zone aware"
        self.current = start.astimezone(UTC)
        self.step = step

    def now(self) -> datetime:
        reading = self.current
        self.current += self.step
        return reading

    def advance(self, delta: timedelta) -> None:
        assert delta >= timedelta(0), "ledger time never runs backwards"
        self.current += delta
