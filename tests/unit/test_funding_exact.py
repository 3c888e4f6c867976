"""Funding, exactly: the wallets its events keep, the streams they are stored
in (a stored contract), and the refusals' whole messages."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from domain.addresses import Network, example_address
from domain.commands import Deposit, FundTreasury, SetReferenceRate, Transfer, Withdraw
from domain.errors import SameClientOnBothSides, TokenOutsideIssuance
from domain.events import FundsDeposited, FundsTransferred, FundsWithdrawn, TreasuryFunded
from domain.state import LedgerState
from tests.unit.test_rules import assert_refused
from tests.world import accept, trading_world

WALLET = example_address(Network.EVM, "a client's own wallet")
DEPOSIT_STREAM = UUID("c5fdade4-524a-528d-9e15-a13499f08dec")  # command_stream("dep")
WITHDRAWAL_STREAM = UUID("bb298ecd-fc42-524d-9cd3-74878fa09f8a")  # command_stream("wd")
TREASURY_STREAM = UUID("794ecce9-5958-593a-b1eb-a046997a23bd")  # command_stream("fund")
TRANSFER_STREAM = UUID("c1568316-fdc1-5041-82cd-77cd4dd5879b")  # command_stream("move")


@pytest.fixture
def state() -> LedgerState:
    state = trading_world()
    for code in ("USD", "USDT", "EUR"):  # one USDT is one USD, and less than a euro
        accept(
            state, SetReferenceRate(key=f"rate-{code}", code=code, byn_per_unit="3.2", effective_on=date(2026, 2, 1))
        )
    return state


def test_a_deposit_keeps_the_wallet_it_came_from_on_its_command_s_stream(state: LedgerState) -> None:
    (event,) = accept(
        state, Deposit(key="dep", client_id="jan", asset="USDT", amount="5", reference="in", wallet_address=WALLET)
    )
    assert isinstance(event, FundsDeposited)
    assert (event.wallet_address, event.originator_id) == (WALLET, DEPOSIT_STREAM)


def test_a_withdrawal_keeps_the_wallet_it_went_to_on_its_command_s_stream(state: LedgerState) -> None:
    accept(state, Deposit(key="dep", client_id="jan", asset="USDT", amount="5", reference="in"))
    (event,) = accept(
        state, Withdraw(key="wd", client_id="jan", asset="USDT", amount="2", reference="out", wallet_address=WALLET)
    )
    assert isinstance(event, FundsWithdrawn)
    assert (event.wallet_address, event.originator_id) == (WALLET, WITHDRAWAL_STREAM)


def test_treasury_funding_keeps_the_wallet_it_came_from_on_its_command_s_stream(state: LedgerState) -> None:
    (event,) = accept(
        state, FundTreasury(key="fund", asset="USDT", amount="5", reference="capital", wallet_address=WALLET)
    )
    assert isinstance(event, TreasuryFunded)
    assert (event.wallet_address, event.originator_id) == (WALLET, TREASURY_STREAM)


def test_a_transfer_is_stored_on_its_command_s_stream(state: LedgerState) -> None:
    (event,) = accept(
        state, Transfer(key="move", source_client_id="alesia", target_client_id="jan", asset="BYN", amount="1")
    )
    assert isinstance(event, FundsTransferred)
    assert event.originator_id == TRANSFER_STREAM


def test_a_token_deposited_from_outside_is_refused_naming_it(state: LedgerState) -> None:
    message = (
        r"^invalid command: SVT is a token: tokens enter the ledger only by issuance "
        r"and leave it only by redemption$"
    )
    assert_refused(
        state, Deposit(key="d", client_id="jan", asset="SVT", amount="1", reference="in"), TokenOutsideIssuance, message
    )


def test_a_transfer_to_its_own_source_is_refused_naming_the_client(state: LedgerState) -> None:
    command = Transfer(key="t", source_client_id="alesia", target_client_id="alesia", asset="BYN", amount="1")
    message = r"^invalid command: source and target are both 'alesia'$"
    assert_refused(state, command, SameClientOnBothSides, message)
