"""RFC 9162 Merkle trees: leaf and node hashes, a compact range, proofs.

`CompactRange` keeps the roots of the perfect subtrees along the right edge
of the tree, so appending N leaves costs about N hashes and the root of any
size is a fold of at most log2(N) hashes. Proofs are built from a function
that gives the hash of any range of leaves (`RangeHasher`), and verified with
the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

RangeHasher = Callable[[int, int], bytes]  # the hash of leaves [start, end)
T = TypeVar("T")  # a node: a hash, or (liabilities) a hash and a sum


class ProofError(ValueError):
    """A proof that does not verify; the message says why."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


_LEAF_PREFIX = hashlib.sha256(b"\x00")


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """The leaf hash of each, from a hash state that has taken the 0x00 prefix already."""
    digests = []
    for leaf in leaves:
        state = _LEAF_PREFIX.copy()
        state.update(leaf)
        digests.append(state.digest())
    return digests


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1)."""
    assert size > 1
    return 1 << ((size - 1).bit_length() - 1)


class CompactRange:
    """The perfect subtrees [(size, hash), ...] covering leaves [0, size)."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        sizes = [1 << bit for bit in reversed(range(size.bit_length())) if size >> bit & 1]
        if len(sizes) != len(hashes):
            raise ProofError(f"a compact range of size {size} has {len(sizes)} hashes, {len(hashes)} given")
        self.size = size
        self._nodes: list[tuple[int, bytes]] = list(zip(sizes, hashes, strict=True))

    @property
    def hashes(self) -> list[bytes]:
        return [digest for _, digest in self._nodes]

    def append(self, leaf_digest: bytes) -> None:
        nodes = self._nodes
        nodes.append((1, leaf_digest))
        while len(nodes) > 1 and nodes[-1][0] == nodes[-2][0]:
            (width, right), (_, left) = nodes.pop(), nodes.pop()
            nodes.append((width * 2, node_hash(left, right)))
        self.size += 1

    def append_subtree(self, width: int, digest: bytes) -> None:
        """Appends the root of `width` leaves (a power of two) at a size it aligns with."""
        assert width & (width - 1) == 0, width
        assert self.size % width == 0, (width, self.size)
        nodes = self._nodes
        nodes.append((width, digest))
        while len(nodes) > 1 and nodes[-1][0] == nodes[-2][0]:
            (double, right), (_, left) = nodes.pop(), nodes.pop()
            nodes.append((double * 2, node_hash(left, right)))
        self.size += width

    def extend(self, leaf_digests: Iterable[bytes]) -> None:
        for digest in leaf_digests:
            self.append(digest)

    def extend_packed(self, digests: bytes) -> None:
        """`extend` by leaf hashes packed end to end in one string of bytes:
        each aligned run of 256 is folded to its subtree's root first, with
        the same hashes as `extend` and a fraction of its Python work."""
        count, position = len(digests) // HASH_SIZE, 0
        while position < count:
            if self.size % _RUN == 0 and count - position >= _RUN:
                root = perfect_root(digests[position * HASH_SIZE : (position + _RUN) * HASH_SIZE])
                self._push(_RUN, root)
                self.size += _RUN
                position += _RUN
            else:
                self.append(digests[position * HASH_SIZE : (position + 1) * HASH_SIZE])
                position += 1

    def _push(self, width: int, digest: bytes) -> None:
        nodes = self._nodes
        nodes.append((width, digest))
        while len(nodes) > 1 and nodes[-1][0] == nodes[-2][0]:
            (width, right), (_, left) = nodes.pop(), nodes.pop()
            nodes.append((width * 2, node_hash(left, right)))

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        root = self._nodes[-1][1]
        for _, digest in reversed(self._nodes[:-1]):
            root = node_hash(digest, root)
        return root

    def copy(self) -> CompactRange:
        return CompactRange(self.size, self.hashes)


_RUN = 256  # leaf hashes folded at once by `CompactRange.extend_packed`


