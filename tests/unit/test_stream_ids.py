"""Stream ids are a stored contract: every event in a store sits on the stream
its command's decider derived, and a replay must derive the same. These pin
the derivation by literal values, not by re-running it."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

import pytest

from domain.commands import BlacklistAddress, ExecuteTrade, SetReferenceRate, SetVolumeCap
from domain.events import BANK_STREAM, LEDGER_NAMESPACE, stream_id
from domain.rules.base import command_stream
from tests.world import accept, built_world, trading_world

PINNED = [
    ("bank", "bank", "b18521a3-9528-5183-9618-4d3dc4d56593"),
    ("command", "fund-byn", "a0eef438-6f77-57e5-a24d-1cf0cb657e42"),
    ("command", "trade", "5b6ad88a-c28d-5ae5-9538-7bcb91e232f2"),
    ("venue", "minsk-htp", "c8dacf36-5344-59b8-85f6-656207fcc7af"),
    ("rate", "USDT", "1cc67c3e-62d3-535f-b2d1-8dfa848d7837"),
    ("address", "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", "18f663dd-a4c3-5d9d-835b-e6b67e4e5400"),
    ("volume-cap", "bank:BYN", "c27b9644-ad33-54f5-903c-9a0fc60867d6"),
    ("client", "alesia", "0cbb07e0-cbc2-5d97-8f9e-353c5fed87a3"),
    ("issuer", "svislach", "08e41a95-10e5-5336-a8d6-e64861b76e9d"),
    ("asset", "BYN", "0b2b66de-afce-5b59-8bcf-5059c040869f"),
    ("settlement", "s1", "9a313b79-bdfa-558f-b413-0b06cd64cc1c"),
    ("wallet", "alesia:0xabc", "719c05ed-b725-55cf-b77e-612e58e3f70e"),
    ("jurisdiction", "IR", "12613906-6c76-5d74-bcf5-be7729ff44a7"),
    ("sandbox", "clock", "e34ed0e2-dc0c-50e0-bd72-d1ddbe3d13b3"),
    ("aml", "t:alesia", "fb1a0eec-b91c-5f37-86da-18efdf802547"),
]


def test_the_ledger_namespace_is_fixed_forever() -> None:
    assert UUID("6f1c4b2e-8d0a-5c39-9b7e-3a2d1f0e4c58") == LEDGER_NAMESPACE


@pytest.mark.parametrize(("kind", "name", "pinned"), PINNED)
def test_each_kind_of_stream_has_the_id_stored_stores_hold(kind: str, name: str, pinned: str) -> None:
    assert stream_id(kind, name) == UUID(pinned)
    assert uuid5(LEDGER_NAMESPACE, f"{kind}:{name}") == UUID(pinned)
    assert UUID(pinned).version == 5


def test_the_bank_stream_and_a_commands_stream_are_the_pinned_ones() -> None:
    assert UUID("b18521a3-9528-5183-9618-4d3dc4d56593") == BANK_STREAM
    assert command_stream("fund-byn") == UUID("a0eef438-6f77-57e5-a24d-1cf0cb657e42")


def test_the_deciders_put_their_events_on_the_pinned_streams() -> None:
    state = trading_world()
    trade = ExecuteTrade(
        key="trade",
        venue_id="minsk-htp",
        buyer_client_id="alesia",
        seller_client_id="nord",
        base_asset="USDT",
        base_amount="1",
        quote_asset="BYN",
        quote_amount="3.30",
    )
    commands_and_streams = [
        (trade, "5b6ad88a-c28d-5ae5-9538-7bcb91e232f2"),
        (SetVolumeCap(key="cap", asset="BYN", daily_cap="100"), "c27b9644-ad33-54f5-903c-9a0fc60867d6"),
        (
            SetReferenceRate(key="rate", code="USDT", byn_per_unit="3.3", effective_on=date(2026, 2, 1)),
            "1cc67c3e-62d3-535f-b2d1-8dfa848d7837",
        ),
        (
            BlacklistAddress(
                key="b", address="T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", listed_on=date(2026, 2, 2), reason="list"
            ),
            "18f663dd-a4c3-5d9d-835b-e6b67e4e5400",
        ),
    ]
    for command, pinned in commands_and_streams:
        (event,) = accept(state, command)
        assert event.originator_id == UUID(pinned), command.key


def test_the_bank_an_asset_and_a_client_keep_their_events_on_the_pinned_streams() -> None:
    state = built_world()
    assert state.version(UUID("b18521a3-9528-5183-9618-4d3dc4d56593")) >= 1  # the bank's own stream
    assert state.version(UUID("0b2b66de-afce-5b59-8bcf-5059c040869f")) == 1  # asset BYN, registered once
    assert state.version(UUID("0cbb07e0-cbc2-5d97-8f9e-353c5fed87a3")) == 2  # alesia: onboarded, verified
