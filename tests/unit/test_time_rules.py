"""Time: the bank's zone defines the ledger day; dated facts are judged as of
the command's ledger time; back-dating has a window, and a late command is marked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from eventsourcing.utils import get_topic

from domain.addresses import Network, example_address
from domain.calendar import day_start, ledger_day, zone_named
from domain.commands import (
    BaseCommand,
    BlacklistAddress,
    BlockJurisdiction,
    DelistVenue,
    EstablishBank,
    ExecuteTrade,
    InitiateSettlement,
    ListVenue,
    RemoveFromBlacklist,
    SetBackdatingWindow,
    SetReferenceRate,
    SetTradingPolicy,
    SetVolumeCap,
    UnblockJurisdiction,
    Withdraw,
)
from domain.crossborder import Direction
from domain.decide import Stamp, handle
from domain.errors import (
    AddressNotBlacklisted,
    AlreadyExists,
    BackdatedBeyondWindow,
    ChangedBeforeLastChange,
    JurisdictionNotBlocked,
    RemovalNotAfterListing,
    UnknownTimeZone,
)
from domain.events import BankEstablished, CommandRejected, TradeExecuted
from domain.parties import VenueKind
from domain.state import LedgerState, as_of, with_entry
from ledger.views import BANK_ESTABLISHED_TOPIC
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import LEDGER_TIME, accept, apply, funding_commands, setup_commands, trading_commands, trading_world

MINSK = zone_named("Europe/Minsk")
ADDRESS = example_address(Network.EVM, "time-rules")


def rated_world() -> LedgerState:
    """The trading world with the rates a crypto withdrawal is valued by (the travel rule, self-hosted wallets)."""
    state = trading_world()
    for code, rate in (("USDT", "3.2"), ("USD", "3.2"), ("EUR", "3.5")):
        accept(state, SetReferenceRate(key=f"rate-{code}", code=code, byn_per_unit=rate, effective_on=date(2026, 1, 1)))
    return state


@pytest.fixture
def state() -> LedgerState:
    return rated_world()


def at(command: BaseCommand, moment: datetime) -> BaseCommand:
    return command.model_copy(update={"ledger_time": moment})


def usdt_trade(key: str, quote_amount: str = "33.00", venue: str | None = "minsk-htp") -> ExecuteTrade:
    return ExecuteTrade(
        key=key,
        venue_id=venue,
        buyer_client_id="alesia",
        seller_client_id="jan",
        base_asset="USDT",
        base_amount="1",
        quote_asset="BYN",
        quote_amount=quote_amount,
    )


def world_in(time_zone: str) -> LedgerState:
    """The trading world of a bank in `time_zone`."""
    state = LedgerState()
    bank = EstablishBank(key="bank", name="Zubr", htp_resident=True, nbrb_register_entry="CB-1", time_zone=time_zone)
    accept(state, bank)
    for command in [*setup_commands()[1:], *funding_commands(), *trading_commands()]:
        assert apply(state, command).violation is None
    return state


# The ledger day.


def test_half_past_one_in_minsk_is_the_second_of_march_there_and_the_first_in_utc() -> None:
    moment = datetime(2026, 3, 2, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    assert ledger_day(moment, MINSK) == date(2026, 3, 2)
    assert ledger_day(moment, UTC) == date(2026, 3, 1)


def test_a_bank_is_in_minsk_unless_told_otherwise() -> None:
    state = LedgerState()
    accept(state, EstablishBank(key="bank", name="Zubr", htp_resident=True, nbrb_register_entry="CB-1"))
    assert state.bank is not None
    assert state.bank.time_zone == "Europe/Minsk"
    assert state.day(datetime(2026, 3, 1, 22, 30, tzinfo=UTC)) == date(2026, 3, 2)


def test_a_history_that_records_no_zone_keeps_utc_days() -> None:
    state = LedgerState()
    stored_before_zones = BankEstablished.model_validate_json(
        '{"originator_id":"6f1c4b2e-8d0a-5c39-9b7e-3a2d1f0e4c58","originator_version":1,'
        '"timestamp":"2026-01-01T00:00:00Z","ledger_time":"2026-01-01T00:00:00Z","command_key":"bank",'
        '"name":"Zubr","htp_resident":true,"nbrb_register_entry":"CB-1"}'
    )
    state.evolve(stored_before_zones)
    assert state.zone is UTC
    assert state.day(datetime(2026, 3, 1, 22, 30, tzinfo=UTC)) == date(2026, 3, 1)


def test_an_unknown_time_zone_is_refused_and_nothing_is_written() -> None:
    state = LedgerState()
    bank = EstablishBank(
        key="bank", name="Zubr", htp_resident=True, nbrb_register_entry="CB-1", time_zone="Mars/Olympus"
    )
    with pytest.raises(UnknownTimeZone, match="Mars/Olympus"):
        accept(state, bank)
    assert state.bank is None


def test_the_views_name_the_stored_topic_of_the_bank_s_establishment() -> None:
    assert get_topic(BankEstablished) == BANK_ESTABLISHED_TOPIC


def test_a_client_s_daily_cap_resets_at_minsk_midnight_not_utc_midnight() -> None:
    state = world_in("Europe/Minsk")
    accept(state, SetVolumeCap(key="cap", client_id="alesia", asset="BYN", daily_cap="40.00"))
    evening = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # 23:30 in Minsk
    after_minsk_midnight = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)  # 00:30 on 2 March in Minsk
    assert apply(state, at(usdt_trade("t1"), evening)).violation is None
    assert_recorded_rejection(
        state, at(usdt_trade("t2"), evening + timedelta(minutes=29)), "CLIENT_VOLUME_CAP_EXCEEDED"
    )
    assert apply(state, at(usdt_trade("t3"), after_minsk_midnight)).violation is None


def test_in_a_utc_bank_the_same_trades_fall_on_one_day() -> None:
    state = world_in("UTC")
    accept(state, SetVolumeCap(key="cap", client_id="alesia", asset="BYN", daily_cap="40.00"))
    assert apply(state, at(usdt_trade("t1"), datetime(2026, 3, 1, 20, 30, tzinfo=UTC))).violation is None
    event = assert_recorded_rejection(
        state, at(usdt_trade("t3"), datetime(2026, 3, 1, 21, 30, tzinfo=UTC)), "CLIENT_VOLUME_CAP_EXCEEDED"
    )
    assert event.details["day"] == "2026-03-01"


def with_usd_rate(state: LedgerState) -> LedgerState:
    """Settlements value their amount in USD for the travel rule."""
    accept(state, SetReferenceRate(key="usd", code="USD", byn_per_unit="3.2000", effective_on=date(2026, 1, 1)))
    return state


def test_a_settlement_deadline_counts_from_the_minsk_day(state: LedgerState) -> None:
    with_usd_rate(state)
    command = InitiateSettlement(
        key="s",
        settlement_id="S-1",
        client_id="nord",
        direction=Direction.IMPORT,
        counterparty="Acme GmbH",
        country="DE",
        contract_reference="K-1",
        asset="BYN",
        amount="1.00",
        deadline_days=1,
        ledger_time=datetime(2026, 3, 1, 21, 30, tzinfo=UTC),  # 2 March in Minsk
    )
    assert apply(state, command).violation is None
    assert state.settlements["S-1"].initiated_on == date(2026, 3, 2)
    assert state.settlements["S-1"].deadline == date(2026, 3, 3)


# Dated facts, as of the command's ledger time.


def test_a_trade_reported_late_from_before_a_delisting_is_accepted(state: LedgerState) -> None:
    delisted_at = LEDGER_TIME + timedelta(hours=2)
    accept(state, at(DelistVenue(key="delist", venue_id="minsk-htp", reason="licence withdrawn"), delisted_at))
    outcome = apply(state, at(usdt_trade("late"), delisted_at - timedelta(minutes=1)))
    assert outcome.violation is None
    assert isinstance(outcome.events[0], TradeExecuted)
    assert outcome.events[0].late_by_seconds == 60


def test_a_trade_dated_after_the_delisting_is_refused(state: LedgerState) -> None:
    delisted_at = LEDGER_TIME + timedelta(hours=2)
    accept(state, at(DelistVenue(key="delist", venue_id="minsk-htp", reason="licence withdrawn"), delisted_at))
    assert_recorded_rejection(state, at(usdt_trade("after"), delisted_at), "VENUE_NOT_LISTED")


def test_a_trade_dated_before_a_venue_was_first_listed_is_refused(state: LedgerState) -> None:
    listing = ListVenue(key="l", venue_id="brest", name="Brest", kind=VenueKind.HTP_PLATFORM, assets=["BYN", "USDT"])
    accept(state, at(listing, LEDGER_TIME + timedelta(hours=1)))
    assert_recorded_rejection(state, at(usdt_trade("early", venue="brest"), LEDGER_TIME), "VENUE_NOT_LISTED")


def test_a_trade_is_judged_by_the_trading_policy_of_its_ledger_time(state: LedgerState) -> None:
    changed_at = LEDGER_TIME + timedelta(hours=1)
    policy = SetTradingPolicy(key="p", non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=True)
    accept(state, at(policy, changed_at))
    before = ExecuteTrade(
        key="before",
        venue_id="offshore",
        seller_client_id="jan",
        base_asset="USDT",
        base_amount="1",
        quote_asset="BYN",
        quote_amount="3.00",
        ledger_time=changed_at - timedelta(seconds=1),
    )
    assert apply(state, before).violation is None
    after = before.model_copy(update={"key": "after", "ledger_time": changed_at})
    assert_recorded_rejection(state, after, "FOREIGN_VENUE_FORBIDDEN")


def withdrawal(key: str, moment: datetime) -> Withdraw:
    return Withdraw(
        key=key, client_id="nord", asset="USDT", amount="1", reference=key, wallet_address=ADDRESS, ledger_time=moment
    )


def noon(day: int) -> datetime:
    return datetime(2026, 3, day, 9, 0, tzinfo=UTC)


def blacklisted_world() -> LedgerState:
    """ADDRESS listed on 1 March (refused from 2 March), removed from 10 March;
    commands may be dated 30 days back."""
    state = rated_world()
    accept(state, SetBackdatingWindow(key="window", days=30))
    accept(state, at(BlacklistAddress(key="bl", address=ADDRESS, listed_on=date(2026, 3, 1), reason="OFAC"), noon(1)))
    removal = RemoveFromBlacklist(key="rm", address=ADDRESS, removed_on=date(2026, 3, 10), reason="delisted by OFAC")
    accept(state, at(removal, noon(10)))
    return state


def test_an_address_is_refused_from_the_day_after_its_listing_until_its_removal() -> None:
    state = blacklisted_world()
    assert apply(state, withdrawal("w1", noon(10))).violation is None
    assert apply(state, withdrawal("w0", noon(1))).violation is None
    assert_recorded_rejection(state, withdrawal("w2", noon(2)), "BLACKLISTED_ADDRESS")
    assert_recorded_rejection(state, withdrawal("w9", noon(9)), "BLACKLISTED_ADDRESS")


def test_the_last_day_of_a_listing_is_the_minsk_day_before_the_removal() -> None:
    state = blacklisted_world()
    minsk_evening_of_the_ninth = datetime(2026, 3, 9, 20, 59, tzinfo=UTC)  # 23:59 in Minsk
    assert_recorded_rejection(state, withdrawal("w", minsk_evening_of_the_ninth), "BLACKLISTED_ADDRESS")
    assert apply(state, withdrawal("w2", minsk_evening_of_the_ninth + timedelta(minutes=1))).violation is None


def test_an_address_listed_again_keeps_its_history() -> None:
    state = blacklisted_world()
    again = BlacklistAddress(key="bl2", address=ADDRESS, listed_on=date(2026, 3, 12), reason="relisted")
    accept(state, at(again, noon(12)))
    assert_recorded_rejection(state, withdrawal("w13", noon(13)), "BLACKLISTED_ADDRESS")
    assert apply(state, withdrawal("w11", noon(11))).violation is None
    assert_recorded_rejection(state, withdrawal("w9", noon(9)), "BLACKLISTED_ADDRESS")


def test_an_address_listed_now_is_not_listed_twice() -> None:
    state = rated_world()
    accept(state, BlacklistAddress(key="bl", address=ADDRESS, listed_on=date(2026, 3, 1), reason="OFAC"))
    assert_refused(
        state, BlacklistAddress(key="bl2", address=ADDRESS, listed_on=date(2026, 3, 2), reason="x"), AlreadyExists
    )


def test_an_address_not_on_the_blacklist_is_not_removed(state: LedgerState) -> None:
    removal = RemoveFromBlacklist(key="rm", address=ADDRESS, removed_on=date(2026, 3, 10), reason="x")
    assert_refused(state, removal, AddressNotBlacklisted)
    assert AddressNotBlacklisted.code == "ADDRESS_NOT_BLACKLISTED"


def test_a_removal_is_dated_after_the_listing(state: LedgerState) -> None:
    accept(state, BlacklistAddress(key="bl", address=ADDRESS, listed_on=date(2026, 3, 1), reason="OFAC"))
    on_the_day = RemoveFromBlacklist(key="rm", address=ADDRESS, removed_on=date(2026, 3, 1), reason="x")
    assert_refused(state, on_the_day, RemovalNotAfterListing)
    next_day = on_the_day.model_copy(update={"key": "rm2", "removed_on": date(2026, 3, 2)})
    assert apply(state, next_day).violation is None


def settlement(key: str, moment: datetime, country: str = "RU") -> InitiateSettlement:
    return InitiateSettlement(
        key=key,
        settlement_id=key,
        client_id="nord",
        direction=Direction.IMPORT,
        counterparty="Acme",
        country=country,
        contract_reference="K-1",
        asset="BYN",
        amount="1.00",
        ledger_time=moment,
    )


def test_a_jurisdiction_is_blocked_from_its_blocking_until_its_unblocking(state: LedgerState) -> None:
    with_usd_rate(state)
    blocked_at, unblocked_at = LEDGER_TIME + timedelta(hours=1), LEDGER_TIME + timedelta(hours=3)
    accept(state, at(BlockJurisdiction(key="b", country="RU", reason="sanctions"), blocked_at))
    accept(state, at(UnblockJurisdiction(key="u", country="RU", reason="lifted"), unblocked_at))
    assert apply(state, settlement("S-after", unblocked_at)).violation is None
    assert apply(state, settlement("S-before", blocked_at - timedelta(seconds=1))).violation is None
    assert_recorded_rejection(
        state, settlement("S-during", unblocked_at - timedelta(seconds=1)), "BLOCKED_JURISDICTION"
    )


def test_a_jurisdiction_not_blocked_is_not_unblocked(state: LedgerState) -> None:
    assert_refused(state, UnblockJurisdiction(key="u", country="RU", reason="x"), JurisdictionNotBlocked)
    accept(state, BlockJurisdiction(key="b", country="RU", reason="sanctions"))
    accept(state, UnblockJurisdiction(key="u", country="RU", reason="lifted"))
    assert_refused(state, UnblockJurisdiction(key="u2", country="RU", reason="x"), JurisdictionNotBlocked)
    assert apply(state, BlockJurisdiction(key="b2", country="RU", reason="again")).violation is None


# The back-dating window.


def cash_out(key: str, amount: str = "1") -> Withdraw:
    """A withdrawal: nothing dated about it but the window."""
    return Withdraw(key=key, client_id="nord", asset="BYN", amount=amount, reference=key)


def test_a_command_dated_exactly_the_window_back_is_accepted_and_marked_late(state: LedgerState) -> None:
    assert state.current_time == LEDGER_TIME
    outcome = apply(state, at(cash_out("late"), LEDGER_TIME - timedelta(days=7)))
    assert outcome.violation is None
    assert outcome.events[0].late_by_seconds == 7 * 24 * 3600


def test_a_command_dated_beyond_the_window_is_refused_naming_both_times(state: LedgerState) -> None:
    command = at(cash_out("too-late"), LEDGER_TIME - timedelta(days=7, microseconds=1))
    assert_refused(state, command, BackdatedBeyondWindow, match="2026-02-02T09:00:00\\+00:00.*7 days")
    assert BackdatedBeyondWindow.code == "BACKDATED_BEYOND_WINDOW"


def test_the_window_is_a_setting(state: LedgerState) -> None:
    accept(state, SetBackdatingWindow(key="w", days=1))
    assert_refused(state, at(cash_out("t"), LEDGER_TIME - timedelta(days=1, seconds=1)), BackdatedBeyondWindow)
    assert apply(state, at(cash_out("t2"), LEDGER_TIME - timedelta(days=1))).violation is None
    accept(state, SetBackdatingWindow(key="w0", days=0))
    assert_refused(state, at(cash_out("t3"), LEDGER_TIME - timedelta(microseconds=1)), BackdatedBeyondWindow)


def test_a_command_at_or_after_the_ledger_s_time_is_not_late(state: LedgerState) -> None:
    assert apply(state, at(usdt_trade("now"), LEDGER_TIME)).events[0].late_by_seconds is None
    assert apply(state, usdt_trade("undated")).events[0].late_by_seconds is None


def test_a_late_rejection_is_marked_late_too(state: LedgerState) -> None:
    accept(state, at(DelistVenue(key="delist", venue_id="minsk-htp", reason="x"), LEDGER_TIME + timedelta(hours=1)))
    event = assert_recorded_rejection(
        state, at(usdt_trade("t"), LEDGER_TIME + timedelta(minutes=90)), "VENUE_NOT_LISTED"
    )
    assert isinstance(event, CommandRejected)
    assert event.late_by_seconds is None
    late = assert_recorded_rejection(state, at(cash_out("w", "99999999"), LEDGER_TIME), "INSUFFICIENT_FUNDS")
    assert late.late_by_seconds == 90 * 60


def test_a_command_the_ledger_s_clock_dates_is_never_late(state: LedgerState) -> None:
    command = usdt_trade("clock")
    outcome = handle(state, command, Stamp(LEDGER_TIME, LEDGER_TIME - timedelta(days=30), command.key))
    assert outcome.events[0].late_by_seconds is None


# Histories and snapshots.


def test_a_history_is_read_as_of_a_moment_and_equal_times_keep_their_order() -> None:
    history = with_entry(with_entry(with_entry((), 5, "b"), 1, "a"), 5, "c")
    assert [as_of(history, moment) for moment in (0, 1, 4, 5, 9)] == [None, "a", "a", "c", "c"]


def test_a_snapshot_carries_every_history() -> None:
    state = blacklisted_world()
    accept(state, at(BlockJurisdiction(key="b", country="RU", reason="sanctions"), noon(11)))
    accept(state, at(UnblockJurisdiction(key="u", country="RU", reason="lifted"), noon(12)))
    accept(state, at(DelistVenue(key="d", venue_id="grodno-x", reason="x"), noon(12)))
    accept(
        state,
        at(
            SetTradingPolicy(
                key="p", non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=False
            ),
            noon(12),
        ),
    )
    accept(state, SetBackdatingWindow(key="w", days=3))
    restored = LedgerState.restored(state.snapshot())
    assert restored.snapshot() == state.snapshot()
    assert restored.blacklisted(ADDRESS, date(2026, 3, 5)) == date(2026, 3, 2)
    assert restored.blocked("RU", noon(11)) == "sanctions"
    assert restored.venue_at("grodno-x", noon(11)) is not None
    assert restored.current_time == state.current_time == noon(12)
    assert restored.backdating_window == timedelta(days=3)


def test_a_rolled_back_batch_leaves_the_histories_as_they_were() -> None:
    state = blacklisted_world()
    before = state.snapshot()
    state.begin()
    accept(state, at(BlacklistAddress(key="bl2", address=ADDRESS, listed_on=date(2026, 3, 12), reason="x"), noon(12)))
    accept(state, at(BlockJurisdiction(key="b", country="RU", reason="sanctions"), noon(12)))
    state.rollback()
    assert state.snapshot() == before


# A dated fact changes only after its latest change.


def test_a_delisting_dated_before_the_venue_s_last_listing_is_refused(state: LedgerState) -> None:
    delisting = at(DelistVenue(key="d", venue_id="minsk-htp", reason="x"), LEDGER_TIME - timedelta(minutes=1))
    assert_refused(state, delisting, ChangedBeforeLastChange, match="venue 'minsk-htp' last changed")
    assert ChangedBeforeLastChange.code == "CHANGED_BEFORE_LAST_CHANGE"


def test_a_policy_dated_before_the_last_policy_is_refused(state: LedgerState) -> None:
    policy = SetTradingPolicy(
        key="p", non_residents_on_foreign_venues=False, resident_companies_on_foreign_venues=False
    )
    accept(state, at(policy, LEDGER_TIME + timedelta(hours=1)))
    earlier = policy.model_copy(update={"key": "p2", "ledger_time": LEDGER_TIME + timedelta(minutes=59)})
    assert_refused(state, earlier, ChangedBeforeLastChange)


def test_an_address_listed_again_before_its_removal_took_effect_is_refused() -> None:
    state = blacklisted_world()
    again = BlacklistAddress(key="bl2", address=ADDRESS, listed_on=date(2026, 3, 8), reason="x")
    assert_refused(state, at(again, noon(10)), ChangedBeforeLastChange)
    on_the_day = again.model_copy(update={"key": "bl3", "listed_on": date(2026, 3, 9)})
    assert apply(state, at(on_the_day, noon(10))).violation is None


def test_an_unblocking_dated_before_the_blocking_is_refused(state: LedgerState) -> None:
    accept(state, at(BlockJurisdiction(key="b", country="RU", reason="sanctions"), LEDGER_TIME + timedelta(hours=1)))
    unblocking = at(UnblockJurisdiction(key="u", country="RU", reason="x"), LEDGER_TIME + timedelta(minutes=30))
    assert_refused(state, unblocking, ChangedBeforeLastChange)


def test_a_minsk_day_starts_at_nine_in_the_evening_utc_the_day_before() -> None:
    start = day_start(date(2026, 3, 2), zone_named("Europe/Minsk"))
    assert start == datetime(2026, 3, 1, 21, 0, tzinfo=UTC)
    assert start.tzinfo is UTC
    assert day_start(date(2026, 3, 2), UTC) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
