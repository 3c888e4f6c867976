"""Replay for audits: every view rebuilt from the log into a fresh store, and compared.

From the store: the live log is read in pages, each summarised (see
`PageSummary`) and applied to the views of a fresh store (bounded memory: a
few pages at a time); a whole SQLite log of some size is summarised by worker
processes, one per core, and applied here in order. From a bundle: the bundle
is verified first, its leaves turned back into events (each must give back
its leaf byte for byte), written to a fresh store, and the views built there.
Either can stop at a point: a leaf count (`--as-of 120`), a checkpoint's size,
or a recording time; the views are then exactly as they were at that point.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sqlite3
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from eventsourcing.persistence import JSONTranscoder

from domain.events import LedgerEvent, event_classes
from ledger.audit.leaves import leaf_bytes
from ledger.audit.verify import Reading, verify_bundle
from ledger.progress import ProgressStart, no_progress
from ledger.projections import PageSummary, Projector, ViewDecoder
from ledger.store.codec import PydanticMapper
from ledger.store.ports import Backend
from ledger.store.sqlite import entries_between
from ledger.tables import VIEW_ORDER, VIEW_TABLES
from ledger.views import view_digests, view_rows

_log = logging.getLogger(__name__)

PAGE_SIZE = 5000  # events in memory at once, and per view transaction
PARALLEL_MIN_EVENTS = 50_000  # below this, starting worker processes costs more than it saves


class ReplayError(Exception):
    """The replay cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class StopAt:
    """Where an as-of replay stops: after `leaves` leaves, or before the first
    event recorded after `recorded_at`. Both empty: the whole log."""

    leaves: int | None = None
    recorded_at: datetime | None = None

    def cut(self, first_index: int, events: Sequence[LedgerEvent]) -> tuple[Sequence[LedgerEvent], bool]:
        """The events to apply from this page, and whether to stop after them."""
        keep = list(events)
        if self.leaves is not None:
            keep = keep[: max(0, self.leaves - first_index)]
        if self.recorded_at is not None:
            for position, event in enumerate(keep):
                if event.timestamp > self.recorded_at:
                    keep = keep[:position]
                    break
        return keep, len(keep) < len(events)


@dataclass(frozen=True)
class Difference:
    view: str
    row: str

    def __str__(self) -> str:
        return f"{self.view}: {self.row}"


EVENT_TYPES = {cls.__name__: cls for cls in event_classes()}


def event_from_leaf(line: bytes) -> LedgerEvent:
    """The event a leaf was made from; it must give back the very same leaf."""
    leaf = json.loads(line)
    cls = EVENT_TYPES.get(leaf.get("type"))
    if cls is None:
        raise ReplayError(f"leaf {leaf.get('index')}: unknown event type {leaf.get('type')!r}")
    state = dict(leaf["data"])
    state.update(originator_id=leaf["stream"], originator_version=leaf["version"], timestamp=leaf["recorded_at"])
    event = cls.model_validate(state)
    if leaf_bytes(leaf["index"], event) != line:
        raise ReplayError(f"leaf {leaf['index']}: the event it describes does not give the same leaf back")
    return event


def replay_store(
    source: Backend,
    decode: ViewDecoder,
    target: Backend,
    stop: StopAt = StopAt(),
    progress: ProgressStart = no_progress,
    *,
    workers: int | None = None,
) -> int:
    """Rebuilds every view of `target` from the log of `source`; returns the
    events applied. A whole-log replay of a large SQLite log is summarised by
    `workers` processes (one per core by default) and applied here in order.
    `progress` is started with the events to replay (`ledger.progress`)."""
    projector = Projector(target, decode)
    projector.set_up()
    workers = workers or os.cpu_count() or 1
    path = source.location.sqlite_path
    head = source.max_notification_id()
    whole_log = stop == StopAt() and not decode.mapper.is_sealed
    # Forked workers: spawned ones would re-run a user's script that has no
    # `if __name__ == "__main__"` guard. Fork is safe and cheap on Linux.
    can_fork = sys.platform == "linux"
    parallel = whole_log and can_fork and path is not None and workers > 1 and head >= PARALLEL_MIN_EVENTS
    total = head if stop.leaves is None else min(head, stop.leaves)  # a stop at a time ends where it ends
    _log.info("replaying up to %d events", total, extra={"events": total, "workers": workers if parallel else 1})
    with projector.loading(), progress("replaying events", total=total) as advance:
        if parallel:
            assert path is not None
            applied = _replay_in_parallel(path, projector, head, workers, advance)
        else:
            applied = _replay_in_pages(source, decode, projector, stop, advance)
    _log.info("replayed %d events", applied, extra={"events": applied})
    return applied


