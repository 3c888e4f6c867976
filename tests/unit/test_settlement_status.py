"""The one settlement status machine that the decider, the decision state, the views and the reports use."""

from __future__ import annotations

import pytest

from domain.crossborder import (
    OUTSTANDING_STATUSES,
    SETTLEMENT_TRANSITIONS,
    SettlementMove,
    SettlementStatus,
    settlement_may,
    settlement_status,
)

OPEN, OVERDUE, RETURNED, CLOSED = (
    SettlementStatus.OPEN,
    SettlementStatus.OVERDUE,
    SettlementStatus.RETURNED,
    SettlementStatus.CLOSED,
)


def test_a_settlement_returned_in_part_keeps_its_status() -> None:
    assert settlement_status(OPEN, SettlementMove.RETURN, outstanding_minor=5) == OPEN
    assert settlement_status(OVERDUE, SettlementMove.RETURN, outstanding_minor=5) == OVERDUE


def test_a_settlement_returned_in_full_is_returned_even_when_overdue() -> None:
    assert settlement_status(OPEN, SettlementMove.RETURN, outstanding_minor=0) == RETURNED
    assert settlement_status(OVERDUE, SettlementMove.RETURN, outstanding_minor=0) == RETURNED


def test_a_delivery_closes_an_outstanding_settlement() -> None:
    for status in OUTSTANDING_STATUSES:
        assert settlement_status(status, SettlementMove.DELIVERY, outstanding_minor=0) == CLOSED


def test_only_an_open_settlement_falls_overdue() -> None:
    assert settlement_status(OPEN, SettlementMove.DEADLINE_PASSED, outstanding_minor=1) == OVERDUE
    assert [status for status in SettlementStatus if settlement_may(status, SettlementMove.DEADLINE_PASSED)] == [OPEN]


def test_an_open_or_overdue_settlement_is_extended_and_outstanding_again() -> None:
    assert settlement_status(OPEN, SettlementMove.EXTENSION, outstanding_minor=1) == OPEN
    assert settlement_status(OVERDUE, SettlementMove.EXTENSION, outstanding_minor=1) == OPEN
    assert [status for status in SettlementStatus if settlement_may(status, SettlementMove.EXTENSION)] == [
        OPEN,
        OVERDUE,
    ]


def test_returned_and_closed_settlements_are_final() -> None:
    for status in (RETURNED, CLOSED):
        assert not any(settlement_may(status, move) for move in SettlementMove)
        with pytest.raises(AssertionError):
            settlement_status(status, SettlementMove.RETURN, outstanding_minor=0)


def test_every_move_has_a_transition_and_every_status_is_reachable() -> None:
    assert set(SETTLEMENT_TRANSITIONS) == set(SettlementMove)
    reached = {target for targets in SETTLEMENT_TRANSITIONS.values() for target in targets.values()}
    assert reached == set(SettlementStatus)
