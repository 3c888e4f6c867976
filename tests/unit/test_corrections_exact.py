"""Corrections, exactly: every account a reversal moves and by how much, the
stream it is stored in (a stored contract), and the refusals' whole messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID

import pytest

from domain.commands import (
    BaseCommand,
    CheckDeadlines,
    Deposit,
    ExecuteTrade,
    FundTreasury,
    IssueTokens,
    RedeemTokens,
    ReverseTransaction,
    RevokeIssuerLicence,
    SetReferenceRate,
    Transfer,
    Withdraw,
)
from domain.errors import UnknownTransaction
from domain.events import AmlNotificationRecorded, LedgerEvent, TransactionReversed
from domain.state import LedgerState, RememberedHistory
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.unit.test_settlement_rules import settle
from tests.world import LEDGER_TIME, accept, apply, assert_moves, built_world, trading_world

LATER = LEDGER_TIME + timedelta(days=1)  # a day after the world's deposits: none is linked for AML
REVERSAL_STREAM = UUID("c2081260-f139-5dea-9c59-59f7c8902b4d")  # command_stream("reversal")


@pytest.fixture
def state() -> LedgerState:
    return built_world()


def reverse(original: str, key: str = "reversal") -> ReverseTransaction:
    return ReverseTransaction(key=key, original_key=original, reason="booked twice", reference="TICKET-7")


def not_reversible(state: LedgerState, command: ReverseTransaction, message: str) -> None:
    event = assert_recorded_rejection(state, command, "NOT_REVERSIBLE")
    assert event.reason == message


class RecordsNothingFor(RememberedHistory):
    """A history that gives `events` (by default none) for one command's key,
    as the store gives none for a check of deadlines that found nothing overdue."""

    def __init__(self, key: str, events: Sequence[LedgerEvent] = ()) -> None:
        super().__init__()
        self._key = key
        self._given = list(events)

    def events_of(self, command_key: str) -> Sequence[LedgerEvent] | None:
        return self._given if command_key == self._key else super().events_of(command_key)


def test_a_reversed_deposit_takes_the_value_back_out_of_the_client_on_the_reversal_s_stream(
    state: LedgerState,
) -> None:
    (event,) = assert_moves(
        state, reverse("fund-byn"), {("client:alesia", "BYN"): -10000, ("system:external", "BYN"): 10000}
    )
    assert isinstance(event, TransactionReversed)
    assert event.originator_id == REVERSAL_STREAM
    assert (event.original_key, event.original_type, event.reason, event.reference) == (
        "fund-byn",
        "deposit",
        "booked twice",
        "TICKET-7",
    )


@pytest.mark.parametrize(
    ("original", "moves"),
    [
        (
            IssueTokens(key="o", issuer_id="svislach", asset="SVT", client_id="alesia", amount="2.50"),
            {("client:alesia", "SVT"): -250, ("system:issuance", "SVT"): 250},
        ),
        (
            Withdraw(key="o", client_id="alesia", asset="BYN", amount="3.25", reference="out"),
            {("client:alesia", "BYN"): 325, ("system:external", "BYN"): -325},
        ),
        (
            Transfer(key="o", source_client_id="alesia", target_client_id="nord", asset="SVT", amount="4.00"),
            {("client:alesia", "SVT"): 400, ("client:nord", "SVT"): -400},
        ),
        (
            FundTreasury(key="o", asset="BYN", amount="7.00", reference="capital"),
            {("system:treasury", "BYN"): -700, ("system:external", "BYN"): 700},
        ),
    ],
)
def test_a_reversal_moves_back_exactly_what_its_original_moved(
    state: LedgerState, original: BaseCommand, moves: dict[tuple[str, str], int]
) -> None:
    accept(state, original)
    assert_moves(state, reverse("o"), moves)


def test_a_reversed_redemption_gives_the_units_back_to_the_client_from_issuance(state: LedgerState) -> None:
    accept(state, RedeemTokens(key="redeem", issuer_id="svislach", asset="SVT", client_id="alesia", amount="1.25"))
    assert_moves(state, reverse("redeem"), {("client:alesia", "SVT"): 125, ("system:issuance", "SVT"): -125})


def test_a_reversed_trade_moves_back_every_account_the_trade_moved() -> None:
    state = trading_world()
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
    accept(state, trade)
    moves = {
        ("client:jan", "BYN"): -1000,
        ("client:jan", "USDT"): 100_000000,
        ("client:nord", "BYN"): 1000,
        ("client:nord", "USDT"): -100_000000,
    }
    (event,) = assert_moves(state, reverse("t1"), moves)
    assert isinstance(event, TransactionReversed)
    assert (event.original_type, event.volume_asset, event.volume_minor, event.volume_client_ids) == (
        "execute_trade",
        "USDT",
        100_000000,
        ("jan", "nord"),
    )


def test_an_unknown_key_is_refused_naming_it(state: LedgerState) -> None:
    message = r"^unknown transaction 'no-such-key': no command was recorded under that key$"
    assert_refused(state, reverse("no-such-key"), UnknownTransaction, message)


def test_a_rejection_is_not_reversed_naming_the_command_it_refused(state: LedgerState) -> None:
    withdrawal = Withdraw(key="too-much", client_id="alesia", asset="BYN", amount="500", reference="out")
    assert apply(state, withdrawal).violation is not None
    not_reversible(
        state,
        reverse("too-much"),
        "transaction 'too-much' (withdraw) is not reversed by postings: a rejection moved nothing",
    )


def test_a_command_that_made_no_postings_is_not_reversed_naming_its_kind(state: LedgerState) -> None:
    not_reversible(
        state,
        reverse("kyc-alesia"),
        "transaction 'kyc-alesia' (verify_kyc) is not reversed by postings: it made no postings",
    )


def test_a_command_that_recorded_no_event_at_all_is_not_reversed_as_a_command(state: LedgerState) -> None:
    history = RecordsNothingFor("nothing-due")
    state.history = history
    assert apply(state, CheckDeadlines(key="nothing-due")).events == []
    not_reversible(
        state,
        reverse("nothing-due"),
        "transaction 'nothing-due' (a command) is not reversed by postings: it made no postings",
    )


def test_a_log_whose_first_event_names_no_command_is_not_reversed_as_a_command(state: LedgerState) -> None:
    # An AML notice only ever follows its operation's event: a log that starts with one names no command.
    deposit = Deposit(key="big", client_id="alesia", asset="BYN", amount="90000.00", reference="r", ledger_time=LATER)
    (notice,) = (event for event in accept(state, deposit) if isinstance(event, AmlNotificationRecorded))
    history = RecordsNothingFor("notice-only", [notice])
    state.history = history
    not_reversible(
        state,
        reverse("notice-only").model_copy(update={"ledger_time": LATER}),
        "transaction 'notice-only' (a command) is not reversed by postings: it made no postings",
    )


def test_a_reversal_is_not_reversed_a_new_transaction_corrects_it(state: LedgerState) -> None:
    accept(state, reverse("fund-byn", key="r1"))
    not_reversible(
        state,
        reverse("r1", key="r2"),
        "transaction 'r1' (reverse_transaction) is not reversed by postings: "
        "a correction is corrected by a new transaction",
    )


def test_a_settlement_step_is_not_reversed_its_status_machine_corrects_it() -> None:
    state = trading_world()
    accept(state, SetReferenceRate(key="r-usd", code="USD", byn_per_unit="3.2000", effective_on=date(2026, 1, 1)))
    accept(state, settle(amount="10"))
    not_reversible(
        state,
        reverse("init-s1"),
        "transaction 'init-s1' (initiate_settlement) is not reversed by postings: "
        "a settlement's steps are corrected by its own status machine",
    )


def test_a_redemption_is_not_reversed_once_the_licence_was_revoked_naming_issuer_and_token(state: LedgerState) -> None:
    accept(state, RedeemTokens(key="redeem", issuer_id="svislach", asset="SVT", client_id="alesia", amount="1.00"))
    accept(state, RevokeIssuerLicence(key="revoke", issuer_id="svislach", reason="HTP decision"))
    event = assert_recorded_rejection(state, reverse("redeem"), "ISSUER_LICENCE_REVOKED")
    assert event.reason == (
        "issuer 'svislach' had its licence revoked: it issues no more SVT (redemption is still allowed)"
    )
