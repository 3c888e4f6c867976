"""Corrections: a reversal records the exact opposite postings beside its original, once, and never below zero."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.commands import (
    ExecuteTrade,
    FreezeClient,
    FundTreasury,
    IssueTokens,
    RedeemTokens,
    ReverseTransaction,
    RevokeIssuerLicence,
    SetReferenceRate,
    SetVolumeCap,
    Transfer,
    VerifyKyc,
    Withdraw,
)
from domain.errors import UnknownTransaction
from domain.events import FundsDeposited, TransactionReversed
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.unit.test_settlement_rules import settle
from tests.world import accept, apply, built_world, reject, trading_world


@pytest.fixture
def state() -> LedgerState:
    return built_world()


def reverse(original: str, key: str = "reversal") -> ReverseTransaction:
    return ReverseTransaction(key=key, original_key=original, reason="booked twice", reference="TICKET-7")


def test_a_reversal_records_the_exact_opposite_postings_beside_the_original(state: LedgerState) -> None:
    (original,) = state.history.events_of("fund-byn") or ()
    assert isinstance(original, FundsDeposited)
    (reversal,) = apply(state, reverse("fund-byn")).events
    assert isinstance(reversal, TransactionReversed)
    assert [(p.account, p.asset, -p.amount_minor) for p in reversal.postings] == [
        (p.account, p.asset, p.amount_minor) for p in original.postings
    ]
    assert (reversal.original_key, reversal.original_type, reversal.reference) == ("fund-byn", "deposit", "TICKET-7")
    assert state.balance("client:alesia", "BYN") == 0
    assert state.reversals == {"fund-byn": "reversal"}


def test_a_transaction_is_reversed_only_once(state: LedgerState) -> None:
    accept(state, reverse("fund-byn"))
    event = assert_recorded_rejection(state, reverse("fund-byn", key="again"), "ALREADY_REVERSED")
    assert event.details["reversal"] == "reversal"


def test_a_rejection_a_command_without_postings_and_a_reversal_are_not_reversible(state: LedgerState) -> None:
    reject(
        state,
        Withdraw(key="too-much", client_id="alesia", asset="BYN", amount="500", reference="out"),
        "INSUFFICIENT_FUNDS",
    )
    assert_recorded_rejection(state, reverse("too-much", key="r1"), "NOT_REVERSIBLE")
    assert_recorded_rejection(state, reverse("kyc-alesia", key="r2"), "NOT_REVERSIBLE")
    accept(state, reverse("fund-byn", key="r3"))
    assert_recorded_rejection(state, reverse("r3", key="r4"), "NOT_REVERSIBLE")


def test_a_settlement_step_is_not_reversed_by_postings() -> None:
    state = trading_world()
    accept(state, SetReferenceRate(key="r-usd", code="USD", byn_per_unit="3.2000", effective_on=date(2026, 1, 1)))
    assert apply(state, settle(amount="10")).violation is None
    event = assert_recorded_rejection(state, reverse("init-s1"), "NOT_REVERSIBLE")
    assert "status machine" in event.reason


def test_an_unknown_key_is_invalid_input(state: LedgerState) -> None:
    assert_refused(state, reverse("no-such-key"), UnknownTransaction)


def test_a_reversal_that_would_drive_a_balance_negative_names_the_account(state: LedgerState) -> None:
    accept(state, Withdraw(key="w", client_id="alesia", asset="BYN", amount="0.01", reference="out"))
    event = assert_recorded_rejection(state, reverse("fund-byn"), "INSUFFICIENT_FUNDS")
    assert event.details == {"account": "client:alesia", "asset": "BYN", "requested": "100.00", "available": "99.99"}


def test_the_last_minor_unit_lets_a_reversal_through(state: LedgerState) -> None:
    accept(state, Withdraw(key="w", client_id="alesia", asset="BYN", amount="99.99", reference="out"))
    accept(state, reverse("w", key="undo-w"))
    assert apply(state, reverse("fund-byn")).violation is None
    assert state.balance("client:alesia", "BYN") == 0


def test_the_treasury_floor_holds_for_a_reversal(state: LedgerState) -> None:
    accept(state, FundTreasury(key="fund", asset="BYN", amount="11", reference="capital"))
    trade = ExecuteTrade(
        key="sell",
        seller_client_id="alesia",
        base_asset="SVT",
        base_amount="5",
        quote_asset="BYN",
        quote_amount="11.00",
    )
    assert apply(state, trade).violation is None  # the treasury paid all it held
    accept(state, Transfer(key="t", source_client_id="alesia", target_client_id="nord", asset="SVT", amount="295"))
    # Alesia has the BYN to give back but only 0.00 SVT... the treasury must give its SVT back too.
    accept(state, Transfer(key="t2", source_client_id="nord", target_client_id="alesia", asset="SVT", amount="5"))
    trade_back = ExecuteTrade(
        key="buy-back",
        buyer_client_id="alesia",
        base_asset="SVT",
        base_amount="5",
        quote_asset="BYN",
        quote_amount="1.00",
    )
    assert apply(state, trade_back).violation is None  # the treasury sold the 5 SVT it held
    event = assert_recorded_rejection(state, reverse("sell"), "INSUFFICIENT_FUNDS")
    assert event.details["account"] == "system:treasury"


def test_reversing_an_issuance_lowers_the_supply(state: LedgerState) -> None:
    accept(state, reverse("fund-svt"))
    assert state.supply("SVT") == 0
    assert state.holdings("SVT") == 0


def test_reversing_a_redemption_raises_the_supply_within_the_cap(state: LedgerState) -> None:
    accept(state, RedeemTokens(key="redeem", issuer_id="svislach", asset="SVT", client_id="alesia", amount="100.00"))
    accept(state, IssueTokens(key="fill", issuer_id="svislach", asset="SVT", client_id="nord", amount="800.00"))
    assert state.supply("SVT") == 100000  # the cap, 1000.00
    assert_recorded_rejection(state, reverse("redeem"), "SUPPLY_CAP_EXCEEDED")
    accept(state, reverse("fill", key="undo-fill"))
    assert apply(state, reverse("redeem")).violation is None
    assert state.supply("SVT") == 30000 == state.holdings("SVT")


def test_a_redemption_is_not_reversed_once_the_issuers_licence_was_revoked(state: LedgerState) -> None:
    accept(state, RedeemTokens(key="redeem", issuer_id="svislach", asset="SVT", client_id="alesia", amount="1.00"))
    accept(state, RevokeIssuerLicence(key="revoke", issuer_id="svislach", reason="HTP decision"))
    assert_recorded_rejection(state, reverse("redeem"), "ISSUER_LICENCE_REVOKED")


def test_a_reversed_trade_is_taken_off_its_days_volume() -> None:
    state = trading_world()
    accept(state, SetVolumeCap(key="cap", client_id="nord", asset="USDT", daily_cap="100"))
    trade = ExecuteTrade(
        key="t1",
        venue_id="minsk-htp",
        buyer_client_id="jan",
        seller_client_id="nord",
        base_asset="BYN",
        base_amount="10",
        quote_asset="USDT",
        quote_amount="100",
    )
    assert apply(state, trade).violation is None
    day = "2026-02-02"
    assert state.volume("nord", "USDT", day) == 100_000000 == state.volume("", "USDT", day)
    second = trade.model_copy(update={"key": "t2"})
    assert_recorded_rejection(state, second, "CLIENT_VOLUME_CAP_EXCEEDED")
    later = datetime(2026, 2, 3, 9, tzinfo=UTC)  # the reversal's own day does not matter: the trade's does
    accept(state, reverse("t1").model_copy(update={"ledger_time": later}))
    assert state.volume("nord", "USDT", day) == 0 == state.volume("jan", "USDT", day) == state.volume("", "USDT", day)
    assert apply(state, second).violation is None


def test_a_reversal_touching_a_frozen_client_is_refused(state: LedgerState) -> None:
    accept(state, FreezeClient(key="freeze", client_id="alesia", reason="court order"))
    assert_recorded_rejection(state, reverse("fund-byn"), "CLIENT_FROZEN")


def test_a_reversal_needs_no_kyc_of_the_client(state: LedgerState) -> None:
    accept(state, VerifyKyc(key="review", client_id="alesia", expires_on=datetime(2026, 2, 3).date()))
    late = reverse("fund-byn").model_copy(update={"ledger_time": datetime(2026, 2, 5, tzinfo=UTC)})
    assert apply(state, late).violation is None
