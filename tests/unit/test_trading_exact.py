"""Trading, exactly: the refusals' whole messages, the streams its events are
stored in (a stored contract) and every field a trade's events carry."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain.commands import DelistVenue, ExecuteTrade, ListVenue, SetComplianceSettings, SetTradingPolicy
from domain.errors import AlreadyExists, ChangedBeforeLastChange, SameClientOnBothSides, VenueAlreadyDelisted
from domain.events import AmlNotificationRecorded, TradeExecuted, VenueDelisted, VenueListed
from domain.parties import VenueKind
from domain.state import LedgerState
from tests.unit.test_rules import assert_refused
from tests.world import LEDGER_TIME, accept, assert_moves, built_world, reject, trading_world

MINSK_VENUE_STREAM = UUID("c8dacf36-5344-59b8-85f6-656207fcc7af")  # stream_id("venue", "minsk-htp")


@pytest.fixture
def state() -> LedgerState:
    return trading_world()


def minsk_listing(key: str = "venue-minsk") -> ListVenue:
    return ListVenue(key=key, venue_id="minsk-htp", name="Minsk", kind=VenueKind.HTP_PLATFORM, assets=["BYN", "USDT"])


def trade(**fields: object) -> ExecuteTrade:
    values: dict[str, object] = {
        "key": "trade",
        "venue_id": "minsk-htp",
        "buyer_client_id": "alesia",
        "seller_client_id": "nord",
        "base_asset": "USDT",
        "base_amount": "10",
        "quote_asset": "BYN",
        "quote_amount": "33.00",
    }
    return ExecuteTrade.model_validate(values | fields)


def test_a_venue_s_listing_and_delisting_are_stored_in_the_venue_s_own_stream() -> None:
    state = built_world()
    (listed,) = accept(state, minsk_listing())
    assert isinstance(listed, VenueListed)
    assert (listed.originator_id, listed.originator_version) == (MINSK_VENUE_STREAM, 1)
    (delisted,) = accept(state, DelistVenue(key="d", venue_id="minsk-htp", reason="licence withdrawn"))
    assert isinstance(delisted, VenueDelisted)
    assert (delisted.originator_id, delisted.originator_version) == (MINSK_VENUE_STREAM, 2)
    assert (delisted.venue_id, delisted.reason) == ("minsk-htp", "licence withdrawn")


def test_listing_a_listed_venue_again_is_refused_naming_the_venue(state: LedgerState) -> None:
    assert_refused(state, minsk_listing("again"), AlreadyExists, r"^listed venue 'minsk-htp' already exists$")


def test_delisting_a_delisted_venue_again_is_refused_naming_the_venue(state: LedgerState) -> None:
    accept(state, DelistVenue(key="d1", venue_id="minsk-htp", reason="review"))
    again = DelistVenue(key="d2", venue_id="minsk-htp", reason="review")
    message = r"^invalid command: venue 'minsk-htp' is delisted already$"
    assert_refused(state, again, VenueAlreadyDelisted, message)


def test_a_relisting_dated_before_the_venue_s_delisting_is_refused_naming_the_venue(state: LedgerState) -> None:
    delisted_at = LEDGER_TIME + timedelta(hours=1)
    accept(state, DelistVenue(key="d", venue_id="minsk-htp", reason="review", ledger_time=delisted_at))
    early = minsk_listing("relist").model_copy(update={"ledger_time": LEDGER_TIME + timedelta(minutes=30)})
    message = (
        r"^invalid command: venue 'minsk-htp' last changed with effect from 2026-02-02T10:00:00\+00:00; "
        r"a change with effect from 2026-02-02T09:30:00\+00:00 would come before it$"
    )
    assert_refused(state, early, ChangedBeforeLastChange, message)
    (relisted,) = accept(state, minsk_listing("relist").model_copy(update={"ledger_time": delisted_at}))
    assert isinstance(relisted, VenueListed)
    assert relisted.originator_version == 3
    assert state.venues["minsk-htp"].listed


def test_a_policy_dated_before_the_last_policy_is_refused_naming_the_trading_policy(state: LedgerState) -> None:
    policy = SetTradingPolicy(
        key="p", non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=False
    )
    accept(state, policy.model_copy(update={"ledger_time": LEDGER_TIME + timedelta(hours=1)}))
    earlier = policy.model_copy(update={"key": "p2", "ledger_time": LEDGER_TIME + timedelta(minutes=59)})
    message = r"^invalid command: the trading policy last changed with effect from 2026-02-02T10:00:00\+00:00;"
    assert_refused(state, earlier, ChangedBeforeLastChange, message)


def test_one_client_on_both_sides_is_refused_naming_both_sides_and_the_client(state: LedgerState) -> None:
    command = trade(buyer_client_id="nord")
    assert_refused(state, command, SameClientOnBothSides, r"^invalid command: buyer and seller are both 'nord'$")


def test_a_trade_s_event_names_its_venue_and_both_clients(state: LedgerState) -> None:
    (event,) = accept(state, trade())
    assert isinstance(event, TradeExecuted)
    assert (event.venue_id, event.buyer_client_id, event.seller_client_id) == ("minsk-htp", "alesia", "nord")
    assert (event.base_asset, event.quote_asset) == ("USDT", "BYN")


def test_a_trade_s_aml_notice_names_the_trade_as_its_operation(state: LedgerState) -> None:
    # An individual's threshold of 1 base unit of 10 BYN: alesia's 33.00 BYN reach it, nord's company one not.
    accept(state, SetComplianceSettings(key="s", aml_individual_base_units="1", base_unit_byn="10"))
    trade_event, notice = accept(state, trade())
    assert isinstance(trade_event, TradeExecuted)
    assert isinstance(notice, AmlNotificationRecorded)
    assert (notice.client_id, notice.operation, notice.asset_code, notice.amount_minor) == (
        "alesia",
        "execute_trade",
        "BYN",
        3300,
    )
    assert (notice.value_byn, notice.threshold_byn, notice.operations) == ("33.00", "10.00", ("trade",))


def test_a_venues_outside_buyer_delivers_no_token_as_the_quote(state: LedgerState) -> None:
    sale = trade(buyer_client_id=None, quote_asset="SVT", quote_amount="5.00")
    rejection = reject(state, sale, "TOKEN_OUTSIDE_LEDGER")
    assert rejection.details == {"asset": "SVT", "venue": "minsk-htp", "side": "deliver", "amount": "5.00"}


def test_a_seller_alone_on_a_venue_is_paid_by_the_external_side(state: LedgerState) -> None:
    moves = {("client:nord", "USDT"): -10_000_000, ("client:nord", "BYN"): 3300}
    moves |= {("system:external", "USDT"): 10_000_000, ("system:external", "BYN"): -3300}
    assert_moves(state, trade(buyer_client_id=None), moves)
