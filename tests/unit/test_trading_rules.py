"""Trades, and the rule that residents trade only on listed domestic venues.

After every rejection the balances are unchanged and a `CommandRejected`
event names the rule, the client and the venue.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.commands import (
    BlacklistAddress,
    DelistVenue,
    Deposit,
    ExecuteTrade,
    FundTreasury,
    ListVenue,
    SetTradingPolicy,
    SetVolumeCap,
    Withdraw,
)
from domain.errors import (
    AlreadyExists,
    AmountTooPrecise,
    SameAssetOnBothSides,
    SameClientOnBothSides,
    TradeWithoutClient,
    UnknownAsset,
    UnknownVenue,
)
from domain.events import TradeExecuted
from domain.parties import VenueKind
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import LEDGER_TIME, accept, assert_moves, reject, trading_world

ALESIA, NORD, JAN, IVAN = "client:alesia", "client:nord", "client:jan", "client:ivan"
FEES, TREASURY, EXTERNAL = "system:fees", "system:treasury", "system:external"


@pytest.fixture
def state() -> LedgerState:
    return trading_world()


def trade(
    venue: str | None = "minsk-htp",
    buyer: str | None = "alesia",
    seller: str | None = "nord",
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


def test_a_trade_on_a_domestic_venue_delivers_against_payment_with_a_fee(state: LedgerState) -> None:
    moves = {
        (ALESIA, "USDT"): 10_000_000,
        (ALESIA, "BYN"): -3300 - 50,
        (NORD, "USDT"): -10_000_000,
        (NORD, "BYN"): 3300,
        (FEES, "BYN"): 50,
    }
    (event,) = assert_moves(state, trade(fee="0.50"), moves)
    assert isinstance(event, TradeExecuted)
    assert (event.base_amount_minor, event.quote_amount_minor, event.fee_minor) == (10_000_000, 3300, 50)
    assert state.balance(ALESIA, "BYN") == 10000 - 3300 - 50


@pytest.mark.parametrize("fee", ["0", "0.00"])
def test_a_trade_without_a_fee_charges_nothing_into_the_fees_account(state: LedgerState, fee: str) -> None:
    moves = {(ALESIA, "USDT"): 10_000_000, (ALESIA, "BYN"): -3300, (NORD, "USDT"): -10_000_000, (NORD, "BYN"): 3300}
    (event,) = assert_moves(state, trade(fee=fee), moves)
    assert isinstance(event, TradeExecuted)
    assert event.fee_minor == 0
    assert state.balance(FEES, "BYN") == 0


def test_a_fee_of_one_minor_unit_is_charged_to_the_buyer(state: LedgerState) -> None:
    moves = {
        (ALESIA, "USDT"): 10_000_000,
        (ALESIA, "BYN"): -3301,
        (NORD, "USDT"): -10_000_000,
        (NORD, "BYN"): 3300,
        (FEES, "BYN"): 1,
    }
    assert_moves(state, trade(fee="0.01"), moves)


def test_a_seller_alone_pays_the_fee_from_what_it_receives(state: LedgerState) -> None:
    moves = {(NORD, "USDT"): -10_000_000, (NORD, "BYN"): 3300 - 100, (EXTERNAL, "USDT"): 10_000_000}
    moves |= {(EXTERNAL, "BYN"): -3300, (FEES, "BYN"): 100}
    assert_moves(state, trade(buyer=None, fee="1.00"), moves)


def test_a_venue_trade_books_the_far_side_to_external_not_the_treasury(state: LedgerState) -> None:
    moves = {(ALESIA, "USDT"): 10_000_000, (ALESIA, "BYN"): -3300}
    moves |= {(EXTERNAL, "USDT"): -10_000_000, (EXTERNAL, "BYN"): 3300}
    assert_moves(state, trade(seller=None), moves)
    assert state.balance(TREASURY, "USDT") == state.balance(TREASURY, "BYN") == 0


def test_a_resident_individual_cannot_trade_on_a_foreign_venue(state: LedgerState) -> None:
    event = assert_recorded_rejection(state, trade(venue="offshore"), "FOREIGN_VENUE_FORBIDDEN")
    assert (event.client_id, event.venue_id) == ("alesia", "offshore")


def test_a_resident_self_employed_client_cannot_trade_on_a_foreign_venue(state: LedgerState) -> None:
    command = trade(venue="offshore", buyer=None, seller="ivan")
    event = assert_recorded_rejection(state, command, "FOREIGN_VENUE_FORBIDDEN")
    assert event.client_id == "ivan"


def test_a_non_resident_may_trade_on_a_foreign_venue_by_default(state: LedgerState) -> None:
    moves = {(JAN, "USDT"): -10_000_000, (JAN, "BYN"): 3300, (EXTERNAL, "USDT"): 10_000_000, (EXTERNAL, "BYN"): -3300}
    assert_moves(state, trade(venue="offshore", buyer=None, seller="jan"), moves)
    assert state.balance(JAN, "USDT") == 990_000_000


def test_a_resident_company_may_not_trade_on_a_foreign_venue_by_default(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(venue="offshore", buyer=None, seller="nord"), "FOREIGN_VENUE_FORBIDDEN")


def test_the_policy_can_let_resident_companies_and_bar_non_residents(state: LedgerState) -> None:
    accept(
        state,
        SetTradingPolicy(key="p", non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=True),
    )
    moves = {(NORD, "USDT"): -10_000_000, (NORD, "BYN"): 3300, (EXTERNAL, "USDT"): 10_000_000}
    assert_moves(
        state, trade(venue="offshore", buyer=None, seller="nord", key="t1"), moves | {(EXTERNAL, "BYN"): -3300}
    )
    reject(state, trade(venue="offshore", buyer=None, seller="jan", key="t2"), "FOREIGN_VENUE_FORBIDDEN")


def test_no_policy_lets_a_resident_individual_trade_abroad(state: LedgerState) -> None:
    accept(
        state,
        SetTradingPolicy(key="p", non_residents_on_foreign_venues=True, resident_companies_on_foreign_venues=True),
    )
    assert_recorded_rejection(state, trade(venue="offshore"), "FOREIGN_VENUE_FORBIDDEN")


def test_a_resident_may_trade_with_the_bank_itself(state: LedgerState) -> None:
    accept(state, FundTreasury(key="treasury", asset="USDT", amount="10", reference="bank capital"))
    moves = {(ALESIA, "USDT"): 10_000_000, (ALESIA, "BYN"): -3300, (TREASURY, "USDT"): -10_000_000}
    assert_moves(state, trade(venue=None, seller=None), moves | {(TREASURY, "BYN"): 3300})
    assert state.balance(TREASURY, "USDT") == 0


def test_a_delisted_venue_refuses_every_trade(state: LedgerState) -> None:
    accept(state, DelistVenue(key="d", venue_id="minsk-htp", reason="licence withdrawn"))
    assert_recorded_rejection(state, trade(), "VENUE_NOT_LISTED")


def test_a_delisted_venue_can_be_listed_again(state: LedgerState) -> None:
    accept(state, DelistVenue(key="d", venue_id="grodno-x", reason="review"))
    reject(state, trade(venue="grodno-x", key="t0"), "VENUE_NOT_LISTED")
    accept(
        state,
        ListVenue(
            key="l",
            venue_id="grodno-x",
            name="Grodno",
            kind=VenueKind.HTP_EXCHANGE_OPERATOR,
            assets=["BYN", "USDT"],
        ),
    )
    moves = {(ALESIA, "USDT"): 10_000_000, (ALESIA, "BYN"): -3300, (NORD, "USDT"): -10_000_000, (NORD, "BYN"): 3300}
    assert_moves(state, trade(venue="grodno-x"), moves)
    assert state.venues["grodno-x"].listed


def test_an_asset_the_venue_does_not_list_is_refused(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(venue="grodno-x", base="SVT", base_amount="1"), "ASSET_NOT_LISTED_ON_VENUE")


def test_both_sides_need_verified_kyc(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(buyer="pending"), "KYC_NOT_VERIFIED")


def test_the_seller_must_hold_the_base_and_the_buyer_the_quote_and_fee(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(base_amount="1000.000001"), "INSUFFICIENT_FUNDS")
    assert_recorded_rejection(state, trade(quote_amount="99.60", fee="0.41", key="t2"), "INSUFFICIENT_FUNDS")


def test_a_client_daily_cap_counts_both_sides_and_resets_the_next_day(state: LedgerState) -> None:
    accept(state, SetVolumeCap(key="cap", client_id="nord", asset="BYN", daily_cap="50.00"))
    accept(state, trade(quote_amount="30.00", key="t1"))  # nord sells
    event = reject(state, trade(quote_amount="20.01", key="t2"), "CLIENT_VOLUME_CAP_EXCEEDED")
    assert event.details == {
        "client": "nord",
        "asset": "BYN",
        "day": "2026-02-02",
        "requested": "20.01",
        "cap": "50.00",
        "used": "30.00",
    }
    # nord on the buying side counts as much.
    reject(state, trade(buyer="nord", seller="jan", quote_amount="20.01", key="t3"), "CLIENT_VOLUME_CAP_EXCEEDED")
    tomorrow = LEDGER_TIME + timedelta(days=1)
    accept(state, trade(quote_amount="20.01", key="t4").model_copy(update={"ledger_time": tomorrow}))
    assert state.volume("nord", "BYN", "2026-02-03") == 2001
    assert state.volume("nord", "BYN", "2026-02-02") == 3000


def test_a_trade_bringing_the_day_exactly_to_the_client_cap_is_accepted(state: LedgerState) -> None:
    accept(state, SetVolumeCap(key="cap", client_id="nord", asset="BYN", daily_cap="50.00"))
    accept(state, trade(quote_amount="30.00", key="t1"))
    accept(state, trade(quote_amount="20.00", key="t2"))
    event = reject(state, trade(quote_amount="0.01", key="t3"), "CLIENT_VOLUME_CAP_EXCEEDED")
    assert (event.details["used"], event.details["requested"]) == ("50.00", "0.01")


def test_the_buyers_side_counts_towards_the_buyers_cap(state: LedgerState) -> None:
    accept(state, SetVolumeCap(key="cap", client_id="alesia", asset="BYN", daily_cap="40.00"))
    accept(state, trade(quote_amount="30.00", key="t1"))  # alesia buys
    event = reject(state, trade(quote_amount="10.01", key="t2"), "CLIENT_VOLUME_CAP_EXCEEDED")
    assert (event.details["client"], event.details["used"]) == ("alesia", "30.00")
    assert state.volume("alesia", "BYN", "2026-02-02") == state.volume("nord", "BYN", "2026-02-02") == 3000


def test_a_cap_in_one_asset_does_not_limit_trades_quoted_in_another(state: LedgerState) -> None:
    accept(state, SetVolumeCap(key="cap", client_id="nord", asset="USDT", daily_cap="1"))
    accept(state, trade(quote_amount="30.00", key="t1"))
    assert state.volume("nord", "USDT", "2026-02-02") == 0


def test_the_bank_daily_cap_counts_every_trade(state: LedgerState) -> None:
    accept(state, SetVolumeCap(key="cap", asset="BYN", daily_cap="40.00"))
    accept(state, trade(quote_amount="30.00", key="t1"))
    event = reject(state, trade(quote_amount="10.01", buyer="nord", seller="jan", key="t2"), "BANK_VOLUME_CAP_EXCEEDED")
    assert event.details == {"asset": "BYN", "day": "2026-02-02", "requested": "10.01", "cap": "40.00", "used": "30.00"}
    accept(state, trade(quote_amount="10.00", buyer="nord", seller="jan", key="t3"))  # exactly at the cap
    assert state.volume("", "BYN", "2026-02-02") == 4000
    tomorrow = LEDGER_TIME + timedelta(days=1)
    accept(state, trade(quote_amount="40.00", key="t4").model_copy(update={"ledger_time": tomorrow}))


def test_a_blacklisted_address_is_refused_from_the_day_after_listing(state: LedgerState) -> None:
    address = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
    listed_on = LEDGER_TIME.date()
    accept(state, BlacklistAddress(key="b", address=address, listed_on=listed_on, reason="sanctions list 12"))
    # On the day of listing itself the address still passes.
    deposit = Deposit(key="d1", client_id="nord", asset="USDT", amount="1", reference="r", wallet_address=address)
    assert_moves(state, deposit, {("client:nord", "USDT"): 1_000_000, ("system:external", "USDT"): -1_000_000})
    next_day = LEDGER_TIME + timedelta(days=1)
    late = Withdraw(key="w1", client_id="nord", asset="USDT", amount="1", reference="r", wallet_address=address)
    event = reject(state, late.model_copy(update={"ledger_time": next_day}), "BLACKLISTED_ADDRESS")
    assert event.details == {"address": address, "effective": "2026-02-03"}
    assert date.fromisoformat(event.details["effective"]) > listed_on


def test_a_deposit_from_a_blacklisted_address_is_refused_and_one_from_a_clean_wallet_accepted(
    state: LedgerState,
) -> None:
    address = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
    clean = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"
    listed_on = (LEDGER_TIME - timedelta(days=1)).date()
    accept(state, BlacklistAddress(key="b", address=address, listed_on=listed_on, reason="sanctions list 12"))
    refused = Deposit(key="d1", client_id="nord", asset="USDT", amount="1", reference="r", wallet_address=address)
    event = reject(state, refused, "BLACKLISTED_ADDRESS")
    assert event.details == {"address": address, "effective": LEDGER_TIME.date().isoformat()}
    moves = {("client:nord", "USDT"): 2_000_000, ("system:external", "USDT"): -2_000_000}
    assert_moves(state, refused.model_copy(update={"key": "d2", "wallet_address": clean, "amount": "2"}), moves)
    funding = FundTreasury(key="f1", asset="USDT", amount="1", reference="r", wallet_address=address)
    reject(state, funding, "BLACKLISTED_ADDRESS")


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        (trade(venue="nowhere"), UnknownVenue, "nowhere"),
        (trade(buyer=None, seller=None), TradeWithoutClient, "at least one side"),
        (trade(buyer="nord"), SameClientOnBothSides, "both 'nord'"),
        (trade(quote="USDT", quote_amount="1"), SameAssetOnBothSides, "both USDT"),
        (trade(fee="0.001"), AmountTooPrecise, "BYN has 2 decimal places, 3 given"),
        (
            ListVenue(key="v", venue_id="minsk-htp", name="M", kind=VenueKind.HTP_PLATFORM, assets=["BYN"]),
            AlreadyExists,
            "listed venue",
        ),
        (
            ListVenue(key="v", venue_id="new", name="N", kind=VenueKind.HTP_PLATFORM, assets=["EUR"]),
            UnknownAsset,
            "unknown asset 'EUR'",
        ),
    ],
)
def test_malformed_trades_and_listings_are_refused_outright(
    state: LedgerState, command: ExecuteTrade | ListVenue, error: type[Exception], match: str
) -> None:
    assert_refused(state, command, error, match)
