"""Hostile bundles for the verifier's tests: a real exported bundle to start
from, and a reference check of it written apart from `ledger.audit`.

The reference follows the specifications the simplest way (RFC 6962's
recursive tree hash, Go's note.Open and tlog.CheckTree read line by line)
and rejects only what is really wrong, so that a bundle the verifier accepts
and the reference rejects is a verifier bug.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.audit.notes import Signer
from tests.integration.test_audit_bundle import NOW, export, sandbox_with_history

__all__ = ["NOW", "RealBundle", "export_real_bundle", "reference_accepts", "tree_hash"]

FORMAT = {"name": "crypto-bank-ledger/audit-bundle", "version": 1}


@dataclass(frozen=True)
class RealBundle:
    path: Path
    home: Path  # the bank's sandbox it was exported from
    key: str  # the pinned verifier key
    signer: Signer  # the bank's: a mutation may sign what it changed


def export_real_bundle(home: Path, directory: Path) -> RealBundle:
    """A bundle exported from a sandbox with some history, checkpointed every five commands."""
    sandbox = sandbox_with_history(home)
    export(sandbox, directory)
    return RealBundle(directory, home, sandbox.verifier_key(), sandbox.signer())


# The reference.


def _leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_hash(hashes: list[bytes]) -> bytes:
    """RFC 6962 MTH, recursively."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return _node_hash(tree_hash(hashes[:k]), tree_hash(hashes[k:]))


def _run_tree_proof(proof: list[bytes], lo: int, hi: int, n: int, old: bytes) -> tuple[bytes, bytes]:
    """Go's sumdb/tlog runTreeProof: the old and new hashes of leaves [lo, hi)."""
    if n == hi:
        if lo == 0:
            if proof:
                raise ValueError("proof too long")
            return old, old
        if len(proof) != 1:
            raise ValueError("proof of the wrong length")
        return proof[0], proof[0]
    if not proof:
        raise ValueError("proof too short")
    k = 1
    while k * 2 < hi - lo:
        k *= 2
    if n <= lo + k:
        oh, th = _run_tree_proof(proof[:-1], lo, lo + k, n, old)
        return oh, _node_hash(th, proof[-1])
    oh, th = _run_tree_proof(proof[:-1], lo + k, hi, n, old)
    return _node_hash(proof[-1], oh), _node_hash(proof[-1], th)


def check_tree(proof: list[bytes], t: int, th: bytes, n: int, h: bytes) -> bool:
    """Go's tlog.CheckTree: the tree of size t with hash th extends the tree of size n with hash h."""
    if t < 1 or n < 1 or n > t:
        return False
    try:
        h2, th2 = _run_tree_proof(proof, 0, t, n, h)
    except ValueError:
        return False
    return h2 == h and th2 == th


def _key_parts(key: str) -> tuple[str, bytes, bytes]:
    name, key_id, material = key.split("+", 2)
    return name, bytes.fromhex(key_id), base64.b64decode(material)[1:]


def open_note(data: bytes, key: str) -> str | None:
    """Go's note.Open with the one known key: the note's text, or None."""
    name, key_id, public = _key_parts(key)
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in message):
        return None
    split = message.rfind("\n\n")
    if split < 0:
        return None
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        return None
    verified = False
    for line in block[:-1].split("\n"):
        if not line.startswith("\u2014 "):
            return None
        signer, _, encoded = line[2:].partition(" ")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return None
        if not signer or "+" in signer or any(ch.isspace() for ch in signer) or len(signature) < 5:
            return None
        if (signer, signature[:4]) != (name, key_id):
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature[4:], text.encode())
        except InvalidSignature:
            return None  # a known key's signature that fails rejects the note
        verified = True
    return text if verified else None


def _entries(folder: Path) -> list[str] | None:
    """The names in a folder that holds only regular files (no links); None otherwise."""
    names = sorted(os.listdir(folder))
    for name in names:
        if not stat.S_ISREG(os.lstat(folder / name).st_mode):
            return None
    return names


