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
from domain.errors import AlreadyExists, InvalidCommand, UnknownVenue
from domain.events import TradeExecuted
from domain.parties import VenueKind
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import LEDGER_TIME, apply, trading_world


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
    (event,) = apply(state, trade(fee="0.50")).events
    assert isinstance(event, TradeExecuted)
    assert state.balance("client:alesia", "USDT") == 10_000_000
    assert state.balance("client:alesia", "BYN") == 10000 - 3300 - 50
    assert state.balance("client:nord", "USDT") == 990_000_000
    assert state.balance("client:nord", "BYN") == 5000 + 3300
    assert state.balance("system:fees", "BYN") == 50


def test_a_resident_individual_cannot_trade_on_a_foreign_venue(state: LedgerState) -> None:
    event = assert_recorded_rejection(state, trade(venue="offshore"), "FOREIGN_VENUE_FORBIDDEN")
    assert (event.client_id, event.venue_id) == ("alesia", "offshore")


def test_a_resident_self_employed_client_cannot_trade_on_a_foreign_venue(state: LedgerState) -> None:
    command = trade(venue="offshore", buyer=None, seller="ivan")
    event = assert_recorded_rejection(state, command, "FOREIGN_VENUE_FORBIDDEN")
    assert event.client_id == "ivan"


def test_a_non_resident_may_trade_on_a_foreign_venue_by_default(state: LedgerState) -> None:
    apply(state, trade(venue="offshore", buyer=None, seller="jan"))
    assert state.balance("client:jan", "USDT") == 990_000_000


def test_a_resident_company_may_not_trade_on_a_foreign_venue_by_default(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(venue="offshore", buyer=None, seller="nord"), "FOREIGN_VENUE_FORBIDDEN")


def test_the_policy_can_let_resident_companies_and_bar_non_residents(state: LedgerState) -> None:
    apply(
        state,
        SetTradingPolicy(key="p", non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=True),
    )
    apply(state, trade(venue="offshore", buyer=None, seller="nord", key="t1"))
    assert_recorded_rejection(
        state, trade(venue="offshore", buyer=None, seller="jan", key="t2"), "FOREIGN_VENUE_FORBIDDEN"
    )


def test_no_policy_lets_a_resident_individual_trade_abroad(state: LedgerState) -> None:
    apply(
        state,
        SetTradingPolicy(key="p", non_residents_on_foreign_venues=True, resident_companies_on_foreign_venues=True),
    )
    assert_recorded_rejection(state, trade(venue="offshore"), "FOREIGN_VENUE_FORBIDDEN")


def test_a_resident_may_trade_with_the_bank_itself(state: LedgerState) -> None:
    apply(state, FundTreasury(key="treasury", asset="USDT", amount="10", reference="bank capital"))
    apply(state, trade(venue=None, seller=None))
    assert state.balance("client:alesia", "USDT") == 10_000_000
    assert state.balance("system:treasury", "USDT") == 0


def test_a_delisted_venue_refuses_every_trade(state: LedgerState) -> None:
    apply(state, DelistVenue(key="d", venue_id="minsk-htp", reason="licence withdrawn"))
    assert_recorded_rejection(state, trade(), "VENUE_NOT_LISTED")


def test_a_delisted_venue_can_be_listed_again(state: LedgerState) -> None:
    apply(state, DelistVenue(key="d", venue_id="grodno-x", reason="review"))
    apply(
        state,
        ListVenue(
            key="l",
            venue_id="grodno-x",
            name="Grodno",
            kind=VenueKind.HTP_EXCHANGE_OPERATOR,
            assets=["BYN", "USDT"],
        ),
    )
    apply(state, trade(venue="grodno-x"))
    assert state.venues["grodno-x"].listed


def test_an_asset_the_venue_does_not_list_is_refused(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(venue="grodno-x", base="SVT", base_amount="1"), "ASSET_NOT_LISTED_ON_VENUE")


def test_both_sides_need_verified_kyc(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(buyer="pending"), "KYC_NOT_VERIFIED")


def test_the_seller_must_hold_the_base_and_the_buyer_the_quote_and_fee(state: LedgerState) -> None:
    assert_recorded_rejection(state, trade(base_amount="1000.000001"), "INSUFFICIENT_FUNDS")
    assert_recorded_rejection(state, trade(quote_amount="99.60", fee="0.41", key="t2"), "INSUFFICIENT_FUNDS")


def test_a_client_daily_cap_counts_both_sides_and_resets_the_next_day(state: LedgerState) -> None:
    apply(state, SetVolumeCap(key="cap", client_id="nord", asset="BYN", daily_cap="50.00"))
    apply(state, trade(quote_amount="30.00", key="t1"))
    event = assert_recorded_rejection(state, trade(quote_amount="20.01", key="t2"), "CLIENT_VOLUME_CAP_EXCEEDED")
    assert event.details["used"] == "30.00"
    tomorrow = LEDGER_TIME + timedelta(days=1)
    apply(state, trade(quote_amount="20.01", key="t3").model_copy(update={"ledger_time": tomorrow}))


def test_the_bank_daily_cap_counts_every_trade(state: LedgerState) -> None:
    apply(state, SetVolumeCap(key="cap", asset="BYN", daily_cap="40.00"))
    apply(state, trade(quote_amount="30.00", key="t1"))
    assert_recorded_rejection(
        state, trade(quote_amount="10.01", buyer="nord", seller="jan", key="t2"), "BANK_VOLUME_CAP_EXCEEDED"
    )


def test_a_blacklisted_address_is_refused_from_the_day_after_listing(state: LedgerState) -> None:
    address = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
    listed_on = LEDGER_TIME.date()
    apply(state, BlacklistAddress(key="b", address=address, listed_on=listed_on, reason="sanctions list 12"))
    # On the day of listing itself the address still passes.
    apply(
        state,
        Deposit(key="d1", client_id="nord", asset="USDT", amount="1", reference="r", wallet_address=address),
    )
    next_day = LEDGER_TIME + timedelta(days=1)
    late = Withdraw(key="w1", client_id="nord", asset="USDT", amount="1", reference="r", wallet_address=address)
    event = assert_recorded_rejection(state, late.model_copy(update={"ledger_time": next_day}), "BLACKLISTED_ADDRESS")
    assert event.details["effective"] == (listed_on + timedelta(days=1)).isoformat()
    assert date.fromisoformat(event.details["effective"]) > listed_on


@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        (trade(venue="nowhere"), UnknownVenue, "nowhere"),
        (trade(buyer=None, seller=None), InvalidCommand, "at least one side"),
        (trade(buyer="nord"), InvalidCommand, "both 'nord'"),
        (trade(quote="USDT", quote_amount="1"), InvalidCommand, "both USDT"),
        (trade(fee="0.001"), InvalidCommand, "2 decimal places"),
        (
            ListVenue(key="v", venue_id="minsk-htp", name="M", kind=VenueKind.HTP_PLATFORM, assets=["BYN"]),
            AlreadyExists,
            "listed venue",
        ),
        (
            ListVenue(key="v", venue_id="new", name="N", kind=VenueKind.HTP_PLATFORM, assets=["EUR"]),
            InvalidCommand,
            "EUR",
        ),
    ],
)
def test_malformed_trades_and_listings_are_refused_outright(
    state: LedgerState, command: ExecuteTrade | ListVenue, error: type[Exception], match: str
) -> None:
    assert_refused(state, command, error, match)
