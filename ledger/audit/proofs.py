"""Single-transaction proofs: one leaf, its inclusion proof, and a signed checkpoint.

A supervisor checks one transaction with `verify_leaf_proof`, offline, without
the rest of the log.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import rfc8785

from ledger.audit.log import AuditLog, StoredCheckpoint
from ledger.audit.merkle import ProofError, inclusion_proof, leaf_hash, verify_inclusion
from ledger.audit.notes import Checkpoint, Note, NoteError, Verifier

PROOF_FORMAT = {"name": "crypto-bank-ledger/inclusion-proof", "version": 1}


def leaf_proof(audit: AuditLog, index: int, checkpoint: StoredCheckpoint) -> dict[str, Any]:
    if not 0 <= index < checkpoint.size:
        raise ProofError(f"leaf {index} is not in the log of {checkpoint.size} leaves")
    (leaf,) = audit.leaves(index, index + 1)
    return {
        "format": PROOF_FORMAT,
        "index": index,
        "tree_size": checkpoint.size,
        "leaf": leaf.decode(),
        "proof": [base64.b64encode(h).decode() for h in inclusion_proof(index, checkpoint.size, audit.hash_range)],
        "checkpoint": checkpoint.note,
    }


def verify_leaf_proof(document: dict[str, Any], key: str) -> dict[str, Any]:
    """The leaf, as JSON, if the proof holds; raises `ProofError` or `NoteError` otherwise."""
    verifier = Verifier.parse(key)
    try:
        note = Note.parse(document["checkpoint"])
        leaf = str(document["leaf"]).encode()
        index, size = int(document["index"]), int(document["tree_size"])
        proof = [base64.b64decode(h, validate=True) for h in document["proof"]]
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise ProofError(f"malformed proof document: {error}") from None
    if not note.verified_by(verifier):
        raise NoteError(f"the checkpoint is not signed by {verifier.name}+{verifier.key_id.hex()}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.size != size:
        raise ProofError(f"the proof is for a tree of {size} leaves, the checkpoint has {checkpoint.size}")
    parsed = json.loads(leaf)
    if rfc8785.dumps(parsed) != leaf:
        raise ProofError("the leaf is not in canonical RFC 8785 form")
    if parsed.get("index") != index:
        raise ProofError(f"the leaf says index {parsed.get('index')!r}, the proof {index}")
    verify_inclusion(index, size, leaf_hash(leaf), proof, checkpoint.root)
    return dict(parsed)
