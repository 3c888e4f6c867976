"""The dispatcher: a rule violation becomes one `CommandRejected` event that
records exactly the command, its stamp and the refusal; anything else refused
outright records nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.commands import Deposit, ExecuteTrade, RegisterAsset
from domain.decide import DECIDERS, Outcome, Stamp, decide, handle
from domain.errors import BackdatedBeyondWindow, BankNotEstablished, KycNotVerified
from domain.events import CommandRejected
from domain.money import AssetKind
from domain.rules import compliance, corrections, funding, issuance, onboarding, settlements, trading
from domain.state import LedgerState
from tests.world import LEDGER_TIME, accept, trading_world

RECORDED_AT = datetime(2026, 2, 2, 9, 0, 5, tzinfo=UTC)


def test_a_rule_violation_is_recorded_with_the_command_its_stamp_and_its_details() -> None:
    state = trading_world()
    command = ExecuteTrade(
        key="t-pending",
        venue_id="minsk-htp",
        buyer_client_id="pending",
        seller_client_id="nord",
        base_asset="USDT",
        base_amount="1",
        quote_asset="BYN",
        quote_amount="3.30",
        metadata={"channel": "api"},
    )
    stamp = Stamp(RECORDED_AT, LEDGER_TIME, "t-pending", {"channel": "api"})
    outcome = handle(state, command, stamp)
    assert isinstance(outcome.violation, KycNotVerified)
    (event,) = outcome.events
    assert isinstance(event, CommandRejected)
    assert event.originator_id == UUID("d2c90ee5-03a6-5ef4-ac48-e5737b4f91b0")  # command:t-pending
    assert (event.originator_version, event.timestamp, event.ledger_time) == (1, RECORDED_AT, LEDGER_TIME)
    assert (event.command_key, event.metadata, event.late_by_seconds) == ("t-pending", {"channel": "api"}, None)
    assert (event.command_type, event.rule) == ("execute_trade", "KYC_NOT_VERIFIED")
    assert event.reason == outcome.violation.message
    assert event.details == {name: str(value) for name, value in outcome.violation.context.items()}
    assert event.details["client"] == "pending"
    assert event.command == {
        "type": "execute_trade",
        "venue_id": "minsk-htp",
        "buyer_client_id": "pending",
        "seller_client_id": "nord",
        "base_asset": "USDT",
        "base_amount": "1",
        "quote_asset": "BYN",
        "quote_amount": "3.30",
        "fee": "0",
        "ledger_time": None,
    }
    assert (event.client_id, event.venue_id) == ("pending", "minsk-htp")


def test_a_rejection_sits_on_the_stream_of_its_command_key() -> None:
    state = trading_world()
    command = Deposit(key="d-pending", client_id="pending", asset="BYN", amount="1", reference="r")
    (event,) = handle(state, command, Stamp(RECORDED_AT, LEDGER_TIME, "d-pending")).events
    assert isinstance(event, CommandRejected)
    assert event.originator_id == UUID("08e09b6b-ce65-5737-8119-4f2500b4ec51")  # command:d-pending
    assert (event.client_id, event.venue_id) == ("pending", None)


def test_a_rejected_command_is_recorded_as_its_json_payload() -> None:
    state = trading_world()
    command = Deposit(
        key="d-pending", client_id="pending", asset="BYN", amount="1", reference="r", ledger_time=LEDGER_TIME
    )
    (event,) = handle(state, command, Stamp(RECORDED_AT, LEDGER_TIME, "d-pending")).events
    assert isinstance(event, CommandRejected)
    assert event.command["ledger_time"] == command.model_dump(mode="json")["ledger_time"]
    assert isinstance(event.command["ledger_time"], str)


def test_an_accepted_command_has_no_violation() -> None:
    state = trading_world()
    command = Deposit(key="d", client_id="nord", asset="BYN", amount="1", reference="r")
    outcome = handle(state, command, Stamp(RECORDED_AT, LEDGER_TIME, "d"))
    assert outcome.violation is None
    assert [type(event).__name__ for event in outcome.events] == ["FundsDeposited"]
    assert Outcome(events=[]).violation is None


def test_a_command_back_dated_within_the_window_is_marked_late_by_its_seconds() -> None:
    state = trading_world()
    accept(state, Deposit(key="d1", client_id="nord", asset="BYN", amount="1", reference="r"))
    earlier = LEDGER_TIME - timedelta(hours=1, seconds=1)
    command = Deposit(key="d2", client_id="nord", asset="BYN", amount="1", reference="r", ledger_time=earlier)
    (event,) = handle(state, command, Stamp(RECORDED_AT, earlier, "d2")).events
    assert event.late_by_seconds == 3601


def test_a_command_back_dated_beyond_the_window_is_refused_outright() -> None:
    state = trading_world()
    beyond = LEDGER_TIME - timedelta(days=7, seconds=1)
    command = Deposit(key="d2", client_id="nord", asset="BYN", amount="1", reference="r", ledger_time=beyond)
    with pytest.raises(BackdatedBeyondWindow, match="7 days"):
        handle(state, command, Stamp(RECORDED_AT, beyond, "d2"))


def test_nothing_but_establishing_the_bank_is_decided_before_it() -> None:
    command = RegisterAsset(key="a", code="BYN", scale=2, kind=AssetKind.FIAT)
    with pytest.raises(BankNotEstablished):
        decide(LedgerState(), command, Stamp(RECORDED_AT, LEDGER_TIME, "a"))


def test_every_area_s_deciders_are_in_the_dispatch_table() -> None:
    areas = (onboarding, issuance, funding, trading, compliance, settlements, corrections)
    expected = {cls: decider for area in areas for cls, decider in area.DECIDERS.items()}
    assert dict(DECIDERS) == expected
    assert len(DECIDERS) == sum(len(area.DECIDERS) for area in areas)
