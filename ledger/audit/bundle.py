"""Exporting the audit bundle (DESIGN.md section 5, a contract).

A directory with `manifest.json`, `events.jsonl` (one leaf a line, exactly
the leaf bytes), `checkpoints/<tree size>` (whole signed notes) and
`proofs/<size1>-<size2>.json` (consistency proofs between successive
checkpoints), and `tiles/`: the same log as C2SP tlog-tiles static files
(`checkpoint`, `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`), as
`ledger serve` serves them under `/log/`. An incremental export (`since`, the supervisor's last
checkpoint) starts its leaves at that checkpoint's size and carries the
compact range there (`base_range`), so that its leaves extend a tree the
supervisor already trusts.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from ledger.audit.log import AuditLog
from ledger.audit.merkle import CompactRange, RangeHasher, consistency_proof, leaf_hash
from ledger.audit.notes import Checkpoint, Note, NoteError, Signer, Verifier, open_checkpoint
from ledger.audit.tiles import EntryBundleWriter, write_tiles
from ledger.audit.witnessing import with_cosignatures

BUNDLE_FORMAT = {"name": "crypto-bank-ledger/audit-bundle", "version": 1}
TILES_FOLDER = "tiles"  # the log as C2SP tlog-tiles static files: checkpoint, tile/<L>/<N>, tile/entries/<N>


class ExportError(Exception):
    """The bundle cannot be written as asked; the message says why."""


@dataclass(frozen=True)
class ExportSummary:
    directory: Path
    first_index: int
    tree_size: int
    checkpoints: list[int]
    proofs: list[str]


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def export_bundle(
    audit: AuditLog,
    signer: Signer,
    directory: Path,
    now: datetime,
    *,
    since: str | None = None,
    verifier_keys: list[str] | None = None,
) -> ExportSummary:
    _check_empty(directory)
    keys = verifier_keys or [signer.verifier.encode()]
    audit.catch_up()
    first, trusted_note = _since(audit, since, [Verifier.parse(k) for k in keys])  # refused before signing
    latest = audit.checkpoint(signer, now)  # every export is checkpointed
    stored = [c for c in audit.checkpoints() if c.size >= first]
    notes = {c.size: with_cosignatures(audit, c) for c in stored}
    if trusted_note is not None:
        notes.setdefault(first, trusted_note)
    sizes = sorted(notes)
    base = audit.compact_range_at(first) if first else CompactRange()
    (directory / "checkpoints").mkdir(parents=True)
    (directory / "proofs").mkdir()
    for size in sizes:
        (directory / "checkpoints" / str(size)).write_text(notes[size], encoding="utf-8")
    with audit.tiled() as tiled:
        proofs = _write_proofs(directory, sizes, tiled.hash_range)
        write_tiles(directory / TILES_FOLDER, tiled, sizes, first)
    (directory / TILES_FOLDER / "checkpoint").write_text(notes[latest.size], encoding="utf-8")
    entries = EntryBundleWriter(directory / TILES_FOLDER, first, sizes)
    _write_leaves(audit, directory, base, latest.size, Checkpoint.parse(Note.parse(latest.note).text), entries)
    manifest = {
        "format": BUNDLE_FORMAT,
        "origin": audit.origin,
        "tree_size": latest.size,
        "first_index": first,
        "base_range": [b64(h) for h in base.hashes],
        "verifier_keys": keys,
        "checkpoints": sizes,
        "proofs": proofs,
        "tiles": TILES_FOLDER,
        "exported_at": now.isoformat(),
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return ExportSummary(directory, first, latest.size, sizes, proofs)


def _check_empty(directory: Path) -> None:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ExportError(f"{directory} exists and is not an empty directory: choose a new one")


def _since(audit: AuditLog, since: str | None, verifiers: list[Verifier]) -> tuple[int, str | None]:
    if since is None:
        return 0, None
    try:
        trusted, _ = open_checkpoint(since, verifiers)
    except NoteError as error:
        raise ExportError(f"the --since checkpoint does not verify: {error}") from None
    tree = audit.tree()
    if trusted.origin != audit.origin or trusted.size > tree.size or trusted.size == 0:
        raise ExportError(f"the --since checkpoint ({trusted.origin}, size {trusted.size}) is not of this log")
    if audit.compact_range_at(trusted.size).root() != trusted.root:
        raise ExportError(f"the --since checkpoint's root differs from this log's at size {trusted.size}")
    return trusted.size, since


def _write_proofs(directory: Path, sizes: list[int], hash_range: RangeHasher) -> list[str]:
    names = []
    for size1, size2 in pairwise(sizes):
        if size1 == 0:
            continue  # a proof from the empty tree proves nothing
        proof = {
            "size1": size1,
            "size2": size2,
            "root1": b64(hash_range(0, size1)),
            "root2": b64(hash_range(0, size2)),
            "proof": [b64(h) for h in consistency_proof(size1, size2, hash_range)],
        }
        name = f"{size1}-{size2}.json"
        (directory / "proofs" / name).write_text(json.dumps(proof, indent=2) + "\n", encoding="utf-8")
        names.append(name)
    return names


def _write_leaves(
    audit: AuditLog, directory: Path, base: CompactRange, size: int, latest: Checkpoint, entries: EntryBundleWriter
) -> None:
    tree = base.copy()
    with (directory / "events.jsonl").open("wb") as handle:
        for leaf in audit.leaves(base.size, size):
            handle.write(leaf + b"\n")
            tree.append(leaf_hash(leaf))
            entries.add(leaf)
    entries.close()
    # Pair assertion: the events, read again, hash to the tree that was signed.
    if tree.root() != latest.root:
        raise ExportError("the events no longer hash to the signed tree: the store has been altered")
