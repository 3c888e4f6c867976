"""Offline verification of an audit bundle: no database, no project state.

Streams `events.jsonl` once, in bounded memory (a compact range and the
checkpoint roots), and checks that every leaf is canonical RFC 8785 JSON with
a dense index; that every checkpoint is signed by the given key and its root
equals the root recomputed from the leaves; that every consistency proof
verifies; that the manifest agrees with the leaves; and that the bundle
extends the trusted checkpoint, if one is given, and carries the witness's
cosignature, if a witness key is given. Problems are returned as findings
that name the leaf, checkpoint or proof, never raised.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import rfc8785

from ledger.audit.keychain import key_windows
from ledger.audit.leaves import LEAF_FIELDS
from ledger.audit.merkle import CompactRange, ProofError, leaf_hash, verify_consistency
from ledger.audit.notes import Checkpoint, Note, NoteError, Verifier

LEAF_LINE_MAX = 1 << 20
FINDINGS_MAX = 100


@dataclass(frozen=True)
class Finding:
    """One problem: `subject` is what it concerns ('leaf 17', 'checkpoint 40',
    'proof 20-40.json', 'manifest', 'trusted checkpoint'), `reason` why."""

    subject: str
    reason: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.reason}"


@dataclass
class _Checkpoints:
    notes: dict[int, Note]
    roots: dict[int, bytes]


class _Verification:
    def __init__(self, directory: Path, key: Verifier, trusted: str | None, witness: Verifier | None) -> None:
        self.directory = directory
        self.key = key
        self.trusted_text = trusted
        self.witness = witness
        self.findings: list[Finding] = []
        self.manifest: dict[str, Any] = {}
        self.trusted_keys: list[Verifier] = [key]

    def fail(self, subject: str, reason: str) -> None:
        if len(self.findings) < FINDINGS_MAX:
            self.findings.append(Finding(subject, reason))

    def run(self) -> list[Finding]:
        self.manifest = self._manifest()
        if not self.manifest:
            return self.findings
        checkpoints = self._checkpoints()
        trusted = self._trusted()
        base = self._base()
        recomputed = self._stream_leaves(base.copy(), set(checkpoints.roots) | ({trusted.size} if trusted else set()))
        self._compare_roots(checkpoints, recomputed)
        self._check_proofs(checkpoints)
        if trusted is not None:
            self._check_trusted(trusted, recomputed, base)
        return self.findings

    # The manifest.

    def _manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.directory / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.fail("manifest", f"no manifest.json in {self.directory}")
            return {}
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            self.fail("manifest", f"not JSON: {error}")
            return {}
        required = {"format": dict, "origin": str, "tree_size": int, "verifier_keys": list}
        for name, kind in required.items():
            if not isinstance(data.get(name), kind):
                self.fail("manifest", f"'{name}' is missing or not a {kind.__name__}")
                return {}
        if data["origin"] != self.key.name:
            self.fail("manifest", f"origin {data['origin']!r} is not the given key's name {self.key.name!r}")
        return dict(data)

    # Checkpoints.

    def _checkpoints(self) -> _Checkpoints:
        parsed = self._parse_checkpoints()
        keys = self._candidate_keys()
        signed_by = {
            size: {n for n, key in enumerate(keys) if note.verified_by(key)} for size, (_, note) in parsed.items()
        }
        windows = key_windows(0, signed_by)
        self.trusted_keys = [keys[k] for k in windows]
        found = _Checkpoints({}, {})
        for size, (checkpoint, note) in sorted(parsed.items()):
            subject = f"checkpoint {size}"
            if not any(size in windows[k] for k in signed_by[size] if k in windows):
                retired = [k for k in signed_by[size] if k in windows]
                reason = "signed by a key retired before it" if retired else "not signed by the given key"
                self.fail(subject, f"{reason} ({self.key.name}+{self.key.key_id.hex()} or its hand-overs)")
                continue
            found.notes[size] = note
            found.roots[size] = checkpoint.root
        if not found.roots:
            self.fail("checkpoints", "the bundle has no valid checkpoint")
            return found
        latest = max(found.roots)
        if latest != self.manifest["tree_size"]:
            self.fail("manifest", f"tree_size {self.manifest['tree_size']} has no checkpoint of that size")
        if self.witness is not None and not found.notes[latest].verified_by(self.witness):
            self.fail(f"checkpoint {latest}", f"no valid cosignature by the witness {self.witness.name}")
        return found

    def _candidate_keys(self) -> list[Verifier]:
        """The pinned key first, then the keys the manifest lists (trusted only through hand-overs)."""
        keys = [self.key]
        for text in self.manifest["verifier_keys"]:
            try:
                key = Verifier.parse(str(text))
            except NoteError as error:
                self.fail("manifest", f"verifier key {text!r}: {error}")
                continue
            if key.name == self.key.name and key.key_id != self.key.key_id:
                keys.append(key)
        return keys

    def _parse_checkpoints(self) -> dict[int, tuple[Checkpoint, Note]]:
        parsed: dict[int, tuple[Checkpoint, Note]] = {}
        folder = self.directory / "checkpoints"
        files = sorted(folder.iterdir(), key=lambda p: p.name) if folder.is_dir() else []
        for path in files:
            subject = f"checkpoint {path.name}"
            try:
                note = Note.parse(path.read_text(encoding="utf-8"))
                checkpoint = Checkpoint.parse(note.text)
            except (NoteError, UnicodeDecodeError) as error:
                self.fail(subject, f"malformed: {error}")
                continue
            if str(checkpoint.size) != path.name:
                self.fail(subject, f"the file holds a checkpoint of size {checkpoint.size}")
            elif checkpoint.origin != self.manifest["origin"]:
                self.fail(subject, f"origin {checkpoint.origin!r} differs from the manifest's")
            else:
                parsed[checkpoint.size] = (checkpoint, note)
        return parsed

    def _trusted(self) -> Checkpoint | None:
        if self.trusted_text is None:
            return None
        try:
            note = Note.parse(self.trusted_text)
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as error:
            self.fail("trusted checkpoint", f"malformed: {error}")
            return None
        if not any(note.verified_by(key) for key in self.trusted_keys):
            self.fail("trusted checkpoint", "not signed by the given key, nor by a key it handed over to")
            return None
        return checkpoint

    # Leaves.

    def _base(self) -> CompactRange:
        first = self.manifest.get("first_index", 0)
        try:
            hashes = [base64.b64decode(h, validate=True) for h in self.manifest.get("base_range", [])]
            return CompactRange(first, hashes)
        except (binascii.Error, ProofError, TypeError) as error:
            self.fail("manifest", f"base_range does not describe a tree of size {first}: {error}")
            return CompactRange()

    def _stream_leaves(self, tree: CompactRange, sizes: set[int]) -> dict[int, bytes]:
        roots: dict[int, bytes] = {}
        if tree.size in sizes:
            roots[tree.size] = tree.root()
        for number, line in self._lines():
            index = tree.size
            subject = f"leaf {index} (line {number})"
            self._check_leaf(line, index, subject)
            tree.append(leaf_hash(line))
            if tree.size in sizes:
                roots[tree.size] = tree.root()
        if tree.size != self.manifest["tree_size"]:
            self.fail("manifest", f"tree_size is {self.manifest['tree_size']} but the leaves end at {tree.size}")
        return roots

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        path = self.directory / "events.jsonl"
        if not path.is_file():
            self.fail("events.jsonl", "missing")
            return
        with path.open("rb") as handle:
            for number, raw in enumerate(iter(lambda: handle.readline(LEAF_LINE_MAX + 1), b""), start=1):
                if not raw.endswith(b"\n"):
                    self.fail(f"line {number}", "not newline-terminated, or longer than a leaf may be")
                    continue
                yield number, raw[:-1]

    def _check_leaf(self, line: bytes, index: int, subject: str) -> None:
        try:
            leaf, plain = _parse_leaf(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.fail(subject, "not JSON")
            return
        if not isinstance(leaf, dict) or not set(LEAF_FIELDS) <= set(leaf):
            self.fail(subject, f"a leaf has the fields {', '.join(LEAF_FIELDS)}")
            return
        try:
            canonical = _canonical(line, leaf, plain)
        except (rfc8785.CanonicalizationError, ValueError) as error:
            self.fail(subject, f"cannot be canonicalised: {error}")
            return
        if canonical != line:
            self.fail(subject, "not in canonical RFC 8785 form")
        if leaf["index"] != index:
            self.fail(
                subject, f"its index is {leaf['index']!r}: the leaves are out of order, or one is missing or extra"
            )

    # Comparisons.

    def _compare_roots(self, checkpoints: _Checkpoints, recomputed: dict[int, bytes]) -> None:
        previous = self.manifest.get("first_index", 0)
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

    def _check_proofs(self, checkpoints: _Checkpoints) -> None:
        sizes = sorted(s for s in checkpoints.roots if s > 0)
        expected = {f"{a}-{b}.json" for a, b in pairwise(sizes)}
        folder = self.directory / "proofs"
        present = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        for name in sorted(expected - present):
            self.fail(f"proof {name}", "missing: successive checkpoints need a consistency proof")
        for name in sorted(present):
            self._check_proof(folder / name, checkpoints)

    def _check_proof(self, path: Path, checkpoints: _Checkpoints) -> None:
        subject = f"proof {path.name}"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            size1, size2 = int(data["size1"]), int(data["size2"])
            root1, root2 = base64.b64decode(data["root1"]), base64.b64decode(data["root2"])
            proof = [base64.b64decode(h) for h in data["proof"]]
        except (ValueError, KeyError, TypeError, binascii.Error) as error:
            self.fail(subject, f"malformed: {error}")
            return
        for size, root in ((size1, root1), (size2, root2)):
            if size in checkpoints.roots and checkpoints.roots[size] != root:
                self.fail(subject, f"its root for size {size} is not the signed checkpoint's")
        try:
            verify_consistency(size1, size2, root1, root2, proof)
        except ProofError as error:
            self.fail(subject, f"does not verify: {error}")

    def _check_trusted(self, trusted: Checkpoint, recomputed: dict[int, bytes], base: CompactRange) -> None:
        subject = "trusted checkpoint"
        if trusted.origin != self.manifest["origin"]:
            self.fail(subject, f"origin {trusted.origin!r} is another log's")
        elif trusted.size > self.manifest["tree_size"]:
            self.fail(
                subject,
                f"it covers {trusted.size} leaves but the bundle only {self.manifest['tree_size']}: "
                "the log has been truncated",
            )
        elif trusted.size < base.size:
            self.fail(subject, f"it is older than the bundle's first leaf {base.size}: export with --since it")
        elif recomputed.get(trusted.size) != trusted.root:
            self.fail(subject, f"the bundle's tree at size {trusted.size} has another root: a forked history")


class _Unusual(Exception):
    """A leaf with a float or a very large integer: canonicalised the slow, exact way."""


def _reject_float(text: str) -> float:
    raise _Unusual(text)


def _small_int(text: str) -> int:
    value = int(text)
    if abs(value) >= 2**53:
        raise _Unusual(text)
    return value


_PLAIN_DECODER = json.JSONDecoder(parse_float=_reject_float, parse_int=_small_int)
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _parse_leaf(line: bytes) -> tuple[Any, bool]:
    """The leaf, and whether it holds only strings, booleans, nulls and integers
    below 2**53 (no floats), which is every leaf this ledger writes."""
    text = line.decode()
    try:
        return _PLAIN_DECODER.decode(text), True
    except _Unusual:
        return json.loads(text), False


def _canonical(line: bytes, leaf: Any, plain: bool) -> bytes:
    """RFC 8785 bytes of the leaf. For a plain ASCII leaf, sorted compact JSON is
    exactly RFC 8785 (keys sort the same by code point as by UTF-16 unit,
    integers print the same, strings escape the same) and much faster; anything
    else goes through `rfc8785` itself."""
    if plain and line.isascii():
        return _CANONICAL_ENCODER.encode(leaf).encode()
    return rfc8785.dumps(leaf)


def verify_bundle(
    directory: Path, key: str, *, trusted: str | None = None, witness_key: str | None = None
) -> list[Finding]:
    """All findings about the bundle; an empty list means it verifies."""
    try:
        verifier = Verifier.parse(key)
        witness = Verifier.parse(witness_key) if witness_key else None
    except NoteError as error:
        return [Finding("key", str(error))]
    return _Verification(directory, verifier, trusted, witness).run()
