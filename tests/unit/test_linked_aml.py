"""Linked operations for AML: pieces below the threshold are summed over a rolling window of ledger time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from domain.aml import VALUE_PLACES, VALUE_UNIT, WINDOW_OPERATIONS_MAX, AmlOperation, AmlWindow, value_units
from domain.commands import BaseCommand, Deposit, SetComplianceSettings, SetReferenceRate, Transfer, Withdraw
from domain.events import AmlNotificationRecorded
from domain.state import LedgerState
from tests.world import LEDGER_TIME, accept, apply, trading_world

# Two days after the world's own deposits: nothing of theirs is in the window.
T = LEDGER_TIME + timedelta(days=2)
THRESHOLD = "90000.00"  # an individual's: 2,000 base units of 45 BYN


@pytest.fixture
def state() -> LedgerState:
    state = trading_world()
    accept(state, SetReferenceRate(key="r-usdt", code="USDT", byn_per_unit="3.2500", effective_on=T.date()))
    return state


def deposit(key: str, amount: str, at: datetime = T, client: str = "alesia", asset: str = "BYN") -> Deposit:
    return Deposit(key=key, client_id=client, asset=asset, amount=amount, reference=key, ledger_time=at)


def notices(state: LedgerState, command: BaseCommand) -> list[AmlNotificationRecorded]:
    outcome = apply(state, command)
    assert outcome.violation is None, outcome.violation
    return [event for event in outcome.events if isinstance(event, AmlNotificationRecorded)]


def test_pieces_that_reach_the_threshold_together_raise_a_notice_naming_every_one(state: LedgerState) -> None:
    assert notices(state, deposit("p1", "40000.00")) == []
    assert notices(state, deposit("p2", "30000.00", T + timedelta(hours=5))) == []
    (notice,) = notices(state, deposit("p3", "20000.00", T + timedelta(hours=23)))
    assert notice.operations == ("p1", "p2", "p3")
    assert notice.value_byn == THRESHOLD
    assert notice.threshold_byn == THRESHOLD
    assert notice.window_hours == 24
    assert (notice.operation, notice.amount_minor) == ("deposit", 2_000_000)


def test_pieces_one_minor_unit_below_the_threshold_raise_nothing(state: LedgerState) -> None:
    assert notices(state, deposit("p1", "40000.00")) == []
    assert notices(state, deposit("p2", "49999.99", T + timedelta(hours=1))) == []


def test_the_operations_a_notice_covers_are_not_notified_again(state: LedgerState) -> None:
    notices(state, deposit("p1", "50000.00"))
    (first,) = notices(state, deposit("p2", "40000.00", T + timedelta(hours=1)))
    assert first.operations == ("p1", "p2")
    # The next notice starts after them: p3 alone is far below.
    assert notices(state, deposit("p3", "1000.00", T + timedelta(hours=2))) == []
    (second,) = notices(state, deposit("p4", "89000.00", T + timedelta(hours=3)))
    assert second.operations == ("p3", "p4")


def test_an_operation_exactly_a_window_earlier_is_out_of_it(state: LedgerState) -> None:
    notices(state, deposit("p1", "50000.00"))
    assert notices(state, deposit("p2", "40000.00", T + timedelta(hours=24))) == []
    assert [operation.command_key for operation in state.aml_windows["alesia"].operations] == ["p2"]
    (notice,) = notices(state, deposit("p3", "50000.00", T + timedelta(hours=48) - timedelta(microseconds=1)))
    assert notice.operations == ("p2", "p3")


def test_a_single_large_operation_is_notified_alone_as_before(state: LedgerState) -> None:
    notices(state, deposit("p1", "10000.00"))
    (notice,) = notices(state, deposit("big", THRESHOLD, T + timedelta(hours=1)))
    assert notice.operations == ("big",)
    assert notice.window_hours is None
    assert notice.value_byn == THRESHOLD
    # The earlier piece is not covered by it: it still links with the next ones.
    (linked,) = notices(state, deposit("p2", "80000.00", T + timedelta(hours=2)))
    assert linked.operations == ("p1", "p2")


def test_transfers_and_crypto_at_its_rate_are_linked_for_the_client_they_come_from(
    state: LedgerState,
) -> None:
    notices(state, deposit("in", "60000.00"))
    notices(state, deposit("in-usdt", "9000", client="alesia", asset="USDT"))  # 29,250.00 BYN
    transfer = Transfer(
        key="x", source_client_id="alesia", target_client_id="nord", asset="BYN", amount="750.00", ledger_time=T
    )
    (notice,) = notices(state, transfer)
    assert notice.operations == ("in", "in-usdt", "x")
    assert notice.value_byn == THRESHOLD
    assert notice.client_id == "alesia"
    # The target's window does not count what it received.
    assert "x" not in [operation.command_key for operation in state.aml_windows["nord"].operations]


def test_a_transfer_stays_in_its_source_s_window_and_counts_towards_a_later_notice(state: LedgerState) -> None:
    notices(state, deposit("in", "50000.00"))
    transfer = Transfer(
        key="x", source_client_id="alesia", target_client_id="nord", asset="BYN", amount="30000.00", ledger_time=T
    )
    assert notices(state, transfer) == []
    assert [operation.command_key for operation in state.aml_windows["alesia"].operations] == ["in", "x"]
    (notice,) = notices(state, deposit("last", "10000.00", T + timedelta(hours=1)))
    assert notice.operations == ("in", "x", "last")
    assert notice.value_byn == THRESHOLD


def test_a_withdrawal_stays_in_its_client_s_window_and_counts_towards_a_later_notice(state: LedgerState) -> None:
    notices(state, deposit("in", "50000.00"))
    withdraw = Withdraw(key="w", client_id="alesia", asset="BYN", amount="30000.00", reference="w", ledger_time=T)
    assert notices(state, withdraw) == []
    assert [operation.command_key for operation in state.aml_windows["alesia"].operations] == ["in", "w"]
    (notice,) = notices(state, deposit("last", "10000.00", T + timedelta(hours=1)))
    assert notice.operations == ("in", "w", "last")


def test_a_withdrawal_completes_a_linked_notice(state: LedgerState) -> None:
    notices(state, deposit("in", "89999.99"))
    withdraw = Withdraw(key="w", client_id="alesia", asset="BYN", amount="0.01", reference="w", ledger_time=T)
    (notice,) = notices(state, withdraw)
    assert notice.operations == ("in", "w")
    assert notice.operation == "withdraw"


def test_the_window_is_a_setting(state: LedgerState) -> None:
    accept(state, SetComplianceSettings(key="s", aml_window_hours=1))
    notices(state, deposit("p1", "50000.00"))
    assert notices(state, deposit("p2", "40000.00", T + timedelta(hours=1))) == []
    (notice,) = notices(state, deposit("p3", "50000.00", T + timedelta(hours=1, minutes=59)))
    assert (notice.operations, notice.window_hours) == (("p2", "p3"), 1)


def test_a_company_is_linked_against_its_own_threshold(state: LedgerState) -> None:
    notices(state, deposit("n1", "450000.00", client="nord"))
    assert notices(state, deposit("n2", "449999.99", client="nord")) == []
    (notice,) = notices(state, deposit("n3", "0.01", client="nord"))
    assert (notice.operations, notice.threshold_byn) == (("n1", "n2", "n3"), "900000.00")


def test_a_rolled_back_batch_leaves_the_window_as_it_was(state: LedgerState) -> None:
    notices(state, deposit("p1", "50000.00"))
    before = dict(state.aml_windows)
    window = state.aml_windows["alesia"].copy()
    state.begin()
    notices(state, deposit("p2", "40000.00"))
    notices(state, deposit("p3", "100.00"))
    state.rollback()
    assert state.aml_windows == before
    assert state.aml_windows["alesia"] == window
    assert state.aml_windows["alesia"].total == window.total == 50_000 * VALUE_UNIT
    (notice,) = notices(state, deposit("p4", "40000.00"))
    assert notice.operations == ("p1", "p4")
    assert notice.value_byn == THRESHOLD


def test_a_rolled_back_batch_puts_back_what_its_operation_pushed_out_of_the_window(state: LedgerState) -> None:
    notices(state, deposit("p1", "50000.00"))
    state.begin()
    notices(state, deposit("late", "100.00", T + timedelta(hours=25)))
    assert [operation.command_key for operation in state.aml_windows["alesia"].operations] == ["late"]
    state.rollback()
    assert state.aml_windows["alesia"].total == 50_000 * VALUE_UNIT
    (notice,) = notices(state, deposit("p2", "40000.00", T + timedelta(hours=1)))
    assert (notice.operations, notice.value_byn) == (("p1", "p2"), THRESHOLD)


def test_a_notice_leaves_out_every_operation_that_has_left_the_window_since(state: LedgerState) -> None:
    notices(state, deposit("p1", "10000.00"))
    notices(state, deposit("p2", "10000.00", T + timedelta(hours=1)))
    notices(state, deposit("p3", "60000.00", T + timedelta(hours=2)))
    # 24 hours back from p4 is an hour and a half after p1: p1 and p2 are out, p3 is in.
    (notice,) = notices(state, deposit("p4", "30000.00", T + timedelta(hours=25, minutes=30)))
    assert (notice.operations, notice.value_byn) == (("p3", "p4"), THRESHOLD)


def test_a_snapshot_restores_the_windows(state: LedgerState) -> None:
    notices(state, deposit("p1", "50000.00"))
    notices(state, deposit("p2", "1.00", client="nord"))
    restored = LedgerState.restored(state.snapshot())
    assert restored.aml_windows == state.aml_windows
    assert restored.aml_windows["alesia"].total == state.aml_windows["alesia"].total
    assert restored.snapshot() == state.snapshot()


def test_a_window_holds_at_most_its_limit_of_operations(state: LedgerState) -> None:
    for n in range(WINDOW_OPERATIONS_MAX + 5):
        notices(state, deposit(f"tiny-{n}", "0.01", T + timedelta(microseconds=n)))
    window = state.aml_windows["alesia"]
    assert len(window.operations) == WINDOW_OPERATIONS_MAX
    assert window.operations[0].command_key == "tiny-5"
    assert window.total == sum(operation.value for operation in window.operations)


def test_windows_holding_different_operations_are_not_equal() -> None:
    first = AmlOperation(T, "p1", 5 * VALUE_UNIT)
    second = AmlOperation(T, "p2", 5 * VALUE_UNIT)
    assert AmlWindow([first]) == AmlWindow([first])
    assert AmlWindow([first]) != AmlWindow([second])
    assert AmlWindow([first]) != [first]


def test_a_copied_window_keeps_its_total_and_moves_on_its_own() -> None:
    window = AmlWindow([AmlOperation(T, "p1", 5 * VALUE_UNIT)])
    copied = window.copy()
    copied.add(AmlOperation(T + timedelta(hours=1), "p2", 2 * VALUE_UNIT), T - timedelta(hours=24))
    assert (copied.total, window.total) == (7 * VALUE_UNIT, 5 * VALUE_UNIT)
    assert [operation.command_key for operation in window.operations] == ["p1"]


def test_a_window_shows_its_operations() -> None:
    window = AmlWindow([AmlOperation(datetime(2026, 2, 4, 9, 0, tzinfo=UTC), "p1", 5)])
    assert repr(window) == (
        "AmlWindow([AmlOperation(ledger_time=datetime.datetime(2026, 2, 4, 9, 0, tzinfo=datetime.timezone.utc),"
        " command_key='p1', value=5)])"
    )


def test_values_are_counted_in_units_of_ten_to_the_minus_thirty_byn() -> None:
    assert (VALUE_PLACES, VALUE_UNIT) == (30, 1_000_000_000_000_000_000_000_000_000_000)
    # One wei at a rate of 12 decimals is still a whole number of units.
    assert value_units(1, 18, Fraction(1, 10**12)) == 1
