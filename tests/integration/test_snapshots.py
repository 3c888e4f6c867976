"""Writers open from a snapshot of the decision state and replay only the tail; a bad snapshot is never trusted."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.commands import Deposit, EstablishBank
from domain.snapshot import FORMAT
from domain.state import LedgerState
from ledger import Ledger, ManualClock, snapshots
from ledger.simulate import SIM_START, SimulationConfig, simulate
from ledger.snapshots import SnapshotIgnored
from ledger.store.ports import LogEntry
from ledger.tables import SNAPSHOTS_TABLE
from tests.acceptance.cli import ledger as run_ledger
from tests.world import funding_commands, setup_commands

OpenLedger = Callable[..., Ledger]


def deposits(first: int, count: int) -> list[Deposit]:
    return [
        Deposit(key=f"d{n}", client_id="alesia", asset="BYN", amount="1.00", reference=f"r{n}")
        for n in range(first, first + count)
    ]


def written(open_ledger: OpenLedger) -> tuple[Ledger, int]:
    """A ledger with a snapshot part-way through its log; returns the snapshot's position."""
    ledger = open_ledger(snapshot_every=None)
    ledger.submit(setup_commands() + funding_commands() + deposits(0, 20))
    position = ledger.snapshot()
    ledger.submit(deposits(20, 15))
    return ledger, position


def fields(state: LedgerState) -> dict[str, object]:
    """Every field of the state itself (not its snapshot, which could leave
    the same field out on both sides)."""
    return {name: value for name, value in vars(state).items() if name not in ("_handlers", "_journal")}


def full_replay(open_ledger: OpenLedger) -> Ledger:
    return open_ledger(snapshot_every=None)


def test_a_writer_opens_from_the_latest_snapshot_and_reads_only_the_tail(
    open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, position = written(open_ledger)
    reads: list[int] = []
    backend_class = type(live.backend)
    original = backend_class.notifications_after

    def recorded(self: object, after: int, limit: int = 1000) -> Sequence[LogEntry]:
        reads.append(after)
        return original(self, after, limit)  # type: ignore[arg-type]

    monkeypatch.setattr(backend_class, "notifications_after", recorded)
    reopened = open_ledger()
    assert reads[0] == position > 0
    assert fields(reopened.state) == fields(live.state)


def test_snapshot_and_tail_give_the_state_a_full_replay_gives(open_ledger: OpenLedger) -> None:
    written(open_ledger)
    assert fields(open_ledger().state) == fields(full_replay(open_ledger).state)


def test_a_snapshot_is_taken_every_n_events_by_itself(open_ledger: OpenLedger) -> None:
    ledger = open_ledger(snapshot_every=10)
    ledger.submit(setup_commands() + funding_commands())
    for start in range(0, 40, 4):
        ledger.submit(deposits(start, 4))
    with ledger.backend.read() as session:
        positions = [p for (p,) in session.fetchall(f"SELECT position FROM {SNAPSHOTS_TABLE} ORDER BY position")]
        head = session.max_notification_id()
    assert len(positions) == 2  # the newest two are kept
    assert head - positions[-1] < 10


def tamper(ledger: Ledger, statement: str, params: tuple[object, ...] = ()) -> None:
    with ledger.backend.views() as session:
        session.execute(statement, params)


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (f"UPDATE {SNAPSHOTS_TABLE} SET state = replace(state, '\"alesia\"', '\"alesiA\"')", "digest does not match"),
        (f"UPDATE {SNAPSHOTS_TABLE} SET format = {FORMAT + 1}", f"format {FORMAT + 1}"),
        (f"UPDATE {SNAPSHOTS_TABLE} SET position = position + 1000", "ahead of the log"),
    ],
)
def test_a_corrupt_foreign_or_future_snapshot_is_ignored_with_a_warning_and_rebuilt(
    open_ledger: OpenLedger, edit: str, reason: str
) -> None:
    live, _ = written(open_ledger)
    tamper(live, edit)
    with pytest.warns(SnapshotIgnored, match=reason):
        reopened = open_ledger()
    assert fields(reopened.state) == fields(full_replay(open_ledger).state)
    with reopened.backend.read() as session:
        (newest,) = session.fetchall(f"SELECT max(position) FROM {SNAPSHOTS_TABLE}")[0]
        assert newest == session.max_notification_id()  # rebuilt and stored again


def test_a_snapshot_whose_digest_matches_but_whose_state_does_not_validate_is_ignored(
    open_ledger: OpenLedger,
) -> None:
    live, position = written(open_ledger)
    state = '{"format": 1, "position": "many"}'
    digest = hashlib.sha256(state.encode()).hexdigest()
    tamper(live, f"UPDATE {SNAPSHOTS_TABLE} SET state = ?, digest = ? WHERE position = ?", (state, digest, position))
    with pytest.warns(SnapshotIgnored, match="does not validate"):
        reopened = open_ledger()
    assert fields(reopened.state) == fields(full_replay(open_ledger).state)


def test_ledger_snapshot_stores_one_at_the_head(tmp_path: Path) -> None:
    home = tmp_path / "sandbox"
    assert run_ledger("init", "--home", str(home), "--sandbox-key").returncode == 0
    result = run_ledger("snapshot", "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert "at log position 1" in result.stdout
    with sqlite3.connect(home / "ledger.sqlite") as connection:
        assert connection.execute(f"SELECT position FROM {SNAPSHOTS_TABLE}").fetchall() == [(1,)]


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(min_value=0, max_value=10_000), days=st.integers(min_value=1, max_value=3), data=st.data())
def test_after_random_histories_snapshot_and_tail_equal_a_full_replay(
    fresh_store: Callable[[], str], tmp_path: Path, seed: int, days: int, data: st.DataObject
) -> None:
    url = fresh_store()
    clock = ManualClock(SIM_START)
    with Ledger.open(
        home=tmp_path, database_url=url, create=True, clock=clock, ledger_clock=clock, snapshot_every=None
    ) as ledger:
        ledger.execute(
            EstablishBank(key="bank", name="Zubr Crypto Bank JSC", htp_resident=True, nbrb_register_entry="1")
        )
        simulate(ledger, SimulationConfig(seed=seed, clients=8, days=days, operations_per_day=25))
        events = ledger.backend.max_notification_id()
    cut = data.draw(st.integers(min_value=1, max_value=events), label="events before the snapshot")
    with Ledger.open(home=tmp_path, database_url=url, snapshot_every=None) as full:
        expected = fields(full.state)
        snapshots.save(full.backend, state_after(full, cut), SIM_START)
    with Ledger.open(home=tmp_path, database_url=url) as reopened:
        assert fields(reopened.state) == expected


def state_after(ledger: Ledger, count: int) -> LedgerState:
    """The decision state after the first `count` events of the log, evolved event by event."""
    state = LedgerState()
    entries = ledger.backend.notifications_after(0, count)
    for entry in entries:
        state.evolve(ledger.mapper.to_domain_event(entry))
    state.advance_to(entries[-1].id)
    return state
