"""Supply and inventory: no command moves a token nobody holds, and the bank's treasury sells only what it holds.

A trade with the bank takes the bank's side from `system:treasury`, which is
funded (`fund_treasury`, or what it buys from clients) and never goes below
zero; a venue's outside counterparty never delivers or receives a token, so
that a token's supply is always what clients and the bank hold.
"""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.commands import (
    Deposit,
    ExecuteTrade,
    FundTreasury,
    InitiateSettlement,
    IssueTokens,
    RegisterIssuer,
    RevokeIssuerLicence,
    Withdraw,
)
from domain.crossborder import Direction, PartyInfo
from domain.errors import AlreadyExists, LicenceNotRevocable, TokenOutsideIssuance
from domain.events import TreasuryFunded
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import accept, apply, assert_moves, built_world, trading_world

TREASURY = "system:treasury"


@pytest.fixture
def state() -> LedgerState:
    return trading_world()


def trade(
    venue: str | None = None,
    buyer: str | None = "alesia",
    seller: str | None = None,
    base: str = "USDT",
    base_amount: str = "10",
    quote: str = "BYN",
    quote_amount: str = "33.00",
    fee: str = "0",
    key: str = "trade",
) -> ExecuteTrade:
    return ExecuteTrade(
        key=key,
        venue_id=venue,
        buyer_client_id=buyer,
        seller_client_id=seller,
        base_asset=base,
        base_amount=base_amount,
        quote_asset=quote,
        quote_amount=quote_amount,
        fee=fee,
    )


def fund(asset: str, amount: str, key: str = "fund-treasury") -> FundTreasury:
    return FundTreasury(key=key, asset=asset, amount=amount, reference="bank capital")


def assert_supply_is_held(state: LedgerState) -> None:
    for code in ("SVT", "BRZ"):
        assert state.supply(code) == state.holdings(code)
    for (account, asset), amount in state.balances.items():
        if account.startswith("client:") or account == TREASURY:
            assert amount >= 0, (account, asset, amount)


def test_the_bank_does_not_sell_crypto_its_treasury_does_not_hold(state: LedgerState) -> None:
    rejection = assert_recorded_rejection(state, trade(), "INSUFFICIENT_FUNDS")
    assert rejection.details["account"] == TREASURY
    assert rejection.details["asset"] == "USDT"
    assert state.balance(TREASURY, "USDT") == 0


def test_the_bank_does_not_sell_tokens_nobody_holds(state: LedgerState) -> None:
    rejection = assert_recorded_rejection(
        state, trade(base="SVT", base_amount="50.00", quote_amount="5.00"), "INSUFFICIENT_FUNDS"
    )
    assert rejection.details["account"] == TREASURY
    assert state.balance(TREASURY, "SVT") == 0
    assert_supply_is_held(state)


def test_the_bank_does_not_pay_with_money_its_treasury_does_not_hold(state: LedgerState) -> None:
    sale = trade(buyer=None, seller="nord", base_amount="10", quote_amount="32.50")
    rejection = assert_recorded_rejection(state, sale, "INSUFFICIENT_FUNDS")
    assert (rejection.details["account"], rejection.details["asset"]) == (TREASURY, "BYN")


def test_a_funded_treasury_sells_what_it_holds_and_no_more(state: LedgerState) -> None:
    outcome = apply(state, fund("USDT", "15"))
    assert isinstance(outcome.events[0], TreasuryFunded)
    assert state.balance(TREASURY, "USDT") == 15_000_000
    assert state.balance("system:external", "USDT") == -3_015_000_000
    accept(state, Deposit(key="alesia-byn", client_id="alesia", asset="BYN", amount="100", reference="in"))
    moves = {("client:alesia", "USDT"): 10_000_000, ("client:alesia", "BYN"): -3300}
    assert_moves(state, trade(), moves | {(TREASURY, "USDT"): -10_000_000, (TREASURY, "BYN"): 3300})
    assert state.balance(TREASURY, "USDT") == 5_000_000
    assert state.balance(TREASURY, "BYN") == 3300
    assert_recorded_rejection(state, trade(key="again"), "INSUFFICIENT_FUNDS")
    assert state.balance(TREASURY, "USDT") == 5_000_000


def test_tokens_the_bank_buys_from_a_client_are_held_by_its_treasury_and_sold_on(state: LedgerState) -> None:
    accept(state, fund("BYN", "100.00"))
    purchase = trade(buyer=None, seller="alesia", base="SVT", base_amount="40.00", quote_amount="20.00")
    moves = {("client:alesia", "SVT"): -4000, ("client:alesia", "BYN"): 2000}
    assert_moves(state, purchase, moves | {(TREASURY, "SVT"): 4000, (TREASURY, "BYN"): -2000})
    assert state.balance(TREASURY, "SVT") == 4000
    assert state.holdings("SVT") == state.supply("SVT") == 30000
    accept(state, Deposit(key="nord-byn", client_id="nord", asset="BYN", amount="100", reference="in"))
    resale = trade(buyer="nord", base="SVT", base_amount="40.00", quote_amount="21.00", key="resale")
    moves = {("client:nord", "SVT"): 4000, ("client:nord", "BYN"): -2100}
    assert_moves(state, resale, moves | {(TREASURY, "SVT"): -4000, (TREASURY, "BYN"): 2100})
    assert state.balance(TREASURY, "SVT") == 0
    assert state.balance("client:nord", "SVT") == 4000
    assert_recorded_rejection(
        state,
        trade(buyer="nord", base="SVT", base_amount="0.01", quote_amount="1.00", key="more"),
        "INSUFFICIENT_FUNDS",
    )
    assert_supply_is_held(state)


