"""Snapshots of the decision state, kept in the store beside the log.

A writer opens from the latest snapshot and replays only the events after
its position. Each snapshot row carries its log position, the format of its
state and the SHA-256 of the state's JSON. A snapshot is never trusted
blindly: one whose digest does not match (corrupt), whose format is not
this release's, whose position is past the head of the log, or whose state
does not validate is ignored with a `SnapshotIgnored` warning, the next
older one is tried, and the writer rebuilds from the log and saves a fresh
one. Only the newest few are kept.
"""

from __future__ import annotations

import hashlib
import warnings
from datetime import datetime

from pydantic import ValidationError

from domain.snapshot import FORMAT, StateSnapshot
from domain.state import LedgerState
from ledger.store.ports import Backend
from ledger.tables import SNAPSHOTS_TABLE

SNAPSHOT_EVERY_EVENTS = 10_000
SNAPSHOTS_KEPT = 2


class SnapshotIgnored(UserWarning):
    """A stored snapshot could not be used; the state is rebuilt from the log."""


def save(backend: Backend, state: LedgerState, taken_at: datetime) -> int:
    """Stores a snapshot of `state` (outside a batch); returns its position."""
    text = state.snapshot().model_dump_json()
    digest = hashlib.sha256(text.encode()).hexdigest()
    with backend.views("snapshots") as session:
        session.execute(
            f"INSERT INTO {SNAPSHOTS_TABLE} VALUES (?, ?, ?, ?, ?) ON CONFLICT (position) DO NOTHING",  # noqa: S608
            (state.position, FORMAT, digest, taken_at.isoformat(), text),
        )
        kept = session.fetchall(
            f"SELECT position FROM {SNAPSHOTS_TABLE} ORDER BY position DESC LIMIT ?",  # noqa: S608
            (SNAPSHOTS_KEPT,),
        )
        # Older ones are not needed, and none can be ahead of the log.
        session.execute(
            f"DELETE FROM {SNAPSHOTS_TABLE} WHERE position < ? OR position > ?",  # noqa: S608
            (min(p for (p,) in kept), session.max_notification_id()),
        )
    return state.position


def load(backend: Backend) -> tuple[LedgerState | None, bool]:
    """The state of the newest usable snapshot (None for none), and whether a
    newer one had to be ignored."""
    ignored = False
    with backend.read() as session:
        head = session.max_notification_id()
        rows = session.fetchall(
            f"SELECT position, format, digest, state FROM {SNAPSHOTS_TABLE} ORDER BY position DESC"  # noqa: S608
        )
    for position, format_, digest, text in rows:
        usable = _usable(int(position), int(format_), str(digest), str(text), head)
        if isinstance(usable, StateSnapshot):
            return LedgerState.restored(usable), ignored
        warnings.warn(
            f"the snapshot at log position {position} is ignored ({usable}): rebuilding from the log",
            SnapshotIgnored,
            stacklevel=2,
        )
        ignored = True
    return None, ignored


def _usable(position: int, format_: int, digest: str, text: str, head: int) -> StateSnapshot | str:
    """The snapshot, or what is wrong with it."""
    if format_ != FORMAT:
        return f"format {format_}, this release reads {FORMAT}"
    if position > head:
        return f"it is ahead of the log, whose head is {head}"
    if hashlib.sha256(text.encode()).hexdigest() != digest:
        return "its digest does not match its state"
    try:
        snapshot = StateSnapshot.model_validate_json(text)
    except ValidationError as error:
        return f"its state does not validate: {error.errors()[0]['msg']}"
    if snapshot.position != position:
        return f"its state is of position {snapshot.position}"
    return snapshot
