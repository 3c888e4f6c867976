"""Checks the store against the signed tree: what an insider with the database could change.

The audit log stores one hash a leaf, and leaves are recomputed from the
events when a bundle is exported, so an event edited, deleted or inserted
behind the ledger's back shows up as a leaf that no longer hashes to what
was logged, or a leaf whose event is not the one logged. A rewrite of the
audit tables to match shows up against the signed checkpoints (kept by the
signer outside the database as well: `ledger.audit.guard`). And an
idempotency record that does not match the events it names would answer a
retry with another command's outcome.

`check_store` walks the whole store once, in pages, in constant memory, and
names the first difference; `check_new_leaves` checks the leaves a signer is
about to sign for the first time; `record_mismatch` checks one idempotency
record, for the write path's retries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from domain.events import CommandRejected, LedgerEvent
from ledger.audit.leaves import leaf_bytes
from ledger.audit.merkle import CompactRange, leaf_hash, root_of
from ledger.audit.notes import Checkpoint, NoteError, Verifier, open_checkpoint
from ledger.audit.tiles import TILE_WIDTH
from ledger.progress import Advance, ProgressStart, no_progress
from ledger.store.ports import COMMANDS_TABLE, LogEntry, ReadSession

PAGE_SIZE = 2000


@dataclass(frozen=True)
class Difference:
    """The first thing in the store that is not what was logged and signed."""

    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass
class StoreCheck:
    """What `check_store` read, and the first difference (None: the store is what was signed)."""

    difference: Difference | None = None
    leaves: int = 0
    events: int = 0
    records: int = 0
    checkpoints: int = 0

    @property
    def intact(self) -> bool:
        return self.difference is None


class RecordMismatch(Exception):
    """An idempotency record that does not match the events it names: a retry
    is not answered from it. The message names the record and the difference."""


def check_record(session: ReadSession, decode: Callable[[LogEntry], LedgerEvent], key: str, stored: str) -> None:
    """Raises `RecordMismatch` unless the record of `key` matches its events."""
    try:
        ids = sorted(_record_ids(stored))
        problem = record_mismatch(key, stored, [(e.id, _decoded(decode, e)) for e in session.notifications_at(ids)])
    except _Found as found:
        problem = str(found.difference)
    if problem is not None:
        raise RecordMismatch(
            f"the idempotency record of command {key!r} does not match the store: {problem}; "
            "the store was changed outside the ledger: run 'ledger audit check-store'"
        )


class _Found(Exception):
    def __init__(self, difference: Difference) -> None:
        self.difference = difference


def _differs(subject: str, reason: str) -> _Found:
    return _Found(Difference(subject, reason))


# One idempotency record against its events.


def record_mismatch(key: str, stored: str, events: Sequence[tuple[int, LedgerEvent]]) -> str | None:
    """Why the record of command `key` (its stored result) does not match
    `events` (notification id, event) at the ids it names; None if it does."""
    try:
        result = json.loads(stored)
        ids = [int(i) for i in result["notification_ids"]]
    except (ValueError, KeyError, TypeError):
        return "it cannot be read"
    found = dict(events)
    if missing := [i for i in ids if i not in found]:
        return f"it names event {missing[0]}, which is not in the store"
    for i in ids:
        if problem := _event_mismatch(key, result, i, found[i]):
            return problem
    first = min(ids)  # a command's stream is its first event's
    if str(found[first].originator_id) != result.get("stream"):
        stream = found[first].originator_id
        return f"it names stream {result.get('stream')}, but its first event {first} is of stream {stream}"
    return None


def _event_mismatch(key: str, result: dict[str, Any], notification_id: int, event: LedgerEvent) -> str | None:
    if event.command_key != key:
        return f"it names event {notification_id}, which command {event.command_key!r} wrote"
    rejected = isinstance(event, CommandRejected)
    if rejected != (result.get("status") == "rejected"):
        return f"it says {result.get('status')!r}, but event {notification_id} is a {type(event).__name__}"
    if isinstance(event, CommandRejected):
        recorded = (result.get("command_type"), result.get("rule"), result.get("reason"), result.get("details"))
        if recorded != (event.command_type, event.rule, event.reason, event.details):
            return f"its rejection is not the one event {notification_id} records ({event.rule})"
    return None


# The walk over the store.


@dataclass
class _Walk:
    """Compares leaves [start, end) with the events, and the events' commands
    with their records, page by page; feeds each leaf's hash to `on_leaf`."""

    audit: Any  # an AuditLog (not imported: it imports this module)
    start: int
    end: int
    last_event: int
    on_leaf: Callable[[int, bytes], None] = lambda _index, _digest: None
    check: StoreCheck = field(default_factory=StoreCheck)

    session: ReadSession | None = None  # one to read everything in, else a read transaction a page

    def run(self) -> None:
        index, position = self.start, -1
        while True:
            with self._reading() as session:
                if position < 0:
                    position = self._position_before(session, self.start)
                    self.last_event = self._last_event(session) if self.last_event < 0 else self.last_event
                if position >= self.last_event:
                    break
                entries = [e for e in session.notifications_after(position, PAGE_SIZE) if e.id <= self.last_event]
                if not entries:
                    break
                stored = self._stored_leaves(session, index, index + len(entries))
                events = [(entry.id, _decoded(self.audit.decode, entry)) for entry in entries]
                self._compare_page(index, entries, events, stored)
                self._check_records(session, events)
            index += len(entries)
            position = entries[-1].id
        if index < self.end:
            with self._reading() as session:
                rows = session.fetchall("SELECT notification_id FROM audit_leaves WHERE leaf_index = ?", (index,))
            raise _differs(
                f"leaf {index}", f"its event {rows[0][0] if rows else '?'} is not in the store: it was deleted"
            )

    def _reading(self) -> AbstractContextManager[ReadSession]:
        return nullcontext(self.session) if self.session is not None else self.audit.backend.read()

    def _position_before(self, session: ReadSession, index: int) -> int:
        if index == 0:
            return 0
        rows = session.fetchall("SELECT notification_id FROM audit_leaves WHERE leaf_index = ?", (index - 1,))
        if not rows:
            raise _differs(f"leaf {index - 1}", "it is missing from the audit log")
        return int(rows[0][0])

    def _last_event(self, session: ReadSession) -> int:
        """The event of the walk's last leaf (a walk of new leaves only)."""
        rows = session.fetchall("SELECT notification_id FROM audit_leaves WHERE leaf_index = ?", (self.end - 1,))
        return int(rows[0][0]) if rows else 0

    def _stored_leaves(self, session: ReadSession, start: int, end: int) -> list[tuple[int, int, str]]:
        end = min(end, self.end)
        if start >= end:
            return []
        rows = session.fetchall(
            "SELECT leaf_index, notification_id, leaf_hash FROM audit_leaves "
            "WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
            (start, end),
        )
        return [(int(i), int(n), str(h)) for i, n, h in rows]

    def _compare_page(
        self,
        index: int,
        entries: list[LogEntry],
        events: list[tuple[int, LedgerEvent]],
        stored: list[tuple[int, int, str]],
    ) -> None:
        logged = min(len(entries), self.end - index)
        for offset in range(max(logged, 0)):
            self._compare_leaf(index + offset, entries[offset].id, events[offset][1], stored[offset : offset + 1])
        self.check.events += len(entries)

    def _compare_leaf(
        self, index: int, notification_id: int, event: LedgerEvent, stored: list[tuple[int, int, str]]
    ) -> None:
        if not stored or stored[0][0] != index:
            raise _differs(f"leaf {index}", "it is missing from the audit log")
        _, logged_id, logged_hash = stored[0]
        if notification_id < logged_id:
            raise _differs(f"leaf {index}", f"event {notification_id} stands before its event {logged_id}: inserted")
        if notification_id > logged_id:
            raise _differs(f"leaf {index}", f"its event {logged_id} is not in the store: it was deleted")
        digest = leaf_hash(leaf_bytes(index, event))
        if digest.hex() != logged_hash:
            raise _differs(
                f"leaf {index} (event {notification_id})",
                "the stored event no longer hashes to the logged leaf: it was changed after it was logged",
            )
        self.check.leaves += 1
        self.on_leaf(index, digest)

    def _check_records(self, session: ReadSession, events: list[tuple[int, LedgerEvent]]) -> None:
        keys = sorted({event.command_key for _, event in events})
        records = _records(session, keys)
        by_id = dict(events)
        parsed: dict[str, set[int]] = {}
        for notification_id, event in events:
            record = records.get(event.command_key)
            subject = f"idempotency record {event.command_key!r}"
            if record is None:
                raise _differs(
                    subject, f"it is missing, though event {notification_id} names it: a retry would run again"
                )
            ids = parsed.get(event.command_key) or parsed.setdefault(event.command_key, _record_ids(record))
            if notification_id not in ids:
                raise _differs(subject, f"it does not name event {notification_id}, which its command wrote")
            if notification_id == min(ids):  # each record checked once, at its first event
                named = [(i, by_id[i]) for i in sorted(ids) if i in by_id] if max(ids) <= events[-1][0] else None
                self._check_record(session, event.command_key, record, named)

    def _check_record(
        self, session: ReadSession, key: str, record: str, named: list[tuple[int, LedgerEvent]] | None
    ) -> None:
        if named is None:  # the record's events run on into the next page
            ids = sorted(_record_ids(record))
            named = [(entry.id, _decoded(self.audit.decode, entry)) for entry in session.notifications_at(ids)]
        if problem := record_mismatch(key, record, named):
            raise _differs(f"idempotency record {key!r}", problem)
        self.check.records += 1