def test_a_venues_outside_counterparty_delivers_no_token(state: LedgerState) -> None:
    purchase = trade(venue="minsk-htp", base="SVT", base_amount="50.00", quote_amount="5.00")
    rejection = assert_recorded_rejection(state, purchase, "TOKEN_OUTSIDE_LEDGER")
    assert rejection.details == {"asset": "SVT", "venue": "minsk-htp", "side": "deliver", "amount": "50.00"}
    assert state.balance("system:external", "SVT") == 0
    assert_supply_is_held(state)


def test_a_venues_outside_counterparty_receives_no_token(state: LedgerState) -> None:
    sale = trade(venue="minsk-htp", buyer=None, seller="alesia", base="SVT", base_amount="50.00", quote_amount="5.00")
    rejection = assert_recorded_rejection(state, sale, "TOKEN_OUTSIDE_LEDGER")
    assert rejection.details["side"] == "receive"
    assert_supply_is_held(state)


def test_a_token_paid_as_the_quote_stays_on_the_ledger_too(state: LedgerState) -> None:
    purchase = trade(venue="minsk-htp", buyer="alesia", base="USDT", base_amount="1", quote="SVT", quote_amount="5.00")
    rejection = assert_recorded_rejection(state, purchase, "TOKEN_OUTSIDE_LEDGER")
    assert (rejection.details["asset"], rejection.details["side"]) == ("SVT", "receive")


def test_a_token_fee_is_held_by_the_bank(state: LedgerState) -> None:
    purchase = trade(
        venue="minsk-htp", buyer="alesia", seller="nord", base="USDT", base_amount="1", quote="SVT", quote_amount="5.00"
    )
    moves = {("client:alesia", "USDT"): 1_000_000, ("client:alesia", "SVT"): -550}
    moves |= {("client:nord", "USDT"): -1_000_000, ("client:nord", "SVT"): 500, ("system:fees", "SVT"): 50}
    assert_moves(state, purchase.model_copy(update={"fee": "0.50"}), moves)
    assert state.balance("system:fees", "SVT") == 50
    assert_supply_is_held(state)


def test_tokens_between_two_clients_on_a_venue_still_trade(state: LedgerState) -> None:
    accept(state, Deposit(key="nord-byn", client_id="nord", asset="BYN", amount="100", reference="in"))
    swap = trade(venue="minsk-htp", buyer="nord", seller="alesia", base="SVT", base_amount="5.00")
    moves = {("client:nord", "SVT"): 500, ("client:nord", "BYN"): -3300}
    assert_moves(state, swap, moves | {("client:alesia", "SVT"): -500, ("client:alesia", "BYN"): 3300})
    assert state.balance("client:nord", "SVT") == 500
    assert_supply_is_held(state)


def test_the_treasury_is_not_funded_with_tokens(state: LedgerState) -> None:
    assert_refused(state, fund("SVT", "10.00"), TokenOutsideIssuance)


def test_a_token_is_not_sent_abroad(state: LedgerState) -> None:
    party = PartyInfo(name="Acme GmbH", account="DE89", address="Hauptstr. 1", country="DE")
    settlement = InitiateSettlement(
        key="abroad",
        settlement_id="S-1",
        client_id="alesia",
        direction=Direction.IMPORT,
        counterparty="Acme GmbH",
        country="DE",
        contract_reference="K-1",
        asset="SVT",
        amount="10.00",
        originator=PartyInfo(name="Alesia", account="client:alesia", customer_id="alesia", country="BY"),
        beneficiary=party,
    )
    assert_refused(state, settlement, TokenOutsideIssuance)


def test_issuance_beyond_the_cap_stays_refused_however_tokens_have_moved(state: LedgerState) -> None:
    accept(state, fund("BYN", "100.00"))
    accept(state, trade(buyer=None, seller="alesia", base="SVT", base_amount="300.00", quote_amount="30.00"))
    over = IssueTokens(key="over", issuer_id="svislach", asset="SVT", client_id="nord", amount="700.01")
    assert_recorded_rejection(state, over, "SUPPLY_CAP_EXCEEDED")
    assert_supply_is_held(state)


def test_withdrawals_still_never_take_tokens_out(state: LedgerState) -> None:
    assert_refused(
        state, Withdraw(key="w", client_id="alesia", asset="SVT", amount="1.00", reference="out"), TokenOutsideIssuance
    )


def test_registering_twice_and_revoking_an_unlicensed_issuer_are_refused_naming_what_and_why() -> None:
    state = built_world()
    cases = [
        (RegisterIssuer(key="i", issuer_id="svislach", name="S", licensed=True), AlreadyExists),
        (RevokeIssuerLicence(key="r", issuer_id="grey-mint", reason="x"), LicenceNotRevocable),
    ]
    contexts = []
    for command, error in cases:
        with pytest.raises(error) as refused:
            accept(state, command)
        assert type(refused.value) is error
        contexts.append(refused.value.context)
    assert contexts == [
        {"kind": "issuer", "key": "svislach"},
        {"issuer": "grey-mint", "status": "never licensed"},
    ]


def test_an_issuers_registration_and_revocation_are_on_its_pinned_stream() -> None:
    state = built_world()
    svislach = UUID(
        "08e41a95-10e5-5336-a8d6-e64861b76e9d"
    )  # stream_id("issuer", "svislach"), pinned in test_stream_ids
    assert state.version(svislach) == 1
    accept(state, RevokeIssuerLicence(key="r", issuer_id="svislach", reason="licence withdrawn"))
    assert state.version(svislach) == 2
    with pytest.raises(LicenceNotRevocable) as refused:
        accept(state, RevokeIssuerLicence(key="r2", issuer_id="svislach", reason="again"))
    assert refused.value.context == {"issuer": "svislach", "status": "revoked already"}
