"""The one page loop over the log that every follower uses: the views, the audit log, the decision state.

A follower reads the log a page at a time after the position it has
reached, applies the page, and moves its position to the page's last event.
A tracked follower (the views, the audit log) keeps its position in the
library's tracking table, written in the transaction that applies the page,
so that each event is applied exactly once and a page that fails is applied
again whole; the decision state keeps its position in memory.

`PLAIN_TOPICS` is the one definition of the events a follower may apply by
their postings alone (`domain.events.PLAIN_TRANSACTIONS`, as stored);
`STATE_PLAIN_TOPICS` those of them the decision state may.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eventsourcing.utils import get_topic

from domain.events import AML_OPERATIONS, PLAIN_TRANSACTIONS
from ledger.store.ports import Backend, LogEntry, WriteSession

Page = Sequence[LogEntry]
# Upcast classes are decoded whole: their stored state is of an older shape.
PLAIN_TOPICS = frozenset(get_topic(cls) for cls in PLAIN_TRANSACTIONS if cls.class_version == 1)
# What the decision state applies by postings alone: the plain transactions
# that are no client's operation for AML (those it notes in the client's window).
STATE_PLAIN_TOPICS = PLAIN_TOPICS - {get_topic(cls) for cls in AML_OPERATIONS}


def follow(read: Callable[[int, int], Page], position: int, apply: Callable[[Page], None], page_size: int) -> int:
    """Applies every page after `position` that `read(after, limit)` gives;
    returns how many events were applied."""
    applied = 0
    while page := read(position, page_size):
        apply(page)
        position = page[-1].id
        applied += len(page)
    return applied


def follow_tracked(
    backend: Backend,
    name: str,
    apply: Callable[[WriteSession, Page], None],
    *,
    page_size: int,
    lock: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The tracked follower `name` to the head of the log, a page per
    transaction under its `lock`; returns how many events were applied."""
    applied = 0
    while True:
        with backend.views(lock) as session:
            page = session.notifications_after(session.tracking_position(name), page_size)
            if not page:
                return applied
            apply(session, page)
            session.advance_tracking(name, page[-1].id)
        applied += len(page)
        if progress is not None:
            progress(len(page))


def follow_in(session: WriteSession, name: str, apply: Callable[[WriteSession, Page], None], *, page_size: int) -> int:
    """The tracked follower `name` to the head inside `session`'s transaction
    (the write path's: what it applies commits with the events it shows)."""

    def apply_and_track(page: Page) -> None:
        apply(session, page)
        session.advance_tracking(name, page[-1].id)

    return follow(session.notifications_after, session.tracking_position(name), apply_and_track, page_size)