def _decoded(decode: Callable[[LogEntry], LedgerEvent], entry: LogEntry) -> LedgerEvent:
    try:
        return decode(entry)
    except Exception as error:  # whatever the store holds, it is a finding, not a crash
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise _differs(f"event {entry.id}", f"it cannot be read as a {entry.topic} ({first}): it was changed") from None


def _records(session: ReadSession, keys: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for begin in range(0, len(keys), 500):
        chunk = keys[begin : begin + 500]
        marks = ",".join("?" * len(chunk))
        statement = f"SELECT key, result FROM {COMMANDS_TABLE} WHERE key IN ({marks})"  # noqa: S608 (placeholders only)
        found.update({str(key): str(result) for key, result in session.fetchall(statement, chunk)})
    return found


def _records_with_events(session: ReadSession) -> int:
    """How many records name events (a command may write none: a deadline
    check that found nothing due); results are stored as compact JSON."""
    statement = f"SELECT count(*) FROM {COMMANDS_TABLE} WHERE result NOT LIKE ?"  # noqa: S608
    return int(session.fetchall(statement, ('%"notification_ids":[]%',))[0][0])


def _record_ids(record: str) -> set[int]:
    try:
        return {int(i) for i in json.loads(record)["notification_ids"]}
    except (ValueError, KeyError, TypeError):
        return set()


# Rebuilding the tree as the walk goes: roots, the compact range, the tiles.


@dataclass
class _Rebuilt:
    """The tree of the recomputed leaves, compared as it grows with the signed
    roots, the stored full tiles and, at its end, the stored compact range."""

    audit: Any
    signed: dict[int, Checkpoint]
    tree: CompactRange = field(default_factory=CompactRange)
    levels: list[list[bytes]] = field(default_factory=list)
    matched: int = 0  # the size of the last signed root matched

    def add(self, index: int, digest: bytes) -> None:
        self.tree.append(digest)
        self._add_to_tile(0, index // TILE_WIDTH, digest)
        signed = self.signed.get(self.tree.size)
        if signed is not None:
            self._compare_root(signed)

    def _compare_root(self, signed: Checkpoint) -> None:
        if self.tree.root() != signed.root:
            raise _differs(
                f"checkpoint {signed.size}",
                f"leaves [{self.matched}, {signed.size}) no longer hash to its signed root: "
                "the events and the audit log's hashes were rewritten together",
            )
        self.matched = signed.size

    def _add_to_tile(self, level: int, index: int, digest: bytes) -> None:
        while len(self.levels) <= level:
            self.levels.append([])
        hashes = self.levels[level]
        hashes.append(digest)
        if len(hashes) == TILE_WIDTH:
            self._compare_tile(level, index, hashes)
            self.levels[level] = []
            self._add_to_tile(level + 1, index // TILE_WIDTH, root_of(hashes))

    def _compare_tile(self, level: int, index: int, hashes: list[bytes]) -> None:
        with self.audit.backend.read() as session:
            rows = session.fetchall(
                "SELECT hashes FROM audit_tiles WHERE tile_level = ? AND tile_index = ?", (level, index)
            )
        if not rows:
            return  # not stored yet: tiles are stored by the audit log's next page, or backfilled
        if rows[0][0] != b"".join(hashes).hex():
            raise _differs(f"tile {level}/{index}", "its stored hashes are not the recomputed leaves' hashes")

    def finish(self, stored: CompactRange, unmatched: list[int]) -> None:
        if unmatched:
            size = unmatched[0]
            raise _differs(f"checkpoint {size}", f"the audit log holds {self.tree.size} leaves, fewer than it signed")
        if stored.hashes != self.tree.hashes:
            raise _differs("the audit log's tree", "its stored compact range is not the recomputed leaves' range")


def signed_checkpoints(audit: Any, verifiers: list[Verifier], head: Checkpoint | None) -> list[Checkpoint]:
    """The store's checkpoints, each checked under the log's keys, and the
    signer's head; one that does not verify, or a head the store does not
    hold where it holds a checkpoint of that size, is a difference."""
    signed = {}
    for stored in audit.checkpoints():
        try:
            signed[stored.size] = open_checkpoint(stored.note, verifiers)[0]
        except NoteError as error:
            reason = f"its signature does not verify under the log's keys: {error}"
            raise _differs(f"checkpoint {stored.size}", reason) from None
        if signed[stored.size].size != stored.size:
            raise _differs(
                f"checkpoint {stored.size}", f"it is filed under {stored.size} but signs {signed[stored.size].size}"
            )
    if head is not None:
        known = signed.get(head.size)
        if known is not None and known.root != head.root:
            raise _differs(f"checkpoint {head.size}", "its root is not the one the signer kept beside its key")
        signed[head.size] = head
    return [signed[size] for size in sorted(signed)]


def check_store(
    audit: Any,
    verifiers: list[Verifier],
    head: Checkpoint | None,
    *,
    progress: ProgressStart = no_progress,
) -> StoreCheck:
    """Recomputes every leaf from the stored events and checks it, the stored
    hashes, tiles and tree, and every idempotency record, against what was
    logged and the signed checkpoints (the store's, under `verifiers`, and
    the signer's `head`); the first difference is named. `progress` is
    started with the leaves to check (`ledger.progress`)."""
    try:
        signed = signed_checkpoints(audit, verifiers, head)
    except _Found as found:
        return StoreCheck(found.difference)
    with audit.backend.read() as session:
        size = audit.tree_in(session).size
        last_event = session.max_notification_id()
        records = _records_with_events(session)
    by_size = {checkpoint.size: checkpoint for checkpoint in signed}
    rebuilt = _Rebuilt(audit, by_size)

    shown: list[Advance] = []  # the progress's, once started

    def on_leaf(index: int, digest: bytes) -> None:
        rebuilt.add(index, digest)
        done = index + 1
        if done % PAGE_SIZE == 0 or done == size:  # told a page at a time, and the last part page
            shown[0](done - (done - 1) // PAGE_SIZE * PAGE_SIZE)

    walk = _Walk(audit, 0, size, last_event, on_leaf)
    walk.check.checkpoints = len(by_size)
    try:
        with progress("checking leaves", total=size) as advance:
            shown.append(advance)
            walk.run()
        rebuilt.finish(audit.tree(), sorted(s for s in by_size if s > size))
        if walk.check.records != records:
            raise _orphan_record(audit, records - walk.check.records)
    except _Found as found:
        walk.check.difference = found.difference
    return walk.check


def check_new_leaves(
    audit: Any,
    start: int,
    end: int,
    *,
    session: ReadSession | None = None,
    extending: tuple[CompactRange, bytes] | None = None,
) -> Difference | None:
    """Checks leaves [start, end), about to be signed for the first time, and
    their commands' records, against the stored events (read in `session`,
    if given). With `extending` (the compact range of the first `start`
    leaves as last signed, and the stored tree's root), the recomputed
    leaves must also extend that range to that root."""
    if start >= end:
        return None
    walk = _Walk(audit, start, end, -1, session=session)
    tree = extending[0].copy() if extending is not None else None
    if tree is not None:
        walk.on_leaf = lambda _index, digest: tree.append(digest)
    try:
        walk.run()
    except _Found as found:
        return found.difference
    if tree is not None and extending is not None and tree.root() != extending[1]:
        return Difference("the audit log's tree", f"the new leaves from {start} on do not extend the tree last signed")
    return None


def _orphan_record(audit: Any, count: int) -> _Found:
    """The first record whose command wrote none of the events it names."""
    position = ""
    while True:
        with audit.backend.read() as session:
            rows = session.fetchall(
                f"SELECT key, result FROM {COMMANDS_TABLE} WHERE key > ? ORDER BY key LIMIT 500",  # noqa: S608
                (position,),
            )
            for key, result in rows:
                named = [
                    (entry.id, audit.decode(entry)) for entry in session.notifications_at(sorted(_record_ids(result)))
                ]
                if problem := record_mismatch(str(key), str(result), named):
                    return _differs(f"idempotency record {key!r}", problem)
        if not rows:
            return _differs("idempotency records", f"{count} more than the commands in the store")
        position = str(rows[-1][0])
