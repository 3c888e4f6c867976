"""Replay: the same views from the log, at any point, on any backend, across schema versions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.events import CommandRejected
from ledger import Ledger, ManualClock
from ledger.audit.bundle import export_bundle
from ledger.projections import ViewDecoder
from ledger.replay import ReplayError, StopAt, differences, replay_bundle, replay_store
from ledger.store.ports import Backend, StoreLocation
from ledger.store.schema import open_store
from ledger.tables import VIEW_INDEXES
from ledger.views import view_digests
from tests.integration.test_audit_bundle import NOW, sandbox_with_history
from tests.integration.test_projections import history
from tests.world import LEDGER_TIME

OpenLedger = Callable[..., Ledger]


def scratch(tmp_path: Path, name: str = "replayed") -> Backend:
    return open_store(StoreLocation(sqlite_path=tmp_path / name / "ledger.sqlite"), create=True)


def filled(open_ledger: OpenLedger, commands: int | None = None) -> Ledger:
    ledger = open_ledger(ledger_clock=ManualClock(LEDGER_TIME, step=timedelta(hours=1)))
    chosen = history()[:commands] if commands is not None else history()
    for start in range(0, len(chosen), 7):
        ledger.submit(chosen[start : start + 7])
    return ledger


def test_a_replay_from_the_store_equals_the_live_views(open_ledger: OpenLedger, tmp_path: Path) -> None:
    ledger = filled(open_ledger)
    ledger.projector.catch_up()
    target = scratch(tmp_path)
    assert replay_store(ledger.backend, ledger.projector.decode, target) == ledger.backend.max_notification_id()
    assert view_digests(target) == view_digests(ledger.backend)
    assert differences(ledger.backend, target) == []
    target.close()


def test_a_replayed_store_has_every_index_of_the_views_it_loaded_without_them(
    open_ledger: OpenLedger, tmp_path: Path
) -> None:
    ledger = filled(open_ledger)
    target = scratch(tmp_path)
    replay_store(ledger.backend, ledger.projector.decode, target)
    with target.read() as session:
        indexes = {name for (name,) in session.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(VIEW_INDEXES) <= indexes
    target.close()


def test_a_tampered_live_view_is_named_with_its_first_differing_row(open_ledger: OpenLedger, tmp_path: Path) -> None:
    ledger = filled(open_ledger)
    ledger.projector.catch_up()
    with ledger.backend.views() as session:
        session.execute("UPDATE view_balances SET amount_minor = '1' WHERE account = 'client:alesia'")
    target = scratch(tmp_path)
    replay_store(ledger.backend, ledger.projector.decode, target)
    (difference,) = differences(ledger.backend, target)
    assert difference.view == "view_balances"
    assert "client:alesia" in difference.row
    target.close()


def test_an_as_of_replay_gives_the_views_as_they_were_then(tmp_path: Path) -> None:
    def ledger_of(name: str, commands: int) -> Ledger:
        url = f"sqlite:///{tmp_path / name}.sqlite"
        clock = ManualClock(LEDGER_TIME)  # recording too: the transactions view shows when each was recorded
        ledger = Ledger.open(home=tmp_path, database_url=url, clock=clock, ledger_clock=clock, create=True)
        ledger.submit(history()[:commands])
        return ledger

    earlier, later = ledger_of("earlier", 20), ledger_of("later", len(history()))
    earlier.projector.catch_up()
    target = scratch(tmp_path)
    replay_store(later.backend, later.projector.decode, target, StopAt(leaves=earlier.backend.max_notification_id()))
    assert view_digests(target) == view_digests(earlier.backend)
    for ledger in (earlier, later):
        ledger.close()
    target.close()


def test_a_replay_stops_at_a_recording_time(tmp_path: Path) -> None:
    clock = ManualClock(LEDGER_TIME, step=timedelta(minutes=1))
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    with Ledger.open(
        home=tmp_path, database_url=url, clock=clock, ledger_clock=ManualClock(LEDGER_TIME), create=True
    ) as ledger:
        for command in history()[:12]:
            ledger.submit([command])
        target = scratch(tmp_path)
        applied = replay_store(
            ledger.backend, ledger.projector.decode, target, StopAt(recorded_at=LEDGER_TIME + timedelta(minutes=4))
        )
    assert applied == 5  # recorded at minutes 0 to 4
    target.close()


@pytest.mark.postgres
def test_one_bundle_replays_to_identical_digests_on_sqlite_and_postgres(tmp_path: Path, postgres_url: str) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    with sandbox.open(auto_checkpoint=False) as ledger:
        export_bundle(ledger.audit, sandbox.signer(), tmp_path / "bundle", NOW)
    digests = []
    for location in (
        StoreLocation(sqlite_path=tmp_path / "replica.sqlite"),
        StoreLocation.parse(home=tmp_path, database_url=postgres_url),
    ):
        target = open_store(location, create=True)
        replay_bundle(tmp_path / "bundle", sandbox.verifier_key(), target, ViewDecoder(target.mapper))
        digests.append(view_digests(target))
        target.close()
    assert digests[0] == digests[1]
    with sandbox.open() as ledger:
        ledger.projector.catch_up()
        assert digests[0] == view_digests(ledger.backend)


def test_a_bundle_that_does_not_verify_is_not_replayed(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    with sandbox.open(auto_checkpoint=False) as ledger:
        export_bundle(ledger.audit, sandbox.signer(), tmp_path / "bundle", NOW)
    lines = (tmp_path / "bundle" / "events.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "bundle" / "events.jsonl").write_bytes(b"".join(lines[:-1]))
    target = scratch(tmp_path)
    with pytest.raises(ReplayError, match=r"^the bundle does not verify: "):
        replay_bundle(tmp_path / "bundle", sandbox.verifier_key(), target, ViewDecoder(target.mapper))
    assert target.max_notification_id() == 0
    target.close()


def test_a_version_1_rejection_replays_to_the_same_views_as_one_written_at_version_2(tmp_path: Path) -> None:
    """`CommandRejected` version 2 added `client_id` and `venue_id`; its
    upcaster derives them from the version 1 event's own command and details."""
    written_v2 = Ledger.open(
        home=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'v2.sqlite'}",
        ledger_clock=ManualClock(LEDGER_TIME),
        create=True,
    )
    written_v2.submit(history())
    rejections = [n for n in written_v2.backend.notifications_after(0, 10_000) if n.topic == get_topic(CommandRejected)]
    assert rejections
    # The same log, with every rejection stored as version 1 wrote it.
    v1_store = open_store(StoreLocation(sqlite_path=tmp_path / "v1.sqlite"), create=True)
    stored = []
    for notification in written_v2.backend.notifications_after(0, 10_000):
        state = notification.state
        if notification.topic == get_topic(CommandRejected):
            data = json.loads(state)
            for field in ("client_id", "venue_id", "class_version"):
                data.pop(field, None)
            state = json.dumps(data).encode()
        stored.append(
            StoredEvent(notification.originator_id, notification.originator_version, notification.topic, state)
        )
    v1_store.store.recorder.insert_events(stored)
    v1 = Ledger(v1_store, ledger_clock=ManualClock(LEDGER_TIME))
    assert "venue_id" not in json.loads(v1_store.notifications_after(rejections[0].id - 1, 1)[0].state)
    for ledger in (written_v2, v1):
        ledger.projector.rebuild()
    assert view_digests(v1.backend) == view_digests(written_v2.backend)
    with v1.backend.views() as session:
        clients = {row[0] for row in session.fetchall("SELECT client_id FROM view_compliance")}
    assert "alesia" in clients
    written_v2.close()
    v1.close()