def _strict_json(data: bytes) -> Any:
    def refuse(text: str) -> Any:
        raise ValueError(text)

    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def reference_accepts(bundle: Path, key: str) -> bool:
    """Whether a full bundle (from leaf 0) is valid under the pinned key."""
    name = key.split("+", 1)[0]
    top = {entry: os.lstat(bundle / entry).st_mode for entry in os.listdir(bundle)}
    kinds = {"manifest.json": stat.S_ISREG, "events.jsonl": stat.S_ISREG, "checkpoints": stat.S_ISDIR}
    kinds["proofs"] = kinds["tiles"] = stat.S_ISDIR  # (the tiles are read by tile clients, not by this reference)
    if set(top) - set(kinds) or not all(kinds[entry](mode) for entry, mode in top.items()):
        return False
    if not {"manifest.json", "events.jsonl", "checkpoints"} <= set(top):
        return False
    try:
        manifest = _strict_json((bundle / "manifest.json").read_bytes())
    except (ValueError, RecursionError):
        return False
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("origin") != name:
        return False
    if manifest.get("first_index", 0) != 0 or manifest.get("base_range", []) != []:
        return False
    if type(manifest.get("tree_size")) is not int or type(manifest.get("verifier_keys")) is not list:
        return False
    # The leaves.
    data = (bundle / "events.jsonl").read_bytes()
    if data and not data.endswith(b"\n"):
        return False
    lines = data.split(b"\n")[:-1] if data else []
    for index, line in enumerate(lines):
        try:
            leaf = _strict_json(line)
            if rfc8785.dumps(leaf) != line:
                return False
        except (ValueError, RecursionError):
            return False
        fields = ("index", "stream", "version", "type", "recorded_at", "data")
        if not isinstance(leaf, dict) or not all(field in leaf for field in fields):
            return False
        if type(leaf["index"]) is not int or leaf["index"] != index:
            return False
    if manifest["tree_size"] != len(lines):
        return False
    hashes = [_leaf_hash(line) for line in lines]
    # The checkpoints.
    names = _entries(bundle / "checkpoints")
    if not names:
        return False
    roots = {}
    for entry in names:
        if not (entry.isascii() and entry.isdigit() and str(int(entry)) == entry):
            return False
        text = open_note((bundle / "checkpoints" / entry).read_bytes(), key)
        if text is None:
            return False
        body = text.split("\n")
        if len(body) < 4 or body[-1] != "" or body[0] != name or body[1] != entry or "" in body[3:-1]:
            return False
        try:
            root = base64.b64decode(body[2], validate=True)
        except (binascii.Error, ValueError):
            return False
        size = int(entry)
        if size > len(lines) or root != tree_hash(hashes[:size]):
            return False
        roots[size] = root
    if max(roots) != len(lines) or ("checkpoints" in manifest and manifest["checkpoints"] != sorted(roots)):
        return False
    # The proofs.
    proofs = _entries(bundle / "proofs") if "proofs" in top else []
    if proofs is None:
        return False
    sizes = sorted(s for s in roots if s > 0)
    expected = [f"{a}-{b}.json" for a, b in itertools.pairwise(sizes)]
    if sorted(proofs) != sorted(expected) or ("proofs" in manifest and sorted(manifest["proofs"]) != sorted(expected)):
        return False
    for entry in expected:
        size1, size2 = (int(part) for part in entry.removesuffix(".json").split("-"))
        try:
            document = _strict_json((bundle / "proofs" / entry).read_bytes())
            path = [base64.b64decode(h, validate=True) for h in document["proof"]]
            claimed = (document["size1"], document["size2"], document["root1"], document["root2"])
        except (ValueError, RecursionError, KeyError, TypeError, binascii.Error):
            return False
        if claimed != (size1, size2, base64.b64encode(roots[size1]).decode(), base64.b64encode(roots[size2]).decode()):
            return False
        if not check_tree(path, size2, roots[size2], size1, roots[size1]):
            return False
    return True
