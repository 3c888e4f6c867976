"""The test clock on the write path: a frozen clock is the time of every command that gives none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from domain.commands import Deposit, ExecuteTrade, ListVenue, SetSandboxClock, SetVolumeCap
from domain.parties import VenueKind
from ledger import Ledger
from tests.world import funding_commands, setup_commands

FROZEN = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def trade(key: str) -> ExecuteTrade:
    return ExecuteTrade(
        key=key, venue_id="minsk", buyer_client_id="nord", seller_client_id="alesia", base_asset="SVT",
        base_amount="1.00", quote_asset="BYN", quote_amount="6.00",
    )  # fmt: skip


def test_a_frozen_clock_is_the_ledger_time_of_commands_that_give_none_even_after_reopening(
    open_ledger: Callable[..., Ledger],
) -> None:
    ledger = open_ledger()
    ledger.submit([*setup_commands(), *funding_commands(), SetSandboxClock(key="freeze", frozen_at=FROZEN)])
    ledger.close()
    reopened = open_ledger()
    (result,) = reopened.submit([Deposit(key="d", client_id="alesia", asset="BYN", amount="1.00", reference="r")])
    (entry,) = reopened.backend.notifications_after(result.notification_ids[0] - 1, 1)
    assert reopened.mapper.to_domain_event(entry).ledger_time == FROZEN


def test_advancing_the_clock_a_day_starts_the_daily_cap_again(open_ledger: Callable[..., Ledger]) -> None:
    ledger = open_ledger()
    ledger.submit(
        [
            *setup_commands(),
            *funding_commands(),
            Deposit(key="nord-byn", client_id="nord", asset="BYN", amount="100.00", reference="n"),
            ListVenue(key="venue", venue_id="minsk", name="Minsk", kind=VenueKind.HTP_PLATFORM, assets=["BYN", "SVT"]),
            SetVolumeCap(key="cap", client_id="nord", asset="BYN", daily_cap="10.00"),
            SetSandboxClock(key="freeze", frozen_at=FROZEN),
        ]
    )
    first, second = ledger.submit([trade("t1"), trade("t2")])
    assert first.accepted
    assert second.rule == "CLIENT_VOLUME_CAP_EXCEEDED"
    ledger.submit([SetSandboxClock(key="next-day", advance_seconds=int(timedelta(days=1).total_seconds()))])
    (third,) = ledger.submit([trade("t3")])
    assert third.accepted


def test_a_released_clock_never_runs_back_behind_where_it_was_frozen(open_ledger: Callable[..., Ledger]) -> None:
    ledger = open_ledger()
    ledger.submit([*setup_commands(), *funding_commands(), SetSandboxClock(key="freeze", frozen_at=FROZEN)])
    ledger.submit([SetSandboxClock(key="release", release=True)])
    (result,) = ledger.submit([Deposit(key="d", client_id="alesia", asset="BYN", amount="1.00", reference="r")])
    (entry,) = ledger.backend.notifications_after(result.notification_ids[0] - 1, 1)
    assert ledger.mapper.to_domain_event(entry).ledger_time >= FROZEN
