"""The audit log kept beside the events: leaf hashes, the compact range, signed checkpoints.

The log follows the notification log like a projection, page by page under
the views' lock, with its own tracking position recorded by the library's
tracking recorder in the same transaction. So the tree grows by exactly the
events committed, once each; a checkpoint after N new events costs about N
hashes. Leaf bytes are not stored: they are recomputed from the events when
a bundle is exported, and must hash to what is stored here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.events import LedgerEvent
from ledger.audit.guard import SigningGuard
from ledger.audit.leaves import leaf_bytes
from ledger.audit.merkle import CompactRange, leaf_hash
from ledger.audit.notes import Checkpoint, Signer, sign
from ledger.audit.tiles import TILE_WIDTH, TiledHashes, store_full_tiles
from ledger.follow import follow_tracked
from ledger.store.ports import Backend, LogEntry, ReadSession, WriteSession
from ledger.tables import AUDIT_TABLES, AUDIT_TRACKING_NAME

_log = logging.getLogger(__name__)

PAGE_SIZE = 2000
CHECKPOINT_EVERY_EVENTS = 1000
CHECKPOINT_EVERY_SECONDS = 3600


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    note: str
    signed_at: str


class AuditLog:
    def __init__(self, backend: Backend, decode: Callable[[Any], Any], origin: str) -> None:
        self.backend = backend
        self.decode = decode
        self.origin = origin
        self._pending_events = 0
        self._checkpointed_at: datetime | None = None
        # Set by the sandbox, which knows the signer's home: with a guard, a
        # tree that does not extend what the key last signed is not signed.
        self.guard: SigningGuard | None = None
        self._tiles_complete = False

    def set_up(self) -> None:
        with self.backend.views("audit") as session:
            for table, columns in AUDIT_TABLES.items():
                session.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")

    # Growing the tree.

    def catch_up(self, *, progress: Callable[[int], None] | None = None) -> int:
        appended = follow_tracked(
            self.backend, AUDIT_TRACKING_NAME, self._append, page_size=PAGE_SIZE, lock="audit", progress=progress
        )
        if not appended and not self._tiles_complete:
            self._complete_tiles()  # a store made before tiles gets them here, once
            self._tiles_complete = True
        return appended

    def _complete_tiles(self) -> None:
        with self.backend.read() as session:
            size = self._tree(session).size
            behind = size >= TILE_WIDTH and not session.fetchall(
                "SELECT 1 FROM audit_tiles WHERE tile_level = 0 AND tile_index = ?", (size // TILE_WIDTH - 1,)
            )
        if behind:
            with self.backend.views("audit") as writing:
                store_full_tiles(writing, self._tree(writing).size)

    def append_batch(
        self, session: WriteSession, after: int, events: Sequence[LedgerEvent], ids: Sequence[int]
    ) -> bool:
        """Logs a batch's events inside the write transaction that appends
        them, from the events as the write path holds them, when the audit
        log stood at the head the batch appended to (else they wait for
        `catch_up`); so no event is ever committed unlogged, and an event
        changed afterwards no longer hashes to its leaf. Returns whether it did."""
        if not events:
            return False
        session.lock_views("audit")
        if session.tracking_position(AUDIT_TRACKING_NAME) != after:
            return False
        self._log(session, zip(ids, events, strict=True))
        session.advance_tracking(AUDIT_TRACKING_NAME, ids[-1])
        return True

    def _append(self, session: WriteSession, entries: Sequence[LogEntry]) -> None:
        self._log(session, ((entry.id, self.decode(entry)) for entry in entries))

    def _log(self, session: WriteSession, events: Iterable[tuple[int, LedgerEvent]]) -> None:
        tree = self._tree(session)
        first = tree.size == 0
        rows = []
        for notification_id, event in events:
            digest = leaf_hash(leaf_bytes(tree.size, event))
            rows.append((tree.size, notification_id, digest.hex()))
            tree.append(digest)
        session.executemany("INSERT INTO audit_leaves VALUES (?, ?, ?)", rows)
        self._save_tree(session, tree, first=first)
        store_full_tiles(session, tree.size)

    def _tree(self, session: ReadSession) -> CompactRange:
        rows = session.fetchall("SELECT tree_size, compact_range FROM audit_tree WHERE singleton = 1")
        if not rows:
            return CompactRange()
        size, hashes = rows[0]
        return CompactRange(int(size), [bytes.fromhex(h) for h in hashes.split(",") if h])

    def _save_tree(self, session: WriteSession, tree: CompactRange, *, first: bool) -> None:
        # An insert, then updates, never an upsert: the guards refuse any
        # insert of a row that exists (on SQLite they fire before conflict
        # resolution) and any update that does not grow the tree.
        hashes = ",".join(h.hex() for h in tree.hashes)
        if first:
            session.execute("INSERT INTO audit_tree VALUES (1, ?, ?)", (tree.size, hashes))
        else:
            session.execute(
                "UPDATE audit_tree SET tree_size = ?, compact_range = ? WHERE singleton = 1", (tree.size, hashes)
            )

    def tree(self) -> CompactRange:
        with self.backend.read() as session:
            return self._tree(session)

    def tree_in(self, session: ReadSession) -> CompactRange:
        """The stored tree as `session` sees it (with other reads of one snapshot)."""
        return self._tree(session)

    # Checkpoints.

    def checkpoint(self, signer: Signer, now: datetime) -> StoredCheckpoint:
        """Signs a checkpoint at the current size, unless one exists already."""
        self.catch_up()
        with self._one_signer():
            with self.backend.views("audit") as session:
                tree = self._tree(session)
                existing = session.fetchall(
                    "SELECT tree_size, note, signed_at FROM audit_checkpoints WHERE tree_size = ?", (tree.size,)
                )
                if existing:
                    stored, signed = StoredCheckpoint(*existing[0]), False
                else:
                    stored, signed = (
                        StoredCheckpoint(tree.size, self._sign(session, tree, [signer]), now.isoformat()),
                        True,
                    )
                    session.execute(
                        "INSERT INTO audit_checkpoints VALUES (?, ?, ?)",
                        (stored.size, stored.note, stored.signed_at),
                    )
            if signed:
                self._remember(stored.note)
                _log.info("checkpoint signed at size %d", stored.size, extra={"size": stored.size})
        self._pending_events, self._checkpointed_at = 0, now
        return stored

    def sign_head(self, signer: Signer) -> int | None:
        """Signs the current tree as the guard's head only (kept beside the
        key, not in the store's history of checkpoints): every write batch is
        covered by a signature at once, and the store's checkpoints stay one
        every N events. Returns the size signed, None if nothing was new."""
        self.catch_up()
        if self.guard is None:
            return None
        with self._one_signer(), self.backend.read() as session:
            tree = self._tree(session)
            if self.guard.holds(tree.size, [signer.verifier]):
                return None
            self._remember(self._sign(session, tree, [signer]))
        return tree.size

    def _sign(self, session: ReadSession, tree: CompactRange, signers: list[Signer]) -> str:
        if self.guard is not None:
            self.guard.check(self, session, tree, [signer.verifier for signer in signers])
        return sign(Checkpoint(self.origin, tree.size, tree.root()).text(), signers)

    def _one_signer(self) -> AbstractContextManager[None]:
        return self.guard.held() if self.guard is not None else nullcontext()

    def _remember(self, note: str) -> None:
        if self.guard is not None:
            self.guard.record(note)

    def hand_over(self, signers: list[Signer], now: datetime) -> StoredCheckpoint:
        """A key rotation's checkpoint: the current size, signed by every one of
        `signers` (the old key and the new), replacing a checkpoint of the same
        size that fewer keys signed."""
        self.catch_up()
        with self._one_signer():
            with self.backend.views("audit") as session:
                tree = self._tree(session)
                stored = StoredCheckpoint(tree.size, self._sign(session, tree, signers), now.isoformat())
                # Signed again, not rewritten: the guards let a stored checkpoint's
                # signatures change and nothing else (and refuse upserts).
                if session.fetchall("SELECT 1 FROM audit_checkpoints WHERE tree_size = ?", (tree.size,)):
                    statement = "UPDATE audit_checkpoints SET note = ?, signed_at = ? WHERE tree_size = ?"
                    session.execute(statement, (stored.note, stored.signed_at, stored.size))
                else:
                    session.execute(
                        "INSERT INTO audit_checkpoints VALUES (?, ?, ?)", (stored.size, stored.note, stored.signed_at)
                    )
            self._remember(stored.note)
        self._pending_events, self._checkpointed_at = 0, now
        return stored

    def maybe_checkpoint(
        self,
        signer: Signer,
        now: datetime,
        appended: int,
        *,
        every_events: int = CHECKPOINT_EVERY_EVENTS,
        every_seconds: int = CHECKPOINT_EVERY_SECONDS,
    ) -> StoredCheckpoint | None:
        """Counts `appended` new events and signs once `every_events` have
        come, or `every_seconds` have passed since the last checkpoint with
        something new; cheap when neither has."""
        self._pending_events += appended
        if self._pending_events == 0:
            return None
        if self._checkpointed_at is None:
            latest = self.latest_checkpoint()
            self._checkpointed_at = (
                datetime.fromisoformat(latest.signed_at) if latest else datetime.min.replace(tzinfo=now.tzinfo)
            )
        elapsed = (now - self._checkpointed_at).total_seconds()
        if self._pending_events < every_events and elapsed < every_seconds:
            return None
        return self.checkpoint(signer, now)

    def checkpoints(self, *, after: int = -1) -> list[StoredCheckpoint]:
        with self.backend.read() as session:
            rows = session.fetchall(
                "SELECT tree_size, note, signed_at FROM audit_checkpoints WHERE tree_size > ? ORDER BY tree_size",
                (after,),
            )
        return [StoredCheckpoint(int(size), note, signed_at) for size, note, signed_at in rows]

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        found = self.checkpoints()
        return found[-1] if found else None

    # Reading the tree back.

    def hash_range(self, start: int, end: int) -> bytes:
        """The Merkle hash of leaves [start, end), from the stored tiles: O(log n) reads."""
        with self.backend.read() as session:
            return TiledHashes(session).hash_range(start, end)

    @contextmanager
    def tiled(self) -> Iterator[TiledHashes]:
        """The stored tree's hashes in one read transaction (many proofs, one snapshot)."""
        with self.backend.read() as session:
            yield TiledHashes(session)

    def compact_range_at(self, size: int) -> CompactRange:
        """The compact range of the first `size` leaves, from the stored hashes."""
        hashes, start = [], 0
        for bit in reversed(range(size.bit_length())):
            if size >> bit & 1:
                hashes.append(self.hash_range(start, start + (1 << bit)))
                start += 1 << bit
        return CompactRange(size, hashes)

    def leaves(self, start: int, end: int) -> Iterator[bytes]:
        """Leaf bytes for [start, end), recomputed from the events in order."""
        for index, event in enumerate(self.events(start, end), start):
            yield leaf_bytes(index, event)

    def events(self, start: int, end: int) -> Iterator[Any]:
        """The events of leaves [start, end), in order."""
        if start >= end:
            return
        position = self.notification_before(start)
        index = start
        while index < end:
            notifications = self.backend.notifications_after(position, min(PAGE_SIZE, end - index))
            assert notifications, (index, end)
            for notification in notifications:
                yield self.decode(notification)
            index += len(notifications)
            position = notifications[-1].id

    def notification_before(self, index: int) -> int:
        """The notification id just before leaf `index`'s event (every event is a leaf, in order)."""
        with self.backend.read() as session:
            rows = session.fetchall("SELECT notification_id FROM audit_leaves WHERE leaf_index = ?", (index,))
        return int(rows[0][0]) - 1
