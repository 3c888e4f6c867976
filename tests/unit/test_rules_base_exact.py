"""The deciders' shared helpers, exactly: the look-ups' refusals name what is
unknown, and the back-dating refusal names every time it judged by."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.commands import Deposit, IssueTokens, ReturnSettlementFunds, SetBackdatingWindow, Withdraw
from domain.errors import BackdatedBeyondWindow, UnknownClient, UnknownIssuer, UnknownSettlement
from domain.state import LedgerState
from tests.unit.test_rules import assert_refused
from tests.world import LEDGER_TIME, accept, trading_world


@pytest.fixture
def state() -> LedgerState:
    return trading_world()


def test_a_command_for_an_unknown_client_is_refused_naming_it(state: LedgerState) -> None:
    command = Deposit(key="d", client_id="ghost", asset="BYN", amount="1", reference="in")
    assert_refused(state, command, UnknownClient, r"^unknown client 'ghost'$")


def test_an_issuance_by_an_unknown_issuer_is_refused_naming_it(state: LedgerState) -> None:
    command = IssueTokens(key="i", issuer_id="ghost-mint", asset="SVT", client_id="alesia", amount="1")
    assert_refused(state, command, UnknownIssuer, r"^unknown issuer 'ghost-mint'$")


def test_a_return_to_an_unknown_settlement_is_refused_naming_it(state: LedgerState) -> None:
    command = ReturnSettlementFunds(key="r", settlement_id="s9", amount="1", reference="back")
    assert_refused(state, command, UnknownSettlement, r"^unknown settlement 's9'$")


def test_a_command_dated_beyond_the_window_is_refused_naming_its_date_the_ledger_s_time_and_the_earliest(
    state: LedgerState,
) -> None:
    command = Withdraw(
        key="late",
        client_id="nord",
        asset="BYN",
        amount="1",
        reference="out",
        ledger_time=LEDGER_TIME - timedelta(days=7, microseconds=1),
    )
    message = (
        r"^invalid command: dated 2026-01-26T08:59:59\.999999\+00:00, earlier than the ledger's current time "
        r"2026-02-02T09:00:00\+00:00 minus the back-dating window of 7 days "
        r"\(the earliest accepted is 2026-01-26T09:00:00\+00:00\)$"
    )
    assert_refused(state, command, BackdatedBeyondWindow, message)


def test_the_earliest_accepted_moves_with_the_window(state: LedgerState) -> None:
    accept(state, SetBackdatingWindow(key="w", days=2))
    command = Withdraw(
        key="late",
        client_id="nord",
        asset="BYN",
        amount="1",
        reference="out",
        ledger_time=LEDGER_TIME - timedelta(days=3),
    )
    message = (
        r"^invalid command: dated 2026-01-30T09:00:00\+00:00, earlier than the ledger's current time "
        r"2026-02-02T09:00:00\+00:00 minus the back-dating window of 2 days "
        r"\(the earliest accepted is 2026-01-31T09:00:00\+00:00\)$"
    )
    assert_refused(state, command, BackdatedBeyondWindow, message)
