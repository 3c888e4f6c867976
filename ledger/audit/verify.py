"""Offline verification of an audit bundle: no database, no project state.

Streams `events.jsonl` once, in bounded memory (a compact range and the
checkpoint roots), and checks that every leaf is canonical RFC 8785 JSON with
a dense index; that every checkpoint is signed by the given key and its root
equals the root recomputed from the leaves; that every consistency proof
verifies; that the manifest agrees with the leaves and lists exactly the
files there are; and that the bundle extends the trusted checkpoint, if one
is given, and carries the witness's cosignature, if a witness key is given.

Under a trust policy (C2SP tlog-policy, `ledger.audit.policy`) the policy's
logs named after the bundle's origin are the pinned keys, and both
checkpoints the verifier relies on, the bundle's latest and the trusted one,
must carry cosignatures that meet the policy's quorum; the checkpoints in
between are bound to the latest by the consistency proofs.

The bundle is hostile input, and verification is total: every problem,
down to a wrong JSON type, a number too long to be canonical, nesting too
deep, a NaN, a CR or a byte order mark, a link, a FIFO or a file larger than
its limit (below, and `ledger.audit.files` for how files are opened), is a
finding that names the leaf, checkpoint, proof or file, never an exception.
Signed notes and checkpoints are parsed as strictly as Go's sumdb/note does
(`ledger.audit.notes`).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeGuard

from ledger.audit.files import BUNDLE_FORMAT, CHECKPOINTS, EVENTS, LAYOUT, MANIFEST, PROOFS, TILES, FileProblem, Folder
from ledger.audit.keychain import key_windows
from ledger.audit.leaf_check import LEAF_DEPTH_MAX
from ledger.audit.leaf_chunks import (
    FINDINGS_MAX,
    LEAF_LINE_MAX,
    ChunkJob,
    ChunkResult,
    checked_chunks,
    plan_chunks,
    worker_count,
)
from ledger.audit.merkle import HASH_SIZE, CompactRange, ProofError, verify_consistency
from ledger.audit.notes import (
    NOTE_SIZE_MAX,
    TREE_SIZE_MAX,
    Checkpoint,
    Note,
    NoteError,
    SignatureStatus,
    Verifier,
    b64decode_strict,
)
from ledger.audit.policy import Policy
from ledger.audit.strict_json import NUMBER_TEXT_MAX, json_problem, json_type, show, show_name, strict_json
from ledger.audit.tile_check import UpperTiles
from ledger.audit.tiles import TILE_WIDTH
from ledger.progress import ProgressStart, no_progress

_log = logging.getLogger(__name__)

# Limits: a file or a leaf beyond its limit is a finding, and is not read further.
MANIFEST_SIZE_MAX = 4 << 20  # bytes of manifest.json (some 200k checkpoints and proofs: 2*10^8 events)
CHECKPOINT_SIZE_MAX = NOTE_SIZE_MAX  # bytes of one checkpoint file, a whole signed note
PROOF_SIZE_MAX = 64 << 10  # bytes of one consistency proof file (at most PROOF_HASHES_MAX hashes)
PROOF_HASHES_MAX = 128  # hashes in one consistency proof (two per level of a tree below 2**63 leaves)
VERIFIER_KEYS_MAX = 64  # keys a manifest may list (one per rotation of the signing key)
__all__ = [  # the limits, with those of the leaves and JSON they are read with
    "CHECKPOINT_SIZE_MAX",
    "LEAF_DEPTH_MAX",
    "LEAF_LINE_MAX",
    "MANIFEST_SIZE_MAX",
    "NUMBER_TEXT_MAX",
    "PROOF_HASHES_MAX",
    "PROOF_SIZE_MAX",
    "VERIFIER_KEYS_MAX",
    "BundleCheck",
    "Finding",
    "Reading",
    "check_bundle",
    "verify_bundle",
]


@dataclass(frozen=True)
class Finding:
    """One problem: `subject` is what it concerns ('leaf 17', 'checkpoint 40',
    'proof 20-40.json', 'manifest', 'trusted checkpoint', 'bundle'), `reason` why."""

    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass(frozen=True)
class BundleCheck:
    """The findings, and the latest checkpoint exactly as read and verified
    (None unless there are no findings): what a witness may cosign."""

    findings: list[Finding]
    latest: Note | None = None


@dataclass(frozen=True)
class Reading:
    """How the leaves are read: `progress` is started with their count and told
    how many more have been checked as they are (`ledger.progress`); `workers`
    processes check them (None: one per core for a large bundle, 0: all in
    this process)."""

    progress: ProgressStart = no_progress
    workers: int | None = None


@dataclass(frozen=True)
class _Manifest:
    origin: str
    tree_size: int
    first_index: int
    base_range: list[bytes]
    verifier_keys: list[str]
    checkpoints: list[int] | None  # None when the manifest does not list them
    proofs: list[str] | None


@dataclass
class _Checkpoints:
    roots: dict[int, bytes] = field(default_factory=dict)  # the valid ones, by size
    sizes: list[int] = field(default_factory=list)  # every well-formed checkpoint file, valid or not
    latest: Note | None = None


class _Verification:
    def __init__(
        self,
        directory: Path | Folder,
        key: Verifier | None,
        trusted: str | None,
        witness: Verifier | None,
        policy: Policy | None = None,
        reading: Reading | None = None,
    ) -> None:
        assert key is not None or policy is not None, "a key is pinned, or a policy names it"
        self.directory = directory
        self.reading = reading or Reading()
        self.trusted_text = trusted
        self.witness = witness
        self.policy = policy
        self.findings: list[Finding] = []
        self.key_given = key is not None
        self.pinned: list[Verifier] = [key] if key is not None else []
        self.trusted_keys: list[Verifier] = list(self.pinned)

    @property
    def key(self) -> Verifier:
        """The pinned key (the first of the policy's for this origin); only read once the manifest is."""
        return self.pinned[0]

    def fail(self, subject: str, reason: str) -> None:
        if len(self.findings) < FINDINGS_MAX:
            self.findings.append(Finding(subject, reason))

    def run(self) -> BundleCheck:
        if isinstance(self.directory, Folder):
            return self._run(self.directory)
        try:
            bundle = Folder.open(self.directory)
        except FileProblem as error:
            self.fail("bundle", str(error))
            return BundleCheck(self.findings)
        with bundle:
            return self._run(bundle)

    def _run(self, bundle: Folder) -> BundleCheck:
        manifest = self._manifest(bundle)
        if manifest is None:
            return BundleCheck(self.findings)
        _log.info(
            "verifying a bundle of %d leaves",
            manifest.tree_size,
            extra={"tree_size": manifest.tree_size, "first_index": manifest.first_index},
        )
        self._check_layout(bundle)
        checkpoints = self._checkpoints(bundle, manifest)
        _log.info("checkpoints read: %d", len(checkpoints.roots), extra={"checkpoints": len(checkpoints.roots)})
        trusted = self._trusted()
        base = self._base(manifest)
        sizes = set(checkpoints.roots) | ({trusted.size} if trusted else set())
        tiles = self._tiles(bundle, manifest, checkpoints)
        try:
            recomputed = self._stream_leaves(bundle, manifest, base.copy(), sizes, tiles)
        finally:
            if tiles is not None:
                tiles.close()
        _log.info("leaves checked", extra={"findings": len(self.findings)})
        if recomputed is not None:
            self._compare_roots(manifest, checkpoints, recomputed)
        self._check_proofs(bundle, manifest, checkpoints)
        if trusted is not None and recomputed is not None:
            self._check_trusted(manifest, trusted, recomputed, base)
        _log.info(
            "bundle verified" if not self.findings else "bundle does not verify", extra={"findings": len(self.findings)}
        )
        return BundleCheck(self.findings, None if self.findings else checkpoints.latest)

    # The files there are.

    def _check_layout(self, bundle: Folder) -> None:
        try:
            names = bundle.names()
        except FileProblem as error:
            self.fail("bundle", str(error))
            return
        for name in names:
            if name not in LAYOUT:
                self.fail("bundle", f"unexpected {show_name(name)}: a bundle holds only {', '.join(LAYOUT)}")

    def _folder(self, bundle: Folder, name: str) -> Folder | None:
        """A folder of the bundle; None, with a finding unless it is just absent, when it cannot be read."""
        try:
            if bundle.kind(name) is None:
                return None
            return bundle.folder(name)
        except FileProblem as error:
            self.fail(name, str(error))
            return None

    # The manifest.

    def _manifest(self, bundle: Folder) -> _Manifest | None:
        try:
            if bundle.kind(MANIFEST) is None:
                self.fail("manifest", f"no {MANIFEST} in {bundle.path}")
                return None
            data = strict_json(bundle.read(MANIFEST, MANIFEST_SIZE_MAX))
        except FileProblem as error:
            self.fail("manifest", str(error))
            return None
        except (ValueError, RecursionError) as error:
            self.fail("manifest", f"not JSON as this verifier reads it: {json_problem(error)}")
            return None
        if not isinstance(data, dict):
            self.fail("manifest", f"not a JSON object but {json_type(data)}")
            return None
        manifest = self._manifest_fields(data)
        if manifest is None or not self._pin_from_policy(manifest.origin):
            return None
        if manifest.origin != self.key.name:
            self.fail("manifest", f"origin {show(manifest.origin)} is not the given key's name {self.key.name!r}")
        return manifest

    def _pin_from_policy(self, origin: str) -> bool:
        """Without a key given, pins the policy's logs named after the origin; False, with a finding, if none is."""
        if self.pinned or self.policy is None:
            return True
        self.pinned = self.policy.logs_named(origin)
        self.trusted_keys = list(self.pinned)
        if not self.pinned:
            names = ", ".join(sorted({log.verifier.name for log in self.policy.logs})) or "none"
            self.fail("manifest", f"origin {show(origin)} is the key name of no log of the policy (its logs: {names})")
        return bool(self.pinned)

    @property
    def _pinned_as(self) -> str:
        return "the policy's log" if self.policy is not None and not self.key_given else "the given key"

    def _check_quorum(self, subject: str, note: Note) -> None:
        if self.policy is None:
            return
        witnessing = self.policy.witnessing(note)
        if not witnessing.holds:
            self.fail(subject, str(witnessing))

    def _manifest_fields(self, data: dict[str, Any]) -> _Manifest | None:
        """The manifest's fields, each of its type; None, with a finding for each that is not."""
        wrongs: list[str] = []

        def wrong(name: str, expected: str) -> None:
            value = f"{json_type(data[name])} {show(data[name])}" if name in data else "missing"
            wrongs.append(name)
            self.fail("manifest", f"'{name}' must be {expected}, not {value}")

        if data.get("format") != BUNDLE_FORMAT:
            wrong("format", f"{json.dumps(BUNDLE_FORMAT)} (the bundle format this verifier reads)")
        origin, tree_size = data.get("origin"), data.get("tree_size")
        if not isinstance(origin, str) or not origin:
            wrong("origin", "a non-empty string")
        if not _is_count(tree_size):
            wrong("tree_size", f"an integer from 0 to {TREE_SIZE_MAX}")
        first_index = data.get("first_index", 0)
        if not _is_count(first_index) or (_is_count(tree_size) and first_index > tree_size):
            wrong("first_index", "an integer from 0 to tree_size")
        base_range = _hashes(data.get("base_range", []), TREE_SIZE_MAX.bit_length())
        if base_range is None:
            wrong("base_range", f"a list of base64 {HASH_SIZE}-byte hashes")
        keys = data.get("verifier_keys")
        if not _is_list_of(keys, str) or len(keys) > VERIFIER_KEYS_MAX:
            wrong("verifier_keys", f"a list of at most {VERIFIER_KEYS_MAX} verifier keys (strings)")
        checkpoints = data.get("checkpoints")
        if "checkpoints" in data and not (
            _is_list_of(checkpoints, int) and all(_is_count(c) for c in checkpoints) and _increasing(checkpoints)
        ):
            wrong("checkpoints", "a list of tree sizes in increasing order")
        proofs = data.get("proofs")
        if "proofs" in data and not (_is_list_of(proofs, str) and len(set(proofs)) == len(proofs)):
            wrong("proofs", "a list of distinct file names")
        if "tiles" in data and data["tiles"] != TILES:
            wrong("tiles", f"{TILES!r} (the folder of the log's tiles)")
        if "exported_at" in data and not isinstance(data["exported_at"], str):
            wrong("exported_at", "a string")
        if wrongs:
            return None
        assert isinstance(origin, str)
        assert isinstance(tree_size, int)
        assert base_range is not None
        assert isinstance(keys, list)
        return _Manifest(origin, tree_size, first_index, base_range, keys, checkpoints, proofs)

    # Checkpoints.

    def _checkpoints(self, bundle: Folder, manifest: _Manifest) -> _Checkpoints:
        keys = self._candidate_keys(manifest)
        parsed = self._parse_checkpoints(bundle, manifest, keys)
        signed_by = {
            size: {n for n, status in enumerate(statuses) if status is SignatureStatus.VALID}
            for size, (_, statuses, _) in parsed.items()
        }
        windows = key_windows(range(len(self.pinned)), signed_by)
        self.trusted_keys = [keys[k] for k in windows]
        found = _Checkpoints(sizes=sorted(parsed))
        for size, (checkpoint, _, note) in sorted(parsed.items()):
            if not any(size in windows[k] for k in signed_by[size] if k in windows):
                retired = [k for k in signed_by[size] if k in windows]
                reason = "signed by a key retired before it" if retired else f"not signed by {self._pinned_as}"
                self.fail(f"checkpoint {size}", f"{reason} ({self.key.name}+{self.key.key_id.hex()} or its hand-overs)")
                continue
            found.roots[size] = checkpoint.root
            if size == manifest.tree_size:
                found.latest = note
        if not found.roots:
            self.fail("checkpoints", "the bundle has no valid checkpoint")
            return found
        if max(found.roots) != manifest.tree_size or found.latest is None:
            self.fail("manifest", f"tree_size {manifest.tree_size} has no valid checkpoint of that size")
            found.latest = None
        elif self.witness is not None:
            status = found.latest.signature_by(self.witness)
            if status is SignatureStatus.INVALID:
                self.fail(
                    f"checkpoint {manifest.tree_size}", f"a cosignature line of {self.witness.name} does not verify"
                )
            elif status is SignatureStatus.ABSENT:
                self.fail(
                    f"checkpoint {manifest.tree_size}", f"no valid cosignature by the witness {self.witness.name}"
                )
        if found.latest is not None:
            self._check_quorum(f"checkpoint {manifest.tree_size}", found.latest)
        return found

    def _candidate_keys(self, manifest: _Manifest) -> list[Verifier]:
        """The pinned keys first, then the keys the manifest lists (trusted only through hand-overs)."""
        keys = list(self.pinned)
        for text in manifest.verifier_keys:
            try:
                key = Verifier.parse(text)
            except NoteError as error:
                self.fail("manifest", str(error))
                continue
            if key.name == self.key.name and all(key.key_id != pinned.key_id for pinned in self.pinned):
                keys.append(key)
        return keys

    def _parse_checkpoints(
        self, bundle: Folder, manifest: _Manifest, keys: list[Verifier]
    ) -> dict[int, tuple[Checkpoint, list[SignatureStatus], Note | None]]:
        """Every well-formed checkpoint of this log, with what its signature lines
        say of each candidate key; the note itself is kept for the latest only."""
        parsed: dict[int, tuple[Checkpoint, list[SignatureStatus], Note | None]] = {}
        folder = self._folder(bundle, CHECKPOINTS)
        if folder is None:
            self._compare_listing("checkpoint", [str(c) for c in manifest.checkpoints or []], [])
            return parsed
        with folder:
            names = sorted(self._names(folder, CHECKPOINTS), key=lambda name: (len(name), name))  # by size
            for name in names:
                subject = f"checkpoint {show_name(name)}"
                if not _is_size_name(name):
                    self.fail(subject, "its name is not a tree size in ASCII decimal")
                    continue
                try:
                    note = Note.parse(folder.read(name, CHECKPOINT_SIZE_MAX).decode("utf-8"))
                    checkpoint = Checkpoint.parse(note.text)
                except FileProblem as error:
                    self.fail(subject, str(error))
                    continue
                except UnicodeDecodeError:
                    self.fail(subject, "malformed: not UTF-8")
                    continue
                except NoteError as error:
                    self.fail(subject, f"malformed: {error}")
                    continue
                if str(checkpoint.size) != name:
                    self.fail(subject, f"the file holds a checkpoint of size {checkpoint.size}")
                    continue
                if checkpoint.origin != manifest.origin:
                    self.fail(subject, f"origin {show(checkpoint.origin)} differs from the manifest's")
                    continue
                statuses = [note.signature_by(key) for key in keys]
                failing = [key for key, status in zip(keys, statuses, strict=True) if status is SignatureStatus.INVALID]
                if failing:
                    claimed = ", ".join(f"{key.name}+{key.key_id.hex()}" for key in failing)
                    self.fail(
                        subject, f"a signature line naming the key {claimed} does not verify: the note is rejected"
                    )
                    continue
                parsed[checkpoint.size] = (
                    checkpoint,
                    statuses,
                    note if checkpoint.size == manifest.tree_size else None,
                )
        if manifest.checkpoints is not None:
            self._compare_listing("checkpoint", [str(c) for c in manifest.checkpoints], names)
        return parsed

    def _names(self, folder: Folder, subject: str) -> list[str]:
        try:
            return folder.names()
        except FileProblem as error:
            self.fail(subject, str(error))
            return []

    def _compare_listing(self, kind: str, listed: list[str], present: list[str]) -> None:
        """The manifest lists exactly the files there are."""
        for name in sorted(set(listed) - set(present)):
            self.fail(f"{kind} {show_name(name)}", "listed in the manifest but not in the bundle")
        for name in sorted(set(present) - set(listed)):
            self.fail(f"{kind} {show_name(name)}", "in the bundle but not listed in the manifest")

    def _trusted(self) -> Checkpoint | None:
        if self.trusted_text is None:
            return None
        try:
            note = Note.parse(self.trusted_text)
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as error:
            self.fail("trusted checkpoint", f"malformed: {error}")
            return None
        statuses = [note.signature_by(key) for key in self.trusted_keys]
        if SignatureStatus.INVALID in statuses:
            self.fail("trusted checkpoint", "a signature line naming the given key (or a hand-over) does not verify")
            return None
        if SignatureStatus.VALID not in statuses:
            self.fail("trusted checkpoint", "not signed by the given key, nor by a key it handed over to")
            return None
        self._check_quorum("trusted checkpoint", note)
        return checkpoint

    # Leaves.

    def _base(self, manifest: _Manifest) -> CompactRange:
        try:
            return CompactRange(manifest.first_index, manifest.base_range)
        except ProofError as error:
            self.fail("manifest", f"base_range does not describe a tree of size {manifest.first_index}: {error}")
            return CompactRange()

    def _tiles(self, bundle: Folder, manifest: _Manifest, checkpoints: _Checkpoints) -> UpperTiles | None:
        """The check of `tiles/` (a bundle made before tiles has none; an
        incremental one holds only the tiles of its new leaves, unchecked here)."""
        if manifest.first_index != 0 or checkpoints.latest is None:
            return None
        folder = self._folder(bundle, TILES)
        if folder is None:
            return None
        return UpperTiles(folder, set(checkpoints.roots), checkpoints.latest.text, self.fail)

    def _stream_leaves(
        self, bundle: Folder, manifest: _Manifest, tree: CompactRange, sizes: set[int], tiles: UpperTiles | None = None
    ) -> dict[int, bytes] | None:
        """The roots of the tree at `sizes`; None when the leaves cannot be read."""
        roots: dict[int, bytes] = {}
        if tree.size in sizes:
            roots[tree.size] = tree.root()
        try:
            if bundle.kind(EVENTS) is None:
                self.fail(EVENTS, "missing")
                return None
            with bundle.open_file(EVENTS) as (handle, size):
                checked = frozenset(sizes)
                jobs = (
                    ChunkJob(chunk, checked, manifest.tree_size, tiles is not None)
                    for chunk in plan_chunks(handle, size, tree.size)
                )
                workers = worker_count(size) if self.reading.workers is None else self.reading.workers
                folder = tiles.folder if tiles is not None else None
                total = manifest.tree_size - tree.size
                with self.reading.progress("verifying leaves", total=total) as advance:
                    for result in checked_chunks(jobs, handle.fileno(), folder, workers):
                        for subject, reason in result.findings:
                            self.fail(subject, reason)
                        _fold(tree, result, sizes, roots, tiles)
                        advance(result.count)
        except FileProblem as error:
            self.fail(EVENTS, str(error))
            return None
        except OSError as error:
            self.fail(EVENTS, f"could not be read: {error.strerror or error}")
            return None
        if tree.size != manifest.tree_size:
            self.fail("manifest", f"tree_size is {manifest.tree_size} but the leaves end at {tree.size}")
        return roots

    # Comparisons.

    def _compare_roots(self, manifest: _Manifest, checkpoints: _Checkpoints, recomputed: dict[int, bytes]) -> None:
        previous = manifest.first_index
        for size in sorted(checkpoints.roots):
            subject = f"checkpoint {size}"
            if size not in recomputed:
                self.fail(subject, "its size is outside the leaves of this bundle")
            elif recomputed[size] != checkpoints.roots[size]:
                self.fail(
                    subject,
                    f"its root differs from the root of the leaves: leaves {previous} to {size - 1} "
                    "were changed, inserted, deleted or reordered",
                )
            previous = size

    def _check_proofs(self, bundle: Folder, manifest: _Manifest, checkpoints: _Checkpoints) -> None:
        if not checkpoints.sizes:
            return  # no checkpoint could be read: which proofs there should be is unknown, and moot
        expected = {f"{a}-{b}.json": (a, b) for a, b in pairwise(s for s in checkpoints.sizes if s > 0)}
        folder = self._folder(bundle, PROOFS)
        present = self._names(folder, PROOFS) if folder is not None else []
        try:
            for name in sorted(set(expected) - set(present)):
                self.fail(f"proof {name}", "missing: successive checkpoints need a consistency proof")
            for name in present:
                if name not in expected:
                    self.fail(f"proof {show_name(name)}", "not a proof between successive checkpoints of the bundle")
                elif folder is not None:
                    self._check_proof(folder, name, expected[name], checkpoints)
        finally:
            if folder is not None:
                folder.close()
        if manifest.proofs is not None:
            self._compare_listing("proof", manifest.proofs, present)

    def _check_proof(self, folder: Folder, name: str, sizes: tuple[int, int], checkpoints: _Checkpoints) -> None:
        subject = f"proof {name}"
        try:
            document = strict_json(folder.read(name, PROOF_SIZE_MAX))
        except FileProblem as error:
            self.fail(subject, str(error))
            return
        except (ValueError, RecursionError) as error:
            self.fail(subject, f"malformed: not JSON as this verifier reads it: {json_problem(error)}")
            return
        problem = _proof_problem(document, sizes)
        if problem:
            self.fail(subject, f"malformed: {problem}")
            return
        root1, root2 = base64.b64decode(document["root1"]), base64.b64decode(document["root2"])
        for size, root in zip(sizes, (root1, root2), strict=True):
            if size in checkpoints.roots and checkpoints.roots[size] != root:
                self.fail(subject, f"its root for size {size} is not the signed checkpoint's")
        try:
            verify_consistency(*sizes, root1, root2, [base64.b64decode(h) for h in document["proof"]])
        except ProofError as error:
            self.fail(subject, f"does not verify: {error}")

    def _check_trusted(
        self, manifest: _Manifest, trusted: Checkpoint, recomputed: dict[int, bytes], base: CompactRange
    ) -> None:
        subject = "trusted checkpoint"
        if trusted.origin != manifest.origin:
            self.fail(subject, f"origin {show(trusted.origin)} is another log's")
        elif trusted.size > manifest.tree_size:
            self.fail(
                subject,
                f"it covers {trusted.size} leaves but the bundle only {manifest.tree_size}: the log has been truncated",
            )
        elif trusted.size < base.size:
            self.fail(subject, f"it is older than the bundle's first leaf {base.size}: export with --since it")
        elif recomputed.get(trusted.size) != trusted.root:
            self.fail(subject, f"the bundle's tree at size {trusted.size} has another root: a forked history")


# Leaves, folded into the tree.


def _fold(
    tree: CompactRange, result: ChunkResult, sizes: set[int], roots: dict[int, bytes], tiles: UpperTiles | None
) -> None:
    """Folds a chunk's tile roots and leaf hashes into the tree, keeping its
    root at every size in `sizes` (and checking the upper tiles there)."""
    inside = sorted(result.partials)
    for part in result.parts:
        if isinstance(part, list):
            for digest in part:
                tree.append(digest)
                if tree.size in sizes:
                    _keep_root(tree, tree.size, roots, tiles)
            continue
        end = tree.size + TILE_WIDTH
        while inside and inside[0] < end:
            size = inside.pop(0)
            partial = tree.copy()
            partial.extend(result.partials[size])
            _keep_root(partial, size, roots, tiles)
        tree.append_subtree(TILE_WIDTH, part)
        if tiles is not None:
            tiles.add_tile(part)
        if tree.size in sizes:
            _keep_root(tree, tree.size, roots, tiles)


def _keep_root(tree: CompactRange, size: int, roots: dict[int, bytes], tiles: UpperTiles | None) -> None:
    roots[size] = tree.root()
    if tiles is not None:
        tiles.at_size(size)


# The manifest and proofs, as strictly as a verifier reads them.

_PROOF_FIELDS = {"size1", "size2", "root1", "root2", "proof"}


def _proof_problem(document: Any, sizes: tuple[int, int]) -> str | None:
    """What is wrong with a consistency proof document of the name `sizes`, if anything."""
    if not isinstance(document, dict) or set(document) != _PROOF_FIELDS:
        return f"a proof is an object with exactly the fields {', '.join(sorted(_PROOF_FIELDS))}"
    if (document["size1"], document["size2"]) != sizes or not all(_is_count(document[k]) for k in ("size1", "size2")):
        return f"size1 and size2 must be the integers {sizes[0]} and {sizes[1]} of its name"
    if _hashes([document["root1"], document["root2"]], 2) is None:
        return f"root1 and root2 must be base64 {HASH_SIZE}-byte hashes"
    if _hashes(document["proof"], PROOF_HASHES_MAX) is None:
        return f"proof must be a list of at most {PROOF_HASHES_MAX} base64 {HASH_SIZE}-byte hashes"
    return None


def _hashes(value: Any, count_max: int) -> list[bytes] | None:
    """The hashes of a list of canonical base64 strings of HASH_SIZE bytes; None if it is not one."""
    if not _is_list_of(value, str) or len(value) > count_max:
        return None
    hashes = []
    for text in value:
        try:
            digest = b64decode_strict(text)
        except ValueError:
            return None
        if len(digest) != HASH_SIZE:
            return None
        hashes.append(digest)
    return hashes


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= TREE_SIZE_MAX


def _is_list_of(value: Any, kind: type) -> TypeGuard[list[Any]]:
    return type(value) is list and all(type(item) is kind for item in value)


def _increasing(values: list[int]) -> bool:
    return all(a < b for a, b in pairwise(values))


def _is_size_name(name: str) -> bool:
    return name.isascii() and name.isdigit() and (name == "0" or not name.startswith("0")) and len(name) <= 19


def check_bundle(
    directory: Path | Folder,
    key: str | None,
    *,
    trusted: str | bytes | None = None,
    witness_key: str | None = None,
    policy: Policy | None = None,
    reading: Reading | None = None,
) -> BundleCheck:
    """Verifies the bundle (a path, or a folder already open); see `BundleCheck`.
    With a policy, `key` may be None (the policy's log for the bundle's origin
    is pinned); given, it is the one pinned key, and must be one of the policy's logs."""
    if key is None and policy is None:
        return BundleCheck([Finding("key", "no key to verify with: give the log's key, or a policy listing it")])
    try:
        verifier = Verifier.parse(key) if key is not None else None
        witness = Verifier.parse(witness_key) if witness_key is not None else None
    except NoteError as error:
        return BundleCheck([Finding("key", str(error))])
    if verifier is not None and policy is not None and not policy.lists_log(verifier):
        return BundleCheck([Finding("key", f"{verifier.name}+{verifier.key_id.hex()} is not one of the policy's logs")])
    if isinstance(trusted, bytes):
        try:
            trusted = trusted.decode("utf-8")
        except UnicodeDecodeError:
            return BundleCheck([Finding("trusted checkpoint", "malformed: not UTF-8")])
    return _Verification(directory, verifier, trusted, witness, policy, reading).run()


def verify_bundle(
    directory: Path,
    key: str | None,
    *,
    trusted: str | bytes | None = None,
    witness_key: str | None = None,
    policy: Policy | None = None,
    reading: Reading | None = None,
) -> list[Finding]:
    """All findings about the bundle; an empty list means it verifies."""
    check = check_bundle(directory, key, trusted=trusted, witness_key=witness_key, policy=policy, reading=reading)
    return check.findings
