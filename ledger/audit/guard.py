"""The signer's own memory: it never signs a tree that does not extend the last one it signed.

An insider with the database can rewrite events and the audit tables alike,
and a signer that trusted the database would sign the rewritten history as
genuine at its next write. So the signer keeps the last checkpoint it signed
outside the database, beside its key (`keys/signed-head`), and before each
signature it checks, from the stored hashes, a consistency proof from that
checkpoint to the tree it is about to sign, and recomputes the new leaves
from the stored events (`ledger.audit.store_check`). Any difference is a
`SigningRefused` naming it; nothing is signed.

The file is written after the database has committed the checkpoint, by
renaming a complete copy into place, under a lock shared by every process of
the home. A file lost or behind the database is the weaker case, never a
false refusal: the signer then takes the newest checkpoint in the store that
its key signed, as a new signer must.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.audit.merkle import CompactRange, ProofError, consistency_proof, verify_consistency
from ledger.audit.notes import Checkpoint, Note, NoteError, Verifier, open_checkpoint
from ledger.audit.store_check import check_new_leaves
from ledger.audit.tiles import TiledHashes
from ledger.store.ports import ReadSession

SIGNED_HEAD_FILE = "keys/signed-head"
_HEAD_SIZE_MAX = 64 * 1024


class SigningRefused(Exception):
    """The tree the signer was asked to sign is not one it may sign; the message says why."""


@dataclass(frozen=True)
class SignedHead:
    """The last checkpoint this home's key signed, in a file beside the key."""

    path: Path

    @classmethod
    def of_home(cls, home: Path) -> SignedHead:
        return cls(home / SIGNED_HEAD_FILE)

    @contextmanager
    def held(self) -> Iterator[None]:
        """One signer at a time, across processes: the check, the signature and the record."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def read(self, verifiers: list[Verifier]) -> Checkpoint | None:
        """The recorded checkpoint, or None if there is none. One that is not
        a checkpoint this key signed refuses: the signer's memory was changed."""
        try:
            with open(self.path, "rb") as handle:
                data = handle.read(_HEAD_SIZE_MAX + 1)
        except FileNotFoundError:
            return None
        try:
            if len(data) > _HEAD_SIZE_MAX:
                raise NoteError("it is too large to be a checkpoint")
            checkpoint, _note = open_checkpoint(data.decode("utf-8"), verifiers)
        except (NoteError, UnicodeDecodeError) as error:
            raise SigningRefused(f"{self.path} does not hold a checkpoint this log's key signed: {error}") from None
        return checkpoint

    def record(self, note: str) -> None:
        """Keeps `note`, a checkpoint just signed and committed, as the head."""
        partial = self.path.with_name(self.path.name + ".partial")
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(note)
        os.replace(partial, self.path)

    def forget(self) -> None:
        """For a store started over (`sandbox reset`): its history is new."""
        self.path.unlink(missing_ok=True)


@dataclass
class _Memory:
    """What this process signed last: the checkpoint, its tree's compact
    range, and the head file as it wrote it (a file changed since is read
    and checked again)."""

    checkpoint: Checkpoint | None = None
    range: CompactRange | None = None
    pending: CompactRange | None = None  # the tree checked, until its note is recorded
    stamp: tuple[int, int, int] | None = None

    def remember(self, path: Path, checkpoint: Checkpoint) -> None:
        pending, self.pending = self.pending, None
        if pending is None or pending.size != checkpoint.size or pending.root() != checkpoint.root:
            self.forget()
            return
        self.checkpoint, self.range, self.stamp = checkpoint, pending, _stamp(path)

    def is_of(self, checkpoint: Checkpoint) -> bool:
        return self.checkpoint == checkpoint and self.range is not None

    def file_unchanged(self, path: Path) -> bool:
        return self.stamp is not None and self.checkpoint is not None and _stamp(path) == self.stamp

    def forget(self) -> None:
        self.checkpoint = self.range = self.stamp = None


