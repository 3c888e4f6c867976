"""The events behind the report's rows, and the leaves of the signed log they are.

A supervisor who doubts a figure wants the events it came from, each with a
proof that it is in the log the bank signed. So the report reads, in the one
read transaction it reads the views in: every event of every settlement's
stream, every AML notice, every command refused under the domestic-only rule,
and the leaf index of each of them (`audit_leaves`, by notification id).
A row then carries the leaf indexes it was built from; the page links each to
a C2SP tlog-proof written beside it (`ledger.supervisor.proofs`).

Reading the events by topic is a scan of the log without decoding (the log has
no index on topics); the leaf indexes are read a range at a time. Both are
O(events) in the database and bounded in memory by what is cited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from domain.events import (
    AmlNotificationRecorded,
    FundsReturned,
    LedgerEvent,
    SettlementClosedByDelivery,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
)
from ledger.store.ports import Backend, ReadSession
from ledger.views import ReadModel, TransactionFilter, TransactionRow, event_topics

SETTLEMENT_EVENTS: tuple[type[LedgerEvent], ...] = (
    SettlementInitiated,
    FundsReturned,
    SettlementClosedByDelivery,
    SettlementOverdue,
    SettlementDeadlineExtended,
)
FOREIGN_VENUE_RULE = "FOREIGN_VENUE_FORBIDDEN"
PAGE = 1000
LEAF_RANGE = 100_000  # leaves read at a time when mapping notification ids to leaf indexes


@dataclass(frozen=True)
class Cited:
    """An event and where it is in the log."""

    event: LedgerEvent
    notification_id: int


@dataclass
class Evidence:
    settlements: dict[str, list[Cited]] = field(default_factory=dict)  # settlement id -> its events, in order
    aml: list[Cited] = field(default_factory=list)
    foreign_attempts: list[TransactionRow] = field(default_factory=list)
    commands: dict[str, TransactionRow] = field(default_factory=dict)  # key -> the command, for AML notices
    leaf_of: dict[int, int] = field(default_factory=dict)  # notification id -> leaf index

    def leaves(self, notification_ids: Iterable[int]) -> list[int]:
        """The leaf indexes of these events that the signed checkpoint covers, in order."""
        return sorted({self.leaf_of[n] for n in notification_ids if n in self.leaf_of})

    def settlement_leaves(self, settlement_id: str) -> list[int]:
        return self.leaves(c.notification_id for c in self.settlements.get(settlement_id, ()))

    def aml_leaves(self, notice: Cited) -> list[int]:
        """The notice's leaf and those of the operation it was raised on."""
        command = self.commands.get(notice.event.command_key)
        return self.leaves([notice.notification_id, *(command.notification_ids if command else ())])

    def cited(self) -> list[int]:
        return sorted(self.leaf_of.values())


def gather_evidence(reader: ReadModel, session: ReadSession, tree_size: int) -> Evidence:
    """The evidence, read inside the caller's read transaction over views at the log's head."""
    backend = reader.backend
    evidence = Evidence()
    for cited in _events_of(backend, session, SETTLEMENT_EVENTS):
        settlement_id = getattr(cited.event, "settlement_id")  # noqa: B009 (every settlement event has one)
        evidence.settlements.setdefault(settlement_id, []).append(cited)
    evidence.aml = list(_events_of(backend, session, (AmlNotificationRecorded,)))
    evidence.foreign_attempts = list(_rejections(reader, session, FOREIGN_VENUE_RULE))
    for notice in evidence.aml:
        row = reader.transaction_in(session, notice.event.command_key)
        if row is not None:
            evidence.commands[row.key] = row
    wanted = {c.notification_id for cs in evidence.settlements.values() for c in cs}
    wanted |= {c.notification_id for c in evidence.aml}
    wanted |= {n for row in (*evidence.foreign_attempts, *evidence.commands.values()) for n in row.notification_ids}
    evidence.leaf_of = _leaf_indexes(session, wanted, tree_size)
    return evidence


def _events_of(backend: Backend, session: ReadSession, classes: Sequence[type[LedgerEvent]]) -> Iterator[Cited]:
    topics = event_topics(tuple(cls.__name__ for cls in classes))
    position = 0
    while True:
        entries = session.notifications_of(topics, position, PAGE)
        for entry in entries:
            yield Cited(backend.mapper.to_domain_event(entry), entry.id)
        if len(entries) < PAGE:
            return
        position = entries[-1].id


def _rejections(reader: ReadModel, session: ReadSession, rule: str) -> Iterator[TransactionRow]:
    where = TransactionFilter(status="rejected", rule=rule)
    cursor: str | None = None
    while True:
        page = reader.transactions_in(session, where, limit=500, cursor=cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _leaf_indexes(session: ReadSession, wanted: set[int], tree_size: int) -> dict[int, int]:
    found: dict[int, int] = {}
    if not wanted:
        return found
    for start in range(0, tree_size, LEAF_RANGE):
        rows = session.fetchall(
            "SELECT leaf_index, notification_id FROM audit_leaves WHERE leaf_index >= ? AND leaf_index < ?",
            (start, min(start + LEAF_RANGE, tree_size)),
        )
        for leaf, notification in rows:
            if int(notification) in wanted:
                found[int(notification)] = int(leaf)
        if len(found) == len(wanted):
            break
    return found