def perfect_root(digests: bytes) -> bytes:
    """The root of a perfect tree over a power of two of leaf hashes, packed end to end."""
    sha256, step = hashlib.sha256, 2 * HASH_SIZE
    while len(digests) > HASH_SIZE:
        digests = b"".join([sha256(b"\x01" + digests[i : i + step]).digest() for i in range(0, len(digests), step)])
    return digests


def root_of(leaf_digests: Sequence[bytes]) -> bytes:
    tree = CompactRange()
    tree.extend(leaf_digests)
    return tree.root()


def inclusion_proof(index: int, size: int, hash_range: RangeHasher) -> list[bytes]:
    """RFC 9162 PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    return _path(index, 0, size, hash_range)


def _path(index: int, start: int, end: int, hash_range: RangeHasher) -> list[bytes]:
    size = end - start
    if size == 1:
        return []
    k = split_point(size)
    if index - start < k:
        return [*_path(index, start, start + k, hash_range), hash_range(start + k, end)]
    return [*_path(index, start + k, end, hash_range), hash_range(start, start + k)]


def consistency_proof(size1: int, size2: int, hash_range: RangeHasher) -> list[bytes]:
    """RFC 9162 PROOF(size1, D[0:size2])."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return []
    return _subproof(size1, 0, size2, True, hash_range)


def _subproof(m: int, start: int, end: int, complete: bool, hash_range: RangeHasher) -> list[bytes]:
    size = end - start
    if m == size:
        return [] if complete else [hash_range(start, end)]
    k = split_point(size)
    if m <= k:
        return [*_subproof(m, start, start + k, complete, hash_range), hash_range(start + k, end)]
    return [*_subproof(m - k, start + k, end, False, hash_range), hash_range(start, start + k)]


def verify_inclusion(index: int, size: int, leaf_digest: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 section 2.1.3.2; raises `ProofError` when it does not hold."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf_digest) != HASH_SIZE:
        raise ProofError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf_digest)}")
    _check_sizes(proof)
    if walk_inclusion(index, size, leaf_digest, proof, node_hash) != root:
        raise ProofError("the proof leads to a different root")


def walk_inclusion(index: int, size: int, leaf: T, path: Sequence[T], join: Callable[[T, T], T]) -> T:
    """The root a leaf at `index` of `size` leaves leads to by its path, nodes
    made by `join(left, right)` (RFC 9162 section 2.1.3.2's walk); `ProofError`
    when the path does not fit the tree."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = join(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = join(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the tree is deep")
    return r


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 section 2.1.4.2; raises `ProofError` when it does not hold."""
    if _trivially_consistent(size1, size2, root1, root2, proof):
        return
    _check_sizes(proof)
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fr, sr = _walk_consistency(size1 - 1, size2 - 1, path)
    if fr != root1:
        raise ProofError("the proof does not lead to the first root")
    if sr != root2:
        raise ProofError("the proof does not lead to the second root")


def _trivially_consistent(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """The cases decided by the sizes alone: true when consistent, raises when not."""
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size2 < size1:
        raise ProofError(f"size2 {size2} is smaller than size1 {size1}")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes take an empty proof")
        if root1 != root2:
            raise ProofError("equal sizes with different roots")
        return True
    if not proof:
        raise ProofError("the proof is empty")
    return False


def _walk_consistency(fn: int, sn: int, path: list[bytes]) -> tuple[bytes, bytes]:
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the trees are deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the proof is shorter than the trees are deep")
    return fr, sr


def _check_sizes(proof: Sequence[bytes]) -> None:
    for position, digest in enumerate(proof):
        if len(digest) != HASH_SIZE:
            raise ProofError(f"proof hash {position} has {len(digest)} bytes, not {HASH_SIZE}")


def range_hasher(leaf_digests: Sequence[bytes]) -> RangeHasher:
    """Hashes ranges of an in-memory list of leaf hashes (tests, small trees)."""

    def hash_range(start: int, end: int) -> bytes:
        if end - start == 1:
            return leaf_digests[start]
        k = split_point(end - start)
        return node_hash(hash_range(start, start + k), hash_range(start + k, end))

    return hash_range
