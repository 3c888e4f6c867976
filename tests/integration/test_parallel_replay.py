"""Replay in worker processes: the same views as in one process, and errors that name the event."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ledger import replay
from ledger.projections import ViewDecoder
from ledger.replay import replay_store
from ledger.store.ports import StoreLocation, UnreadableEvent
from ledger.store.schema import open_store
from ledger.views import view_digests
from tests.integration.test_decoding import simulated


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Workers from the first event on, and many ranges for them; the list
    records the worker count of every replay that did use workers."""
    monkeypatch.setattr(replay, "PARALLEL_MIN_EVENTS", 1)
    monkeypatch.setattr(replay, "PAGE_SIZE", 37)
    in_workers: list[int] = []
    parallel = replay._replay_in_parallel

    def recorded(path: Path, projector: Any, head: int, workers: int, progress: Any) -> int:
        in_workers.append(workers)
        return parallel(path, projector, head, workers, progress)

    monkeypatch.setattr(replay, "_replay_in_parallel", recorded)
    return in_workers


def replayed(source_home: Path, target: Path, workers: int) -> dict[str, str]:
    source = open_store(StoreLocation(sqlite_path=source_home / "ledger.sqlite"), create=True)
    scratch = open_store(StoreLocation(sqlite_path=target), create=True)
    try:
        applied = replay_store(source, ViewDecoder(source.mapper), scratch, workers=workers)
        assert applied == source.max_notification_id()
        return view_digests(scratch)
    finally:
        source.close()
        scratch.close()


@pytest.mark.slow
def test_a_replay_in_worker_processes_gives_the_views_of_one_in_this_process(
    tmp_path: Path, small_pages: list[int]
) -> None:
    with simulated(tmp_path / "home") as ledger:
        ledger.projector.catch_up()
        live = view_digests(ledger.backend)
    in_workers = replayed(tmp_path / "home", tmp_path / "workers.sqlite", workers=2)
    in_one = replayed(tmp_path / "home", tmp_path / "one.sqlite", workers=1)
    assert small_pages == [2], "the first replay, and only it, should have used workers"
    assert in_workers == in_one == live


@pytest.mark.parametrize("workers", [1, 2])
def test_an_unreadable_event_stops_the_replay_and_is_named(
    tmp_path: Path, workers: int, small_pages: list[int]
) -> None:
    with simulated(tmp_path / "home") as ledger:
        head = ledger.backend.max_notification_id()
    connection = sqlite3.connect(tmp_path / "home" / "ledger.sqlite")
    with connection:  # written around the ledger, as a stray tool would
        connection.execute(
            "INSERT INTO stored_events VALUES (?, 1, 'domain.events:FundsDeposited', ?)",
            ("0" * 32, b'{"ledger_time": "yesterday", "postings": []}'),
        )
    connection.close()
    with pytest.raises(UnreadableEvent, match=rf"event {head + 1} of the log \(domain.events:FundsDeposited\)"):
        replayed(tmp_path / "home", tmp_path / "target.sqlite", workers=workers)
    assert small_pages == ([2] if workers == 2 else [])
