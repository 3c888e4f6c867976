"""What each event leaves in the decision state, exactly, and the events no
decider makes (a corrupt or tampered log) that the state refuses to apply."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.commands import (
    CheckDeadlines,
    OffboardClient,
    RevokeKyc,
    SetReferenceRate,
    SetTradingPolicy,
    VerifyKyc,
    Withdraw,
)
from domain.crossborder import SettlementStatus
from domain.events import ClientOffboarded, SettlementOverdue
from domain.parties import TradingPolicy
from domain.state import LedgerState
from tests.unit.test_settlement_rules import settle
from tests.world import LEDGER_TIME, accept, trading_world


def test_a_revoked_verification_keeps_no_expiry_day() -> None:
    state = trading_world()
    accept(state, VerifyKyc(key="again", client_id="alesia", expires_on=date(2027, 1, 1)))
    assert state.clients["alesia"].kyc_expires_on == date(2027, 1, 1)
    accept(state, RevokeKyc(key="revoke", client_id="alesia", reason="forged passport"))
    assert state.clients["alesia"].kyc_expires_on is None


def test_an_offboarding_of_a_client_still_holding_value_is_not_applied() -> None:
    emptied = trading_world()
    for code in ("USD", "USDT", "EUR"):
        accept(
            emptied, SetReferenceRate(key=f"r-{code}", code=code, byn_per_unit="3.25", effective_on=LEDGER_TIME.date())
        )
    for half in ("1", "2"):  # each below the travel rule's threshold
        accept(emptied, Withdraw(key=f"out-{half}", client_id="ivan", asset="USDT", amount="500", reference="out"))
    (offboarded,) = accept(emptied, OffboardClient(key="off", client_id="ivan", reason="left"))
    assert isinstance(offboarded, ClientOffboarded)
    holding = trading_world()  # ivan still holds 1000 USDT here
    with pytest.raises(AssertionError):
        holding.evolve(offboarded)
    assert not holding.clients["ivan"].offboarded


def test_a_settlement_of_one_minor_unit_past_its_deadline_is_overdue() -> None:
    state: LedgerState = trading_world()
    accept(state, settle(amount="0.01", deadline_days=10))
    check = CheckDeadlines(key="d11").model_copy(update={"ledger_time": LEDGER_TIME + timedelta(days=11)})
    (overdue,) = accept(state, check)
    assert isinstance(overdue, SettlementOverdue)
    assert overdue.outstanding_minor == 1
    assert state.settlements["s1"].status == SettlementStatus.OVERDUE


def test_a_snapshot_is_not_taken_and_no_batch_begun_while_a_batch_is_open() -> None:
    state = trading_world()
    state.begin()
    with pytest.raises(AssertionError, match=r"^a batch is open$"):
        state.snapshot()
    with pytest.raises(AssertionError, match=r"^a batch is already open$"):
        state.begin()
    state.rollback()
    assert state.snapshot().position == state.position


def test_a_new_trading_policy_keeps_the_earlier_one_in_force_before_it() -> None:
    state = trading_world()
    later = LEDGER_TIME + timedelta(hours=1)
    accept(
        state,
        SetTradingPolicy(key="p1", non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=False),
    )
    second = SetTradingPolicy(key="p2", non_residents_on_foreign_venues=True, resident_companies_on_foreign_venues=True)
    accept(state, second.model_copy(update={"ledger_time": later}))
    first_policy = TradingPolicy(non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=False)
    second_policy = TradingPolicy(non_residents_on_foreign_venues=True, resident_companies_on_foreign_venues=True)
    assert state.policy_history == ((LEDGER_TIME, first_policy), (later, second_policy))
    assert state.policy_at(later - timedelta(seconds=1)) == first_policy
    assert state.policy_at(later) == state.policy == second_policy


def test_a_settlement_sent_abroad_is_linked_into_its_client_s_aml_window_at_its_value() -> None:
    state = trading_world()
    accept(state, settle(amount="10.00"))
    window = state.aml_windows["nord"].operations
    assert [operation.command_key for operation in window] == ["fund-nord-byn", "init-s1"]
    assert window[-1].value == 1000 * 10**28  # 10.00 BYN in 10^-30 BYN


def test_a_venue_never_listed_is_none_at_every_moment() -> None:
    state = trading_world()
    assert state.venue_at("nowhere", LEDGER_TIME) is None
    assert state.venue_at("minsk-htp", LEDGER_TIME - timedelta(seconds=1)) is None
    venue = state.venue_at("minsk-htp", LEDGER_TIME)
    assert venue is not None
    assert (venue.venue_id, venue.listed) == ("minsk-htp", True)
