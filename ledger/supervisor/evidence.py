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
from datetime import UTC, date, datetime, tzinfo
from typing import cast

from domain.calendar import ledger_day
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
    commands: dict[str, TransactionRow] = field(default_factory=dict)  # key -> the command (AML notices, reversals)
    lifecycle: list[int] = field(default_factory=list)  # the notification id of each lifecycle change, in order
    leaf_of: dict[int, int] = field(default_factory=dict)  # notification id -> leaf index
    zone: tzinfo = UTC  # the bank's: its days are the ledger's days

    def day(self, moment: datetime | str) -> date:
        """The ledger day of a moment (a view's RFC 3339 text or a datetime), in the bank's zone."""
        when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return ledger_day(when, self.zone)

    def leaves(self, notification_ids: Iterable[int]) -> list[int]:
        """The leaf indexes of these events that the signed checkpoint covers, in order."""
        return sorted({self.leaf_of[n] for n in notification_ids if n in self.leaf_of})

    def settlement_leaves(self, settlement_id: str) -> list[int]:
        return self.leaves(c.notification_id for c in self.settlements.get(settlement_id, ()))

    def aml_leaves(self, notice: Cited) -> list[int]:
        """The notice's leaf and those of every operation it covers (the one it was raised on included)."""
        keys = {notice.event.command_key, *_covered(notice.event)}
        ids = [n for key in keys if key in self.commands for n in self.commands[key].notification_ids]
        return self.leaves([notice.notification_id, *ids])

    def command_leaves(self, *keys: str) -> list[int]:
        """The leaves of the commands with these keys."""
        return self.leaves(n for key in keys if key in self.commands for n in self.commands[key].notification_ids)

    def cited(self) -> list[int]:
        return sorted(self.leaf_of.values())


def gather_evidence(reader: ReadModel, session: ReadSession, tree_size: int, keys: Sequence[str] = ()) -> Evidence:
    """The evidence, read inside the caller's read transaction over views at the log's head, with the
    commands of `keys` besides those the AML notices and reversals name."""
    backend = reader.backend
    evidence = Evidence(zone=reader.time_zone(session))
    for cited in events_of(backend, session, SETTLEMENT_EVENTS):
        settlement_id = getattr(cited.event, "settlement_id")  # noqa: B009 (every settlement event has one)
        evidence.settlements.setdefault(settlement_id, []).append(cited)
    evidence.aml = list(events_of(backend, session, (AmlNotificationRecorded,)))
    evidence.foreign_attempts = list(_rejections(reader, session, FOREIGN_VENUE_RULE))
    reversed_keys = [key for row in reader.reversal_rows(session) for key in (row.original_key, row.reversal_key)]
    aml_keys = [key for notice in evidence.aml for key in (notice.event.command_key, *_covered(notice.event))]
    for key in aml_keys + reversed_keys + list(keys):
        row = reader.transaction_in(session, key)
        if row is not None:
            evidence.commands[row.key] = row
    evidence.lifecycle = [int(n) for (n,) in session.fetchall("SELECT event_id FROM view_lifecycle ORDER BY event_id")]
    wanted = {c.notification_id for cs in evidence.settlements.values() for c in cs}
    wanted |= {c.notification_id for c in evidence.aml} | set(evidence.lifecycle)
    wanted |= {n for row in (*evidence.foreign_attempts, *evidence.commands.values()) for n in row.notification_ids}
    evidence.leaf_of = leaf_indexes(session, wanted, tree_size)
    return evidence


def _covered(event: LedgerEvent) -> tuple[str, ...]:
    """The keys of the operations an AML notice covers (linked operations)."""
    return cast(AmlNotificationRecorded, event).covered


def events_of(backend: Backend, session: ReadSession, classes: Sequence[type[LedgerEvent]]) -> Iterator[Cited]:
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


def leaf_indexes(session: ReadSession, wanted: set[int], tree_size: int) -> dict[int, int]:
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
