"""Metadata: the sender's string pairs on any command, within named limits, in its digest, on its events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import pytest
from eventsourcing.persistence import JSONTranscoder
from pydantic import ValidationError

from domain.commands import (
    COMMAND_ADAPTER,
    METADATA_ENTRIES_MAX,
    METADATA_VALUE_LENGTH_MAX,
    Deposit,
    ExecuteTrade,
    Transfer,
)
from domain.decide import Stamp, handle
from domain.events import CommandRejected, FundsDeposited, Posting
from ledger.audit.leaves import leaf_bytes
from ledger.replay import event_from_leaf
from ledger.store.codec import PydanticMapper
from tests.world import LEDGER_TIME, built_world

NOW = datetime(2026, 2, 2, 9, tzinfo=UTC)
ORDER = {"order_id": "A-1001", "channel": "mobile"}


def deposit(**fields: object) -> dict[str, object]:
    return {
        "type": "deposit",
        "key": "d-1",
        "client_id": "alesia",
        "asset": "BYN",
        "amount": "12.50",
        "reference": "in-1",
        **fields,
    }


def test_a_command_without_metadata_digests_byte_for_byte_as_before_commands_had_any() -> None:
    # Digests of the release before metadata: stores hold them in ledger_commands,
    # and a repeat sent after the upgrade must not conflict with them.
    plain = Deposit(key="pin-1", client_id="alesia", asset="BYN", amount="12.50", reference="in-1", ledger_time=NOW)
    trade = ExecuteTrade(
        key="pin-2",
        venue_id="minsk-htp",
        buyer_client_id="alesia",
        base_asset="USDT",
        base_amount="10",
        quote_asset="BYN",
        quote_amount="33.00",
    )
    assert plain.digest() == "09c53007fee2bf6f8322c391273d7aff0af1d3581fda2b2ea4544903524b86ca"
    assert trade.digest() == "75956f485fc630785d7b185c7f40a2960484a7d2f151166b0fc59b727d1a0700"
    empty = COMMAND_ADAPTER.validate_python(deposit(metadata={}))
    assert empty.digest() == COMMAND_ADAPTER.validate_python(deposit()).digest()


def test_metadata_is_part_of_the_digest_whatever_order_its_pairs_are_sent_in() -> None:
    without = COMMAND_ADAPTER.validate_python(deposit())
    with_order = COMMAND_ADAPTER.validate_python(deposit(metadata=ORDER))
    reordered = COMMAND_ADAPTER.validate_python(deposit(metadata=dict(reversed(ORDER.items()))))
    other = COMMAND_ADAPTER.validate_python(deposit(metadata={**ORDER, "order_id": "A-1002"}))
    assert with_order.digest() != without.digest()
    assert reordered.digest() == with_order.digest()
    assert other.digest() != with_order.digest()


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({f"k{n}": "v" for n in range(METADATA_ENTRIES_MAX + 1)}, "at most 20 entries, 21 given"),
        ({"order id": "A-1"}, "metadata key 'order id' must be 1 to 40 of the characters"),
        ({"": "A-1"}, "metadata key '' must be 1 to 40"),
        ({"k" * 41: "A-1"}, "must be 1 to 40"),
        ({"amount": 12}, "metadata value of 'amount' must be a string, not int"),
        ({"nested": {"a": "b"}}, "must be a string, not dict"),
        ({"note": "x" * (METADATA_VALUE_LENGTH_MAX + 1)}, "holds at most 500 characters, 501 given"),
        (["order_id", "A-1"], "valid dictionary"),
    ],
)
def test_metadata_beyond_its_limits_is_refused_naming_the_field_and_the_limit(metadata: object, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        COMMAND_ADAPTER.validate_python(deposit(metadata=metadata))
    (problem,) = raised.value.errors()
    assert problem["loc"] == ("deposit", "metadata")
    assert message in problem["msg"]


def test_metadata_at_its_limits_is_accepted() -> None:
    metadata = {f"{'k' * 38}{n:02}": "v" * METADATA_VALUE_LENGTH_MAX for n in range(METADATA_ENTRIES_MAX)}
    assert COMMAND_ADAPTER.validate_python(deposit(metadata=metadata)).metadata == metadata


def test_every_event_a_command_records_carries_its_metadata() -> None:
    state = built_world()
    command = Deposit(key="d-9", client_id="alesia", asset="BYN", amount="1.00", reference="r", metadata=ORDER)
    outcome = handle(state, command, Stamp(LEDGER_TIME, LEDGER_TIME, command.key, command.metadata))
    assert outcome.events
    assert all(event.metadata == ORDER for event in outcome.events)


def test_a_rejection_carries_the_metadata_beside_the_command_payload_it_had_before() -> None:
    state = built_world()
    command = Transfer(
        key="x-9", source_client_id="alesia", target_client_id="nord", asset="BYN", amount="1000", metadata=ORDER
    )
    (rejection,) = handle(state, command, Stamp(LEDGER_TIME, LEDGER_TIME, command.key, command.metadata)).events
    assert isinstance(rejection, CommandRejected)
    assert rejection.metadata == ORDER
    assert "metadata" not in rejection.command


def sample_event(**fields: object) -> FundsDeposited:
    return FundsDeposited(
        originator_id=UUID(int=7),
        originator_version=1,
        timestamp=NOW,
        ledger_time=NOW,
        command_key="d-1",
        postings=(
            Posting(account="system:external", asset="BYN", amount_minor=-1250),
            Posting(account="client:alesia", asset="BYN", amount_minor=1250),
        ),
        client_id="alesia",
        asset_code="BYN",
        amount_minor=1250,
        reference="in-1",
        **fields,  # type: ignore[arg-type]
    )


def test_an_event_without_metadata_stores_and_leafs_byte_for_byte_as_before() -> None:
    # The stored JSON and the leaf of the release before metadata, for this event.
    stored = PydanticMapper(transcoder=JSONTranscoder()).to_stored_event(sample_event())
    assert stored.state == (
        b'{"originator_id":"00000000-0000-0000-0000-000000000007","originator_version":1,'
        b'"timestamp":"2026-02-02T09:00:00Z","ledger_time":"2026-02-02T09:00:00Z","command_key":"d-1",'
        b'"postings":[{"account":"system:external","asset":"BYN","amount_minor":"-1250"},'
        b'{"account":"client:alesia","asset":"BYN","amount_minor":"1250"}],"client_id":"alesia",'
        b'"asset_code":"BYN","amount_minor":"1250","reference":"in-1","wallet_address":null}'
    )
    assert leaf_bytes(0, sample_event()) == (
        b'{"data":{"amount_minor":"1250","asset_code":"BYN","client_id":"alesia","command_key":"d-1",'
        b'"ledger_time":"2026-02-02T09:00:00Z","postings":[{"account":"system:external","amount_minor":"-1250",'
        b'"asset":"BYN"},{"account":"client:alesia","amount_minor":"1250","asset":"BYN"}],"reference":"in-1",'
        b'"wallet_address":null},"index":0,"recorded_at":"2026-02-02T09:00:00Z",'
        b'"stream":"00000000-0000-0000-0000-000000000007","type":"FundsDeposited","version":1}'
    )
    assert PydanticMapper(transcoder=JSONTranscoder()).to_domain_event(stored) == sample_event()


def test_metadata_is_stored_with_the_event_and_signed_in_its_leaf() -> None:
    mapper = PydanticMapper(transcoder=JSONTranscoder())
    event = sample_event(metadata=ORDER)
    stored = mapper.to_stored_event(event)
    assert json.loads(stored.state)["metadata"] == ORDER
    assert mapper.to_domain_event(stored) == event
    leaf = leaf_bytes(3, event)
    assert json.loads(leaf)["data"]["metadata"] == ORDER
    assert event_from_leaf(leaf) == event  # a replay from a bundle gives the metadata back