def _replay_in_pages(
    source: Backend, decode: ViewDecoder, projector: Projector, stop: StopAt, progress: Callable[[int], None] | None
) -> int:
    target = projector.backend
    position, applied = 0, 0
    while entries := source.notifications_after(position, PAGE_SIZE):
        position = entries[-1].id
        if stop.leaves is not None:
            entries = entries[: max(0, stop.leaves - applied)]
        summary = decode.summarize(entries, stop.recorded_at)
        with target.views() as session:
            projector.apply_summary(session, summary)
        applied += summary.events
        if progress is not None:
            progress(summary.events)
        if summary.stopped or (stop.leaves is not None and applied >= stop.leaves):
            break
    return applied


def _replay_in_parallel(
    path: Path, projector: Projector, head: int, workers: int, progress: Callable[[int], None] | None
) -> int:
    """Worker processes read and summarise ranges of the log; this process
    applies the summaries in log order, a few ranges behind the workers."""
    ranges = iter(range(0, head, PAGE_SIZE))
    applied = 0
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: deque[Future[PageSummary]] = deque()

        def read_ahead() -> None:
            after = next(ranges, None)
            if after is not None:
                pending.append(pool.submit(summarize_range, str(path), after, min(after + PAGE_SIZE, head)))

        for _ in range(2 * workers):
            read_ahead()
        try:
            while pending:
                summary = pending.popleft().result()
                read_ahead()
                with projector.backend.views() as session:
                    projector.apply_summary(session, summary)
                applied += summary.events
                if progress is not None:
                    progress(summary.events)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return applied


_reader: tuple[str, sqlite3.Connection, ViewDecoder] | None = None


def summarize_range(path: str, after: int, upto: int) -> PageSummary:
    """In a worker process: the summary of the events with ids in (after, upto]
    of the SQLite log at `path`, read through a read-only connection of its own."""
    global _reader  # noqa: PLW0603 (one connection per worker process, kept between ranges)
    if _reader is None or _reader[0] != path:
        connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        _reader = (path, connection, ViewDecoder(PydanticMapper(JSONTranscoder())))
    _, connection, decoder = _reader
    return decoder.summarize(entries_between(connection, after, upto))


def bundle_events(directory: Path) -> Iterator[LedgerEvent]:
    with (directory / "events.jsonl").open("rb") as handle:
        for line in handle:
            yield event_from_leaf(line.rstrip(b"\n"))


def replay_bundle(
    directory: Path,
    key: str,
    target: Backend,
    decode: ViewDecoder,
    stop: StopAt = StopAt(),
    progress: ProgressStart = no_progress,
) -> int:
    """Verifies the bundle, writes its events to the fresh `target`, and builds
    its views; `progress` hears of each phase with its total (`ledger.progress`)."""
    findings = verify_bundle(directory, key, reading=Reading(progress=progress))
    if findings:
        raise ReplayError("the bundle does not verify: " + "; ".join(str(f) for f in findings[:5]))
    manifest = json.loads((directory / "manifest.json").read_text())
    if manifest.get("first_index", 0) != 0:
        raise ReplayError("a replay needs the whole log: this bundle is incremental (export it without --since)")
    if target.max_notification_id():
        raise ReplayError("the target store is not empty: replay into a fresh one")
    mapper = target.store.mapper
    written = 0
    page: list[LedgerEvent] = []
    for event in bundle_events(directory):
        page.append(event)
        if len(page) == PAGE_SIZE:
            kept, done = stop.cut(written, page)
            target.store.recorder.insert_events([mapper.to_stored_event(e) for e in kept])
            written += len(kept)
            page = []
            if done:
                break
    else:
        kept, _ = stop.cut(written, page)
        if kept:
            target.store.recorder.insert_events([mapper.to_stored_event(e) for e in kept])
        written += len(kept)
    _log.info("bundle's events written: %d", written, extra={"events": written})
    projector = Projector(target, decode)
    projector.set_up()
    with projector.loading(), progress("replaying events", total=written) as advance:
        projector.catch_up(progress=advance)
    _log.info("replayed %d events", written, extra={"events": written})
    return written


def differences(live: Backend, replayed: Backend) -> list[Difference]:
    """For each view that differs, the first row (in key order) where it does."""
    found = []
    with live.read() as left_session, replayed.read() as right_session:
        for table in VIEW_TABLES:
            left, right = view_rows(left_session, table), view_rows(right_session, table)
            if left == right:
                continue
            for position in range(max(len(left), len(right))):
                ours = left[position] if position < len(left) else None
                theirs = right[position] if position < len(right) else None
                if ours != theirs:
                    found.append(Difference(table, f"live {ours} against replayed {theirs} ({VIEW_ORDER[table]})"))
                    break
    return found


__all__ = [
    "Difference",
    "ReplayError",
    "StopAt",
    "differences",
    "event_from_leaf",
    "replay_bundle",
    "replay_store",
    "view_digests",
]
