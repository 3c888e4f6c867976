"""What the write path and the views take for granted about the log, checked on a simulated one."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from uuid import uuid5

from hypothesis import given
from hypothesis import strategies as st

from domain.commands import COMMAND_ADAPTER
from domain.events import LEDGER_NAMESPACE, LedgerEvent, LedgerTransaction, stream_id
from ledger import ManualClock, Sandbox
from ledger.projections import ViewDecoder
from ledger.service import Ledger
from ledger.simulate import SIM_START, SimulationConfig, simulate


def simulated(home: Path) -> Ledger:
    sandbox = Sandbox.at(home)
    sandbox.init(allow_unencrypted_key=True, clock=ManualClock(SIM_START), ledger_clock=ManualClock(SIM_START))
    ledger = sandbox.open(clock=ManualClock(SIM_START), ledger_clock=ManualClock(SIM_START))
    simulate(ledger, SimulationConfig(seed=5, clients=20, days=8, operations_per_day=60))
    return ledger


def whole_log(ledger: Ledger) -> list[tuple[Any, LedgerEvent]]:
    entries = ledger.backend.notifications_after(0, 1_000_000)
    return [(entry, cast(LedgerEvent, ledger.mapper.to_domain_event(entry))) for entry in entries]


def test_single_event_streams_hold_one_event_and_the_decision_state_forgets_them(tmp_path: Path) -> None:
    with simulated(tmp_path) as ledger:
        log = whole_log(ledger)
        per_stream = Counter(event.originator_id for _, event in log)
        single = [event for _, event in log if event.single_event_stream]
        assert len({type(event) for event in single}) >= 6, "the simulation should write most kinds"
        for event in single:
            assert event.originator_version == 1
            assert per_stream[event.originator_id] == 1, type(event).__name__
        assert not {event.originator_id for event in single} & set(ledger.state.versions)
        kept = {event.originator_id for _, event in log if not event.single_event_stream}
        assert set(ledger.state.versions) == kept


def test_a_plain_transaction_sums_to_the_same_changes_as_the_whole_event(tmp_path: Path) -> None:
    with simulated(tmp_path) as ledger:
        decoder = ViewDecoder(ledger.mapper)
        plain = 0
        for entry, event in whole_log(ledger):
            summary = decoder.summarize([entry])
            assert (summary.events, summary.last_id) == (1, entry.id)
            if summary.whole:
                assert decoder.whole(entry) == event
                continue
            plain += 1
            assert isinstance(event, LedgerTransaction)
            assert summary.latest == event.ledger_time
            expected: Counter[tuple[str, str]] = Counter()
            for posting in event.postings:
                expected[posting.account, posting.asset] += posting.amount_minor
            assert summary.changes == dict(expected)
            assert decoder.summarize([entry], recorded_by=event.timestamp).events == 1
            assert decoder.summarize([entry], recorded_by=event.timestamp - timedelta(microseconds=1)).stopped
        assert plain > 100


@given(kind=st.text(max_size=20), name=st.text(max_size=60))
def test_stream_ids_are_the_standard_uuid5_of_kind_and_name(kind: str, name: str) -> None:
    assert stream_id(kind, name) == uuid5(LEDGER_NAMESPACE, f"{kind}:{name}")


def test_a_command_digest_is_the_sha256_of_its_json_without_the_key_nor_empty_metadata() -> None:
    fields = {"type": "deposit", "key": "k-1", "client_id": "alesia", "asset": "BYN", "amount": "10.00"}
    command = COMMAND_ADAPTER.validate_python({**fields, "reference": "r"})
    payload = command.model_dump_json(exclude={"key", "metadata"}).encode()
    assert command.digest() == hashlib.sha256(payload).hexdigest()
    assert b'"key"' not in payload
    tagged = COMMAND_ADAPTER.validate_python({**fields, "reference": "r", "metadata": {"order": "A-1"}})
    assert tagged.digest() == hashlib.sha256(tagged.model_dump_json(exclude={"key"}).encode()).hexdigest()


def test_a_reopened_ledger_catches_up_to_the_state_of_the_one_that_wrote_the_log(tmp_path: Path) -> None:
    def snapshot(ledger: Ledger) -> dict[str, Any]:
        state = ledger.state
        return {
            name: dict(getattr(state, name))
            for name in ("balances", "versions", "clients", "venues", "settlements", "volumes", "counters")
        }

    with simulated(tmp_path) as writer:
        written = snapshot(writer)
    with Sandbox.at(tmp_path).open() as reader:
        assert snapshot(reader) == written
    assert all(written[name] for name in ("balances", "settlements", "volumes")), "the log should exercise them"
