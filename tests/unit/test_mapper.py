"""Events are stored as their pydantic JSON and read back, upcast when older."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import uuid4

from eventsourcing.persistence import JSONTranscoder, StoredEvent
from eventsourcing.utils import get_topic

from domain.events import CommandRejected, FundsDeposited, LedgerEvent, Posting
from ledger.audit.leaves import event_data
from ledger.store.codec import PydanticMapper

NOW = datetime(2026, 2, 2, tzinfo=UTC)


class ClientNoted(LedgerEvent):
    """A test event in its second version: `channel` was added in v2."""

    class_version: ClassVar[int] = 2
    note: str
    channel: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["channel"] = "branch"


def mapper() -> PydanticMapper:
    return PydanticMapper(transcoder=JSONTranscoder())


def test_an_event_round_trips_through_its_stored_form_with_amounts_as_strings() -> None:
    event = FundsDeposited(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=NOW,
        ledger_time=NOW,
        command_key="d",
        postings=(
            Posting(account="system:external", asset="ETH", amount_minor=-(10**30)),
            Posting(account="client:a", asset="ETH", amount_minor=10**30),
        ),
        client_id="a",
        asset_code="ETH",
        amount_minor=10**30,
        reference="tx",
    )
    stored = mapper().to_stored_event(event)
    assert json.loads(stored.state)["amount_minor"] == str(10**30)
    assert mapper().to_domain_event(stored) == event


def test_a_version_1_event_is_upcast_when_read() -> None:
    v1_state = {
        "originator_id": str(uuid4()),
        "originator_version": 1,
        "timestamp": NOW.isoformat(),
        "ledger_time": NOW.isoformat(),
        "command_key": "n",
        "note": "called",
    }
    stored = StoredEvent(
        originator_id=v1_state["originator_id"],
        originator_version=1,
        topic=get_topic(ClientNoted),
        state=json.dumps(v1_state).encode(),
    )
    event = mapper().to_domain_event(stored)
    assert isinstance(event, ClientNoted)
    assert event.channel == "branch"


def test_a_current_event_records_its_class_version_and_reads_back_unchanged() -> None:
    event = ClientNoted(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=NOW,
        ledger_time=NOW,
        command_key="n",
        note="called",
        channel="app",
    )
    stored = mapper().to_stored_event(event)
    assert json.loads(stored.state)["class_version"] == 2
    assert mapper().to_domain_event(stored) == event


def deposit_marked(late_by_seconds: int | None) -> FundsDeposited:
    return FundsDeposited(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=NOW,
        ledger_time=NOW,
        command_key="d",
        postings=(
            Posting(account="system:external", asset="BYN", amount_minor=-1),
            Posting(account="client:a", asset="BYN", amount_minor=1),
        ),
        client_id="a",
        asset_code="BYN",
        amount_minor=1,
        reference="tx",
        late_by_seconds=late_by_seconds,
    )


def test_an_event_that_was_not_late_stores_and_makes_its_leaf_as_before_lateness_existed() -> None:
    event = deposit_marked(None)
    stored = mapper().to_stored_event(event)
    assert "late_by_seconds" not in json.loads(stored.state)
    assert "late_by_seconds" not in event_data(event.model_dump(mode="json"))
    assert mapper().to_domain_event(stored) == event


def test_a_late_event_stores_its_lateness_and_signs_it_in_its_leaf() -> None:
    event = deposit_marked(90)
    stored = mapper().to_stored_event(event)
    assert json.loads(stored.state)["late_by_seconds"] == 90
    assert event_data(event.model_dump(mode="json"))["late_by_seconds"] == 90
    assert mapper().to_domain_event(stored) == event


def stored_v1_rejection(command: dict[str, Any], details: dict[str, str]) -> StoredEvent:
    """A CommandRejected as version 1 stored it: no client_id, no venue_id."""
    originator_id = str(uuid4())
    state = {
        "originator_id": originator_id,
        "originator_version": 1,
        "timestamp": NOW.isoformat(),
        "ledger_time": NOW.isoformat(),
        "command_key": "t1",
        "command_type": "execute_trade",
        "rule": "FOREIGN_VENUE",
        "reason": "refused",
        "details": details,
        "command": command,
    }
    return StoredEvent(
        originator_id=originator_id,
        originator_version=1,
        topic=get_topic(CommandRejected),
        state=json.dumps(state).encode(),
    )


def test_a_version_1_rejection_reads_back_with_the_client_its_rule_named_and_the_venue_its_command_named() -> None:
    command = {"type": "execute_trade", "venue_id": "binance", "buyer_client_id": "alesia"}
    event = mapper().to_domain_event(stored_v1_rejection(command, {"client": "nord", "venue": "binance"}))
    assert isinstance(event, CommandRejected)
    assert (event.client_id, event.venue_id) == ("nord", "binance")
    assert event.details == {"client": "nord", "venue": "binance"}
    assert event.command == command


def test_a_version_1_rejection_whose_rule_names_no_client_reads_back_with_the_command_s_first_client() -> None:
    command = {"type": "execute_trade", "buyer_client_id": None, "seller_client_id": "nord"}
    event = mapper().to_domain_event(stored_v1_rejection(command, {}))
    assert isinstance(event, CommandRejected)
    assert (event.client_id, event.venue_id) == ("nord", None)
