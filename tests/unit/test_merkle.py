"""The Merkle module against the public RFC 9162 vectors and the reference tree."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from ledger.audit.merkle import (
    CompactRange,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    range_hasher,
    root_of,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "merkle"


def vector_files(kind: str) -> list[Path]:
    # The vectors must be there: a missing folder fails, it does not skip.
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {VECTORS}"
    return files


def b64(text: str | None) -> bytes:
    return base64.b64decode(text or "")


def proof_of(vector: dict[str, Any]) -> list[bytes]:
    return [b64(p) for p in vector["proof"] or []]


@pytest.mark.parametrize("path", vector_files("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vectors_are_accepted_exactly_when_valid(path: Path) -> None:
    vector = json.loads(path.read_text())
    verify = lambda: verify_inclusion(  # noqa: E731
        vector["leafIdx"], vector["treeSize"], b64(vector["leafHash"]), proof_of(vector), b64(vector["root"])
    )
    if vector["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", vector_files("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vectors_are_accepted_exactly_when_valid(path: Path) -> None:
    vector = json.loads(path.read_text())
    verify = lambda: verify_consistency(  # noqa: E731
        vector["size1"], vector["size2"], b64(vector["root1"]), b64(vector["root2"]), proof_of(vector)
    )
    if vector["wantErr"]:
        with pytest.raises(ProofError):
            verify()
    else:
        verify()


def reference_tree() -> tuple[list[bytes], list[bytes]]:
    text = (VECTORS / "reference_tree_constants.go.txt").read_text()
    leaves_block = text[text.index("func LeafInputs") : text.index("func NodeHashes")]
    roots_block = text[text.index("func RootHashes") : text.index("func CompactTrees")]
    leaves = [bytes.fromhex(h) for h in re.findall(r'hd\("([0-9a-f]*)"\)', leaves_block)]
    roots = [bytes.fromhex(h) for h in re.findall(r'hd\("([0-9a-f]*)"\)', roots_block)]
    empty = re.search(r'func EmptyRootHash[^"]*hd\("([0-9a-f]+)"\)', text)
    assert empty is not None
    return leaves, [bytes.fromhex(empty[1]), *roots]


def test_the_reference_tree_roots_for_every_size() -> None:
    leaves, roots = reference_tree()
    assert len(leaves) == 8
    assert len(roots) == 9
    digests = [leaf_hash(leaf) for leaf in leaves]
    for size, root in enumerate(roots):
        assert root_of(digests[:size]) == root


def test_proofs_we_build_verify_for_every_pair_of_sizes_up_to_40() -> None:
    digests = [leaf_hash(bytes([n])) for n in range(40)]
    hasher = range_hasher(digests)
    roots = [root_of(digests[:size]) for size in range(41)]
    for size in range(1, 41):
        for index in range(size):
            verify_inclusion(index, size, digests[index], inclusion_proof(index, size, hasher), roots[size])
        for first in range(1, size + 1):
            verify_consistency(first, size, roots[first], roots[size], consistency_proof(first, size, hasher))


def test_a_tampered_proof_or_leaf_does_not_verify() -> None:
    digests = [leaf_hash(bytes([n])) for n in range(13)]
    hasher, root = range_hasher(digests), root_of(digests)
    proof = inclusion_proof(5, 13, hasher)
    with pytest.raises(ProofError):
        verify_inclusion(5, 13, leaf_hash(b"forged"), proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(6, 13, digests[5], proof, root)
    forked = [*digests[:7], leaf_hash(b"other history"), *digests[8:]]
    with pytest.raises(ProofError):
        verify_consistency(7, 13, root_of(digests[:7]), root_of(forked), consistency_proof(7, 13, hasher))


def test_a_compact_range_resumes_from_its_stored_hashes() -> None:
    digests = [leaf_hash(bytes([n])) for n in range(23)]
    first = CompactRange()
    first.extend(digests[:11])
    resumed = CompactRange(first.size, first.hashes)
    resumed.extend(digests[11:])
    assert resumed.root() == root_of(digests)
    with pytest.raises(ProofError):
        CompactRange(11, first.hashes[:-1])
