"""The decision state: dated histories, snapshots that restore everything,
and batches that roll back exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest

from domain.commands import (
    BaseCommand,
    BlacklistAddress,
    BlockJurisdiction,
    Deposit,
    ExecuteTrade,
    FreezeClient,
    InitiateSettlement,
    RemoveFromBlacklist,
    ReverseTransaction,
    SetBackdatingWindow,
    SetComplianceSettings,
    SetReferenceRate,
    SetSandboxClock,
    SetTradingPolicy,
    SetVolumeCap,
    Transfer,
    VerifyWalletOwnership,
)
from domain.crossborder import Direction, PartyInfo
from domain.state import LedgerState, as_of, last_change, with_entry
from tests.world import LEDGER_TIME, accept, reject, trading_world

DAY = LEDGER_TIME.date()
WALLET = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"


def test_a_value_is_in_force_from_its_effective_moment_until_the_next() -> None:
    history = ((1, "a"), (3, "b"), (3, "c"), (7, "d"))
    assert [as_of(history, moment) for moment in (0, 1, 2, 3, 6, 7, 100)] == [None, "a", "a", "c", "c", "d", "d"]
    assert as_of((), 5) is None
    assert last_change(history) == 7
    assert last_change(()) is None


def test_a_new_entry_goes_after_those_of_the_same_moment_and_before_later_ones() -> None:
    history = ((1, "a"), (3, "b"), (7, "d"))
    assert with_entry(history, 3, "c") == ((1, "a"), (3, "b"), (3, "c"), (7, "d"))
    assert with_entry(history, 0, "z") == ((0, "z"), (1, "a"), (3, "b"), (7, "d"))
    assert with_entry(history, 9, "e") == ((1, "a"), (3, "b"), (7, "d"), (9, "e"))
    assert with_entry((), 2, "x") == ((2, "x"),)


def rich_world() -> LedgerState:
    """A world with something in every part of the state."""
    state = trading_world()
    commands: list[BaseCommand] = [
        SetReferenceRate(key="r-usd", code="USD", byn_per_unit="3.2", effective_on=DAY - timedelta(days=3)),
        SetReferenceRate(key="r-usdt", code="USDT", byn_per_unit="3.25", effective_on=DAY - timedelta(days=3)),
        SetReferenceRate(key="r-usdt-2", code="USDT", byn_per_unit="3.3", effective_on=DAY),
        SetVolumeCap(key="cap", client_id="nord", asset="BYN", daily_cap="500"),
        SetVolumeCap(key="cap-bank", asset="BYN", daily_cap="5000"),
        SetTradingPolicy(key="p", non_residents_on_foreign_venues=True, resident_companies_on_foreign_venues=True),
        BlacklistAddress(key="b", address=WALLET, listed_on=DAY - timedelta(days=2), reason="list 1"),
        RemoveFromBlacklist(key="rb", address=WALLET, removed_on=DAY + timedelta(days=5), reason="delisted"),
        BlockJurisdiction(key="j", country="KP", reason="FATF"),
        VerifyWalletOwnership(
            key="w",
            client_id="jan",
            wallet_address="0x52908400098527886E0F7030069857D2E4169EE7",
            method="other",
            reference="ticket 7",
        ),
        SetComplianceSettings(key="s", base_unit_byn="40", aml_window_hours=48),
        SetBackdatingWindow(key="bw", days=3),
        ExecuteTrade(
            key="t1",
            venue_id="minsk-htp",
            buyer_client_id="alesia",
            seller_client_id="nord",
            base_asset="USDT",
            base_amount="10",
            quote_asset="BYN",
            quote_amount="33.00",
            fee="0.10",
        ),
        Deposit(key="big", client_id="jan", asset="USDT", amount="30000", reference="r"),
        Transfer(key="tr", source_client_id="jan", target_client_id="ivan", asset="USDT", amount="5"),
        ReverseTransaction(key="rev", original_key="tr", reason="mistake", reference="ticket 1"),
        FreezeClient(key="fz", client_id="ivan", reason="review"),
        InitiateSettlement(
            key="init-s1",
            settlement_id="s1",
            client_id="nord",
            direction=Direction.EXPORT,
            counterparty="Baltic Wood GmbH",
            country="DE",
            contract_reference="EXP-1",
            asset="BYN",
            amount="10.00",
            originator=PartyInfo(name="Nord", account="client:nord", customer_id="C-1", country="BY"),
            beneficiary=PartyInfo(name="Baltic", account="DE89370400440532013000", address="Kiel", country="DE"),
        ),
        SetSandboxClock(key="clock", frozen_at=LEDGER_TIME + timedelta(hours=2)),
    ]
    for command in commands:
        accept(state, command)
    reject(
        state, Deposit(key="refused", client_id="pending", asset="BYN", amount="1", reference="r"), "KYC_NOT_VERIFIED"
    )
    return state


def test_a_restored_snapshot_is_the_same_state_in_every_part() -> None:
    state = rich_world()
    snapshot = state.snapshot()
    restored = LedgerState.restored(snapshot)
    assert restored.snapshot() == snapshot
    for part in (
        "counters",
        "issuers",
        "clients",
        "assets",
        "balances",
        "versions",
        "venues",
        "venue_history",
        "volume_caps",
        "volumes",
        "blacklist",
        "settlements",
        "rates",
        "blocked_countries",
        "reversals",
        "verified_wallets",
    ):
        assert getattr(restored, part) == getattr(state, part), part
        assert getattr(state, part), f"the rich world has nothing in {part}"
    assert restored.bank == state.bank
    assert restored.policy_history == state.policy_history
    assert restored.settings == state.settings
    assert restored.settings.base_unit_byn == 40
    assert restored.backdating_window == state.backdating_window == timedelta(days=3)
    clocks = ("sandbox_clock", "clock_high_water", "current_time")
    assert [getattr(restored, clock) for clock in clocks] == [getattr(state, clock) for clock in clocks]
    assert restored.sandbox_clock == LEDGER_TIME + timedelta(hours=2)
    assert {client: window.operations for client, window in restored.aml_windows.items()} == {
        client: window.operations for client, window in state.aml_windows.items() if window.operations
    }
    assert (restored.rejections, restored.aml_notifications) == (state.rejections, state.aml_notifications) == (1, 1)


def test_a_snapshot_of_an_empty_state_restores_an_empty_state() -> None:
    restored = LedgerState.restored(LedgerState().snapshot())
    assert restored.bank is None
    assert restored.balances == {}
    assert restored.current_time is None
    assert restored.backdating_window == timedelta(days=7)
    assert restored.policy == LedgerState().policy


def test_rolling_back_undoes_every_part_a_batch_changed() -> None:
    state = trading_world()
    before = state.snapshot()
    state.begin()
    for command in (
        SetReferenceRate(key="r-usdt", code="USDT", byn_per_unit="3.25", effective_on=DAY - timedelta(days=3)),
        SetVolumeCap(key="cap", client_id="nord", asset="BYN", daily_cap="500"),
        BlacklistAddress(key="b", address=WALLET, listed_on=DAY - timedelta(days=2), reason="list 1"),
        BlockJurisdiction(key="j", country="KP", reason="FATF"),
        SetComplianceSettings(key="s", base_unit_byn="40"),
        SetBackdatingWindow(key="bw", days=3),
        Deposit(key="big", client_id="jan", asset="USDT", amount="30000", reference="r"),
        SetSandboxClock(key="clock", frozen_at=LEDGER_TIME + timedelta(hours=2)),
    ):
        accept(state, command)
    assert state.in_batch
    state.rollback()
    assert not state.in_batch
    assert state.snapshot() == before
    assert "jan" not in state.aml_windows  # made in the batch, removed with it


def test_a_blacklisted_address_is_refused_from_the_day_after_listing_until_its_removal_day() -> None:
    state = rich_world()
    listed, removed = DAY - timedelta(days=2), DAY + timedelta(days=5)
    assert state.blacklisted(WALLET, listed) is None
    assert state.blacklisted(WALLET, listed + timedelta(days=1)) == listed + timedelta(days=1)
    assert state.blacklisted(WALLET, removed - timedelta(days=1)) == listed + timedelta(days=1)
    assert state.blacklisted(WALLET, removed) is None
    assert state.blacklisted("TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", DAY) is None
    assert state.listed_on(WALLET) is None  # removed (from a later day): no longer on the list
    fresh = trading_world()
    accept(fresh, BlacklistAddress(key="b", address=WALLET, listed_on=listed, reason="list 1"))
    assert fresh.listed_on(WALLET) == listed


def test_a_jurisdiction_is_blocked_from_its_ledger_time_on() -> None:
    state = rich_world()
    assert state.blocked("KP", LEDGER_TIME) == "FATF"
    assert state.blocked("KP", LEDGER_TIME - timedelta(seconds=1)) is None
    assert state.blocked_now("KP") == "FATF"
    assert state.blocked_now("DE") is None


def test_trades_and_reversals_count_into_the_daily_volumes_of_the_bank_and_each_side() -> None:
    state = rich_world()
    day = DAY.isoformat()
    assert (state.volume("", "BYN", day), state.volume("nord", "BYN", day), state.volume("alesia", "BYN", day)) == (
        3300,
        3300,
        3300,
    )
    assert state.volume("jan", "BYN", day) == 0
    assert state.volume("nord", "BYN", (DAY + timedelta(days=1)).isoformat()) == 0


def test_balances_supply_and_holdings_read_what_the_events_posted() -> None:
    state = rich_world()
    assert state.balance("client:alesia", "USDT") == 10_000_000
    assert state.balance("client:alesia", "BYN") == 10000 - 3300 - 10
    assert state.balance("system:fees", "BYN") == 10
    assert state.balance("client:nobody", "BYN") == 0
    assert state.supply("SVT") == 30000
    assert state.holdings("SVT") == 30000
    # alesia 66.90, nord 50 + 33 - 10 sent abroad, fees 0.10; in transit and external are not holdings.
    assert state.holdings("BYN") == 6690 + 7300 + 10
    assert state.balance("system:in_transit", "BYN") == 1000
    assert sorted(state.client_balances("alesia")) == [
        ("client:alesia", "BYN"),
        ("client:alesia", "SVT"),
        ("client:alesia", "USDT"),
    ]


def test_rates_are_read_as_of_the_day_and_byn_is_always_one() -> None:
    state = rich_world()
    assert state.rate("USDT", DAY - timedelta(days=1)) == Fraction(13, 4)
    assert state.rate("USDT", DAY) == Fraction(33, 10)
    assert state.rate("USDT", DAY - timedelta(days=4)) is None
    assert state.rate("BYN", date(1990, 1, 1)) == 1
    assert state.aml_value("USDT", 1_000_000, DAY) == 33 * 10**29
    assert state.aml_value("SVT", 100, DAY) is None


def test_the_ledger_day_is_the_banks_calendar_day() -> None:
    state = trading_world()  # a bank in Minsk, three hours ahead of UTC
    assert state.day(datetime(2026, 2, 2, 20, 59, tzinfo=UTC)) == date(2026, 2, 2)
    assert state.day(datetime(2026, 2, 2, 21, 0, tzinfo=UTC)) == date(2026, 2, 3)
    assert LedgerState().day(datetime(2026, 2, 2, 23, 59, tzinfo=UTC)) == date(2026, 2, 2)  # no bank yet: UTC


def test_the_policy_in_force_is_read_as_of_a_moment() -> None:
    state = rich_world()
    assert state.policy.resident_companies_on_foreign_venues
    assert state.policy_at(LEDGER_TIME).resident_companies_on_foreign_venues
    assert not state.policy_at(LEDGER_TIME - timedelta(seconds=1)).resident_companies_on_foreign_venues


def test_the_position_only_moves_forward() -> None:
    state = trading_world()
    state.advance_to(5)
    assert state.position == 5
    with pytest.raises(AssertionError):
        state.advance_to(5)


def test_a_reversed_trade_takes_its_amount_off_the_day_s_volumes_of_every_scope() -> None:
    state = rich_world()
    day = DAY.isoformat()
    accept(
        state,
        ExecuteTrade(
            key="t2",
            venue_id="minsk-htp",
            buyer_client_id=None,
            seller_client_id="jan",
            base_asset="USDT",
            base_amount="1",
            quote_asset="BYN",
            quote_amount="3.30",
        ).model_copy(update={"ledger_time": LEDGER_TIME + timedelta(hours=3)}),
    )
    assert (state.volume("", "BYN", day), state.volume("jan", "BYN", day)) == (3300 + 330, 330)
    reversal = ReverseTransaction(key="rev-t1", original_key="t1", reason="error", reference="ticket 2")
    accept(state, reversal.model_copy(update={"ledger_time": LEDGER_TIME + timedelta(hours=3)}))
    assert [state.volume(scope, "BYN", day) for scope in ("", "nord", "alesia", "jan")] == [330, 0, 0, 330]


def test_an_event_out_of_its_stream_s_order_is_not_applied() -> None:
    state = trading_world()
    (event,) = accept(state, SetVolumeCap(key="cap", asset="BYN", daily_cap="1"))
    with pytest.raises(AssertionError):
        state.evolve(event)  # version 1 again, where 2 is next
    assert state.version(event.originator_id) == 1


def test_postings_taking_a_client_below_zero_are_not_applied() -> None:
    state = trading_world()
    with pytest.raises(AssertionError):
        state.apply_postings([("client:alesia", "BYN", -10001), ("system:external", "BYN", 10001)])
    state.apply_postings(
        [("system:treasury", "BYN", -1), ("system:external", "BYN", 1)]
    )  # the treasury's floor is the deciders'
    assert state.balance("system:treasury", "BYN") == -1


def test_a_history_in_memory_knows_the_commands_it_was_given_and_no_others() -> None:
    state = trading_world()
    (original,) = state.history.events_of("fund-byn") or ()
    assert original.command_key == "fund-byn"
    assert state.history.events_of("no-such-key") is None
    assert LedgerState().history.events_of("fund-byn") is None


def test_the_latest_ledger_time_never_moves_back() -> None:
    state = trading_world()
    state.saw_time(LEDGER_TIME + timedelta(hours=1))
    state.saw_time(LEDGER_TIME)
    assert state.current_time == LEDGER_TIME + timedelta(hours=1)
