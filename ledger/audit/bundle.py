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

The bundle is written as `ledger.audit.files` writes: into a new or empty
folder that is not a link, each file created with O_EXCL | O_NOFOLLOW, the
manifest last, so that nothing is written through a link or outside the
folder.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from ledger.audit.files import (
    BUNDLE_FORMAT,
    CHECKPOINTS,
    EVENTS,
    MANIFEST,
    PROOFS,
    TILES,
    FileProblem,
    Folder,
    open_new_folder,
)
from ledger.audit.leaf_pages import LeafPages
from ledger.audit.log import AuditLog
from ledger.audit.merkle import CompactRange, RangeHasher, consistency_proof
from ledger.audit.notes import Checkpoint, Note, NoteError, Signer, Verifier, open_checkpoint
from ledger.audit.store_check import check_new_leaves
from ledger.audit.tiles import EntryBundleWriter, TiledHashes, TileFiles, write_tiles
from ledger.audit.witnessing import with_cosignatures
from ledger.progress import ProgressStart, no_progress

_log = logging.getLogger(__name__)

__all__ = ["BUNDLE_FORMAT", "ExportError", "ExportSummary", "export_bundle"]


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
    progress: ProgressStart = no_progress,
) -> ExportSummary:
    """Signs a checkpoint at the current size and writes the bundle; `progress`
    hears of the leaves as they are written (`ledger.progress`)."""
    _check_can_write(directory)
    keys = verifier_keys or [signer.verifier.encode()]
    caught_up = audit.catch_up()
    _log.info("audit log caught up: %d new leaves", caught_up, extra={"leaves": caught_up})
    first, trusted_note = _since(audit, since, [Verifier.parse(k) for k in keys])  # refused before signing
    latest = audit.checkpoint(signer, now)  # every export is checkpointed
    _log.info(
        "exporting leaves %d to %d", first, latest.size - 1, extra={"first_index": first, "tree_size": latest.size}
    )
    stored = [c for c in audit.checkpoints() if c.size >= first]
    notes = {c.size: with_cosignatures(audit, c) for c in stored}
    if trusted_note is not None:
        notes.setdefault(first, trusted_note)
    sizes = sorted(notes)
    base = audit.compact_range_at(first) if first else CompactRange()
    try:
        with open_new_folder(directory) as bundle:
            with bundle.make_folder(CHECKPOINTS) as folder:
                for size in sizes:
                    folder.write_new(str(size), notes[size].encode())
            tiles = TileFiles(bundle.make_folder(TILES))
            try:
                with audit.tiled() as tiled:
                    with bundle.make_folder(PROOFS) as folder:
                        proofs = _write_proofs(folder, sizes, tiled.hash_range)
                    _log.info(
                        "proofs written: %d", len(proofs), extra={"checkpoints": len(sizes), "proofs": len(proofs)}
                    )
                    write_tiles(tiles, tiled, sizes, first)
                    _log.info("tiles written")
                    tiles.write("checkpoint", notes[latest.size].encode())
                    entries = EntryBundleWriter(tiles, first, sizes)
                    latest_checkpoint = Checkpoint.parse(Note.parse(latest.note).text)
                    _write_leaves(audit, tiled, bundle, base, latest.size, latest_checkpoint, entries, progress)
                tiles.finish()
            finally:
                tiles.close()
            bundle.write_new(MANIFEST, _manifest(audit.origin, latest.size, first, base, keys, sizes, proofs, now))
            _log.info("bundle written to %s", directory, extra={"directory": str(directory)})
    except FileProblem as error:
        raise ExportError(str(error)) from None
    return ExportSummary(directory, first, latest.size, sizes, proofs)


def _manifest(
    origin: str,
    size: int,
    first: int,
    base: CompactRange,
    keys: list[str],
    sizes: list[int],
    proofs: list[str],
    now: datetime,
) -> bytes:
    manifest = {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "tree_size": size,
        "first_index": first,
        "base_range": [b64(h) for h in base.hashes],
        "verifier_keys": keys,
        "checkpoints": sizes,
        "proofs": proofs,
        "tiles": TILES,
        "exported_at": now.isoformat(),
    }
    return (json.dumps(manifest, indent=2) + "\n").encode()


def _check_can_write(directory: Path) -> None:
    """Refused before anything is signed; checked again as the folder is opened."""
    if directory.is_symlink():
        raise ExportError(f"{directory}: a symbolic link; refusing to write through it")
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


def _write_proofs(folder: Folder, sizes: list[int], hash_range: RangeHasher) -> list[str]:
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
        folder.write_new(name, (json.dumps(proof, indent=2) + "\n").encode())
        names.append(name)
    return names


def _write_leaves(
    audit: AuditLog,
    tiled: TiledHashes,
    bundle: Folder,
    base: CompactRange,
    size: int,
    latest: Checkpoint,
    entries: EntryBundleWriter,
    progress: ProgressStart,
) -> None:
    """`events.jsonl` and the entry bundles, a page at a time (`LeafPages`),
    and the tree the leaves make, checked against the signed root."""
    tree = base.copy()
    with bundle.create(EVENTS) as handle, progress("exporting leaves", total=size - base.size) as advance:
        for leaves, digests in LeafPages(audit, tiled).pages(base.size, size):
            handle.write(b"\n".join(leaves) + b"\n")
            tree.extend_packed(digests)
            entries.add_many(leaves)
            advance(len(leaves))
    entries.close()
    # Pair assertion: the events, read again, hash to the tree that was signed.
    if tree.root() != latest.root:
        found = check_new_leaves(audit, base.size, size)  # which leaf: the first the store no longer agrees with
        where = f": {found}" if found is not None else ""
        raise ExportError(
            f"the events no longer hash to the signed tree{where}: the store has been altered; "
            "run 'ledger audit check-store'"
        )