@dataclass(frozen=True)
class SigningGuard:
    """What a signer checks before it signs a tree: that the tree extends the
    last checkpoint its key signed, and that the leaves it signs for the
    first time are the stored events' (`known_keys`: every verifier key the
    log has signed with, for a head signed before a rotation)."""

    head: SignedHead
    known_keys: tuple[str, ...] = ()
    memory: _Memory = field(default_factory=_Memory)

    def held(self) -> AbstractContextManager[None]:
        return self.head.held()

    def holds(self, size: int, verifiers: list[Verifier]) -> bool:
        last = self._last(verifiers)
        return last is not None and last.size == size

    def check(self, audit: Any, session: ReadSession, tree: CompactRange, verifiers: list[Verifier]) -> None:
        """Refuses (`SigningRefused`) to sign `tree` unless it extends the last
        signed checkpoint and its new leaves are the stored events'."""
        last = self._last(verifiers) or _latest_signed(session, self._verifiers(verifiers))
        own = self.memory.range if last is not None and self.memory.is_of(last) else None
        if last is not None:
            _check_size(last, tree, audit.origin)
            if own is None:  # a head this process did not sign: proven from the stored hashes
                _check_extends(session, last, tree)
        start = last.size if last is not None else 0
        extending = (own, tree.root()) if own is not None else None
        difference = check_new_leaves(audit, start, tree.size, session=session, extending=extending)
        if difference is not None:
            raise SigningRefused(f"not signed: {difference}; run 'ledger audit check-store'")
        self.memory.pending = tree.copy()

    def record(self, note: str) -> None:
        """Keeps `note` (just signed over the tree last checked, and committed) as the head."""
        self.head.record(note)
        self.memory.remember(self.head.path, Checkpoint.parse(Note.parse(note).text))

    def _last(self, verifiers: list[Verifier]) -> Checkpoint | None:
        """The head: from memory while the file is the one this process wrote."""
        if self.memory.file_unchanged(self.head.path):
            return self.memory.checkpoint
        self.memory.forget()
        return self.head.read(self._verifiers(verifiers))

    def _verifiers(self, verifiers: list[Verifier]) -> list[Verifier]:
        known = list(verifiers)
        for text in self.known_keys:
            verifier = Verifier.parse(text)
            if verifier.encode() not in {v.encode() for v in known}:
                known.append(verifier)
        return known


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _latest_signed(session: ReadSession, verifiers: list[Verifier]) -> Checkpoint | None:
    """With no head kept yet (a store older than the guard, a home given a
    new disk): the newest checkpoint in the store that the key signed."""
    for (note,) in session.fetchall("SELECT note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 50"):
        try:
            return open_checkpoint(str(note), verifiers)[0]
        except NoteError:
            continue
    return None


def _check_size(last: Checkpoint, tree: CompactRange, origin: str) -> None:
    what = f"the checkpoint of {last.size} leaves this key last signed"
    if last.origin != origin:
        raise SigningRefused(f"not signed: {what} is of log {last.origin!r}, not {origin!r}")
    if tree.size < last.size:
        raise SigningRefused(
            f"not signed: the store's audit log holds {tree.size} leaves, fewer than {what}: "
            "it was truncated or rolled back; run 'ledger audit check-store'"
        )
    if tree.size == last.size and tree.root() != last.root:
        raise SigningRefused(f"not signed: the stored tree's root is not the root of {what}: history rewritten")


def _check_extends(session: ReadSession, last: Checkpoint, tree: CompactRange) -> None:
    what = f"the checkpoint of {last.size} leaves this key last signed"
    if tree.size == last.size:
        return
    try:
        proof = consistency_proof(last.size, tree.size, TiledHashes(session).hash_range)
        verify_consistency(last.size, tree.size, last.root, tree.root(), proof)
    except ProofError as error:
        raise SigningRefused(
            f"not signed: the stored tree of {tree.size} leaves does not extend {what} ({error}): "
            "history was rewritten; run 'ledger audit check-store'"
        ) from None
