"""The sandbox's test clock: frozen, moved on and released by commands recorded as events."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta, timezone

import pytest
from pydantic import ValidationError

from domain.commands import SetSandboxClock
from domain.errors import ClockMovesForwardOnly
from domain.events import SandboxClockSet, SettlementOverdue
from domain.snapshot import StateSnapshot
from domain.state import LedgerState
from tests.unit.test_settlement_rules import settle
from tests.unit.test_settlement_rules import state as settlement_state  # noqa: F401 (a fixture)
from tests.world import LEDGER_TIME, accept, apply, built_world

FROZEN = LEDGER_TIME + timedelta(days=3)


def test_freezing_the_clock_records_the_time_it_reads() -> None:
    state = built_world()
    outcome = apply(state, SetSandboxClock(key="clock", frozen_at=FROZEN))
    (event,) = outcome.events
    assert isinstance(event, SandboxClockSet)
    assert event.frozen_at == FROZEN
    assert event.ledger_time == FROZEN
    assert state.sandbox_clock == FROZEN


def test_advancing_a_frozen_clock_moves_it_on_from_where_it_stood() -> None:
    state = built_world()
    accept(state, SetSandboxClock(key="freeze", frozen_at=FROZEN))
    accept(state, SetSandboxClock(key="advance", advance_seconds=3600))
    assert state.sandbox_clock == FROZEN + timedelta(hours=1)


def test_releasing_the_clock_lets_it_run_with_real_time_again() -> None:
    state = built_world()
    accept(state, SetSandboxClock(key="freeze", frozen_at=FROZEN))
    accept(state, SetSandboxClock(key="release", release=True))
    assert state.sandbox_clock is None


def test_the_clock_moves_forward_only() -> None:
    state = built_world()
    accept(state, SetSandboxClock(key="freeze", frozen_at=FROZEN))
    with pytest.raises(ClockMovesForwardOnly, match="moves forward only"):
        accept(state, SetSandboxClock(key="back", frozen_at=FROZEN - timedelta(seconds=1)))
    assert state.sandbox_clock == FROZEN


@pytest.mark.parametrize(
    "change",
    [{}, {"frozen_at": FROZEN, "release": True}, {"advance_seconds": 5, "frozen_at": FROZEN}, {"advance_seconds": 0}],
)
def test_a_clock_command_makes_exactly_one_change(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SetSandboxClock(key="clock", **change)  # type: ignore[arg-type]


def test_moving_the_clock_past_a_deadline_flags_the_settlement_overdue(settlement_state: LedgerState) -> None:  # noqa: F811
    assert apply(settlement_state, settle()).violation is None
    outcome = apply(settlement_state, SetSandboxClock(key="later", advance_seconds=200 * 24 * 3600))
    overdue = [event for event in outcome.events if isinstance(event, SettlementOverdue)]
    assert [event.settlement_id for event in overdue] == ["s1"]
    assert overdue[0].ledger_time == settlement_state.sandbox_clock


def test_a_snapshot_keeps_the_frozen_clock_and_one_from_before_the_clock_has_none() -> None:
    state = built_world()
    accept(state, SetSandboxClock(key="freeze", frozen_at=FROZEN))
    assert LedgerState.restored(state.snapshot()).sandbox_clock == FROZEN
    older = state.snapshot().model_dump()
    del older["sandbox_clock"]
    assert LedgerState.restored(StateSnapshot.model_validate(older)).sandbox_clock is None


def test_a_released_clock_cannot_be_frozen_behind_the_furthest_it_has_read() -> None:
    state = built_world()
    accept(state, SetSandboxClock(key="far", frozen_at=FROZEN + timedelta(days=365)))
    accept(state, SetSandboxClock(key="release", release=True))
    with pytest.raises(ClockMovesForwardOnly, match="moves forward only"):
        accept(state, SetSandboxClock(key="back", frozen_at=FROZEN))
    assert state.clock_high_water == FROZEN + timedelta(days=365)


def test_the_clock_can_be_frozen_again_exactly_where_it_has_read_furthest() -> None:
    state = built_world()
    accept(state, SetSandboxClock(key="freeze", frozen_at=FROZEN))
    accept(state, SetSandboxClock(key="release", release=True))
    (event,) = accept(state, SetSandboxClock(key="again", frozen_at=FROZEN))
    assert isinstance(event, SandboxClockSet)
    assert state.sandbox_clock == FROZEN


def test_a_refused_move_back_names_the_furthest_time_and_the_target() -> None:
    state = built_world()
    accept(state, SetSandboxClock(key="freeze", frozen_at=FROZEN))
    with pytest.raises(ClockMovesForwardOnly) as refused:
        accept(state, SetSandboxClock(key="back", frozen_at=FROZEN - timedelta(seconds=1)))
    assert refused.value.context == {
        "furthest": "2026-02-05T09:00:00+00:00",
        "target": "2026-02-05T08:59:59+00:00",
    }


@pytest.fixture
def tokyo_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine whose local time zone is not UTC."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("tokyo_machine")
def test_the_frozen_time_is_recorded_in_utc_whatever_the_machines_time_zone() -> None:
    state = built_world()
    minsk = timezone(timedelta(hours=3))
    (event,) = accept(state, SetSandboxClock(key="freeze", frozen_at=FROZEN.astimezone(minsk)))
    assert isinstance(event, SandboxClockSet)
    assert event.frozen_at is not None
    assert event.frozen_at.isoformat() == "2026-02-05T09:00:00+00:00"
    assert event.ledger_time.isoformat() == "2026-02-05T09:00:00+00:00"
