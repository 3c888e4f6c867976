"""Single-transaction proofs: one leaf, its inclusion proof, and a signed checkpoint.

A supervisor checks one transaction with `verify_leaf_proof`, offline, without
the rest of the log.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import rfc8785

from ledger.audit.log import AuditLog, StoredCheckpoint
from ledger.audit.merkle import ProofError, inclusion_proof, leaf_hash, verify_inclusion
from ledger.audit.notes import Checkpoint, Note, NoteError, Verifier
from ledger.audit.policy import Policy

PROOF_FORMAT = {"name": "crypto-bank-ledger/inclusion-proof", "version": 1}


def leaf_proof(audit: AuditLog, index: int, checkpoint: StoredCheckpoint) -> dict[str, Any]:
    if not 0 <= index < checkpoint.size:
        raise ProofError(f"leaf {index} is not in the log of {checkpoint.size} leaves")
    (leaf,) = audit.leaves(index, index + 1)
    with audit.tiled() as tiled:  # one snapshot, its tiles read once
        path = inclusion_proof(index, checkpoint.size, tiled.hash_range)
    return {
        "format": PROOF_FORMAT,
        "index": index,
        "tree_size": checkpoint.size,
        "leaf": leaf.decode(),
        "proof": [base64.b64encode(h).decode() for h in path],
        "checkpoint": checkpoint.note,
    }


def verify_leaf_proof(document: dict[str, Any], key: str | None, *, policy: Policy | None = None) -> dict[str, Any]:
    """The leaf, as JSON, if the proof holds; raises `ProofError` or `NoteError` otherwise."""
    try:
        note = Note.parse(document["checkpoint"])
        leaf = str(document["leaf"]).encode()
        index, size = int(document["index"]), int(document["tree_size"])
        proof = [base64.b64decode(h, validate=True) for h in document["proof"]]
    except (KeyError, TypeError, ValueError, OverflowError, binascii.Error) as error:  # ("index": Infinity)
        raise ProofError(f"malformed proof document: {error}") from None
    checkpoint = check_signed(note, key, policy)
    if checkpoint.size != size:
        raise ProofError(f"the proof is for a tree of {size} leaves, the checkpoint has {checkpoint.size}")
    parsed = json.loads(leaf)
    if rfc8785.dumps(parsed) != leaf:
        raise ProofError("the leaf is not in canonical RFC 8785 form")
    if parsed.get("index") != index:
        raise ProofError(f"the leaf says index {parsed.get('index')!r}, the proof {index}")
    verify_inclusion(index, size, leaf_hash(leaf), proof, checkpoint.root)
    return dict(parsed)


# C2SP tlog-proof@v1: the same proof in the transparency ecosystem's text format.

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
TLOG_PROOF_SUFFIX = ".tlog-proof"
TLOG_PROOF_BYTES_MAX = 1 << 20
_INDEX_LINE = re.compile(r"index (0|[1-9][0-9]{0,19})")
_HASH_LINE = re.compile(r"[A-Za-z0-9+/]{43}=")


def tlog_proof(audit: AuditLog, index: int, checkpoint: StoredCheckpoint) -> str:
    """A `c2sp.org/tlog-proof@v1` of leaf `index`: its bytes in the `extra`
    line (what a verifier needs to compute the leaf hash), the inclusion proof,
    and the checkpoint verbatim, with whatever cosignatures it carries."""
    if not 0 <= index < checkpoint.size:
        raise ProofError(f"leaf {index} is not in the log of {checkpoint.size} leaves")
    (leaf,) = audit.leaves(index, index + 1)
    with audit.tiled() as tiled:
        path = inclusion_proof(index, checkpoint.size, tiled.hash_range)
    lines = [TLOG_PROOF_HEADER, f"extra {base64.b64encode(leaf).decode()}", f"index {index}"]
    lines += [base64.b64encode(digest).decode() for digest in path]
    from ledger.audit.witnessing import with_cosignatures  # noqa: PLC0415 (it imports the log, as this module does)

    return "\n".join(lines) + "\n\n" + with_cosignatures(audit, checkpoint)


def parse_tlog_proof(text: str) -> tuple[bytes, int, list[bytes], str]:
    """The extra data, index, proof hashes and checkpoint note of a tlog-proof,
    read strictly (LF only, ASCII decimal, canonical base64); `ProofError` else."""
    if len(text) > TLOG_PROOF_BYTES_MAX:
        raise ProofError(f"a proof of more than {TLOG_PROOF_BYTES_MAX} bytes")
    head, separator, note = text.partition("\n\n")
    lines = head.split("\n")
    if not separator or lines[0] != TLOG_PROOF_HEADER or "\r" in text:
        raise ProofError(f"not a tlog proof: the first line must be {TLOG_PROOF_HEADER!r}, lines end in LF alone")
    extra = b""
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        try:
            extra = base64.b64decode(rest[0].removeprefix("extra "), validate=True)
        except (binascii.Error, ValueError):
            raise ProofError("the extra line is not base64") from None
        rest = rest[1:]
    if not rest or not _INDEX_LINE.fullmatch(rest[0]):
        raise ProofError("expected 'index N', N in ASCII decimal with no leading zeros")
    index = int(rest[0].removeprefix("index "))
    if not all(_HASH_LINE.fullmatch(line) for line in rest[1:]):
        raise ProofError("every proof line is one SHA-256 hash in base64")
    return extra, index, [base64.b64decode(line) for line in rest[1:]], note


def verify_tlog_proof(text: str, key: str | None, *, policy: Policy | None = None) -> dict[str, Any]:
    """The leaf (its `extra` line), as JSON, if the proof holds against a
    checkpoint signed by `key` (or the policy's log, cosigned by its quorum);
    raises `ProofError` or `NoteError` otherwise."""
    leaf, index, proof, note_text = parse_tlog_proof(text)
    checkpoint = check_signed(Note.parse(note_text), key, policy)
    try:
        parsed = json.loads(leaf)
        canonical = isinstance(parsed, dict) and rfc8785.dumps(parsed) == leaf
    except (ValueError, RecursionError, rfc8785.CanonicalizationError):
        raise ProofError("the extra line does not carry a leaf of this log (canonical JSON)") from None
    if not canonical:
        raise ProofError("the leaf is not in canonical RFC 8785 form")
    if parsed.get("index") != index:
        raise ProofError(f"the leaf says index {parsed.get('index')!r}, the proof {index}")
    verify_inclusion(index, checkpoint.size, leaf_hash(leaf), proof, checkpoint.root)
    return dict(parsed)


def check_signed(note: Note, key: str | None, policy: Policy | None) -> Checkpoint:
    """The checkpoint of a proof, if it is signed by `key` (when given), and accepted by
    the policy (when given): signed by its log for the origin, cosigned by its quorum."""
    assert key is not None or policy is not None, "a proof is checked against a key, a policy, or both"
    if key is not None:
        verifier = Verifier.parse(key)
        if policy is not None and not policy.lists_log(verifier):
            raise NoteError(f"the key {verifier.name}+{verifier.key_id.hex()} is not one of the policy's logs")
        if not note.verified_by(verifier):
            raise NoteError(f"the checkpoint is not signed by {verifier.name}+{verifier.key_id.hex()}")
    return policy.check_checkpoint(note) if policy is not None else Checkpoint.parse(note.text)
