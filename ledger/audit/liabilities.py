"""Proof of liabilities (DESIGN.md section 9): what the bank owes its clients, per asset, provably.

At a signed checkpoint of the log, each asset gets a Merkle-sum tree: a leaf
per client holding it, made of a salted commitment to the client's id and the
client's balance; each node carries the sum of its children. The roots are
signed in a note that names the checkpoint, so the totals tie to the audit
trail. A client checks their own leaf's path to the root; the supervisor
checks the whole tree, or the totals against a replay of the exported bundle.

The encoding (the README's "Proof of liabilities" gives it too, for other
implementations):

- sums are unsigned integers of minor units, written as 16 bytes big-endian
  (`SUM_BYTES`); every sum, a node's included, is below 2**128;
- commitment = SHA-256("ledger-liabilities/v1 commitment" 0x00 || u16 len(asset)
  || asset || u16 len(client id) || client id || salt), UTF-8, the salt 32
  random bytes per client and asset, lengths big-endian;
- leaf = (SHA-256(0x00 || commitment || sum(balance)), balance);
- node = (SHA-256(0x01 || sum(left) || hash(left) || sum(right) || hash(right)),
  sum(left) + sum(right)): both children's sums are hashed, so no sum can be
  moved between siblings (the flaw of Maxwell's first design);
- the tree is RFC 9162's shape (the left subtree the largest power of two
  smaller than the count) over the leaves sorted by commitment, so a leaf's
  place says nothing of who it is; a tree of no leaves is (SHA-256(""), 0);
- an inclusion proof is RFC 9162's PATH, each step a (hash, sum) node, and is
  checked by RFC 9162's algorithm with the node above.

The statement note's text, signed with the bank's log key::

    ledger-liabilities/v1
    origin <the log's origin>
    checkpoint <tree size> <root hash, base64>
    asset <code> <scale> <clients> <total minor units> <root hash, base64>
    ...

one `asset` line per asset registered at the checkpoint, by code. Its second
line is not a number, so no checkpoint reader can take it for a checkpoint.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ledger.audit.merkle import HASH_SIZE, ProofError, split_point, walk_inclusion
from ledger.audit.notes import Note, NoteError, Signer, Verifier, b64decode_strict, sign, signer_of

FORMAT = "ledger-liabilities/v1"
TREE_FORMAT = "ledger-liabilities-tree/v1"
PROOF_FORMAT = "ledger-liabilities-proof/v1"
SUM_BYTES = 16
SUM_LIMIT = 1 << (8 * SUM_BYTES)
SALT_BYTES = 32
NAME_BYTES_MAX = 0xFFFF
_COMMITMENT_TAG = b"ledger-liabilities/v1 commitment\x00"
_EMPTY = hashlib.sha256(b"").digest()
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,39}", re.ASCII)
_CODE = re.compile(r"[A-Z][A-Z0-9]{1,11}", re.ASCII)  # domain.money.ASSET_CODE_PATTERN


class LiabilitiesError(ValueError):
    """A statement, tree or proof that is malformed or does not hold; the message says which part."""


# The encoding.


@dataclass(frozen=True)
class Node:
    hash: bytes
    total: int


def encode_sum(total: int) -> bytes:
    if not 0 <= total < SUM_LIMIT:
        raise LiabilitiesError(f"a sum of {total} is outside 0 .. 2**{8 * SUM_BYTES} - 1")
    return total.to_bytes(SUM_BYTES, "big")


def _length_prefixed(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > NAME_BYTES_MAX:
        raise LiabilitiesError(f"{text[:40]!r}... is longer than {NAME_BYTES_MAX} bytes")
    return len(raw).to_bytes(2, "big") + raw


def commitment(asset: str, client_id: str, salt: bytes) -> bytes:
    if len(salt) != SALT_BYTES:
        raise LiabilitiesError(f"a salt has {SALT_BYTES} bytes, not {len(salt)}")
    return hashlib.sha256(_COMMITMENT_TAG + _length_prefixed(asset) + _length_prefixed(client_id) + salt).digest()


def leaf_node(committed: bytes, balance: int) -> Node:
    return Node(hashlib.sha256(b"\x00" + committed + encode_sum(balance)).digest(), balance)


def parent(left: Node, right: Node) -> Node:
    total = left.total + right.total
    encoded = b"\x01" + encode_sum(left.total) + left.hash + encode_sum(right.total) + right.hash
    encode_sum(total)  # an overflowing node is refused, not wrapped
    return Node(hashlib.sha256(encoded).digest(), total)


EMPTY_ROOT = Node(_EMPTY, 0)


# One asset's tree.


@dataclass(frozen=True)
class Holding:
    """One client's balance of an asset, with the salt of its commitment."""

    client_id: str
    balance: int
    salt: bytes


@dataclass
class SumTree:
    """The Merkle-sum tree of one asset's holdings, its leaves in commitment order."""

    asset: str
    holdings: list[Holding]
    _leaves: list[Node] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        committed = [(commitment(self.asset, h.client_id, h.salt), h) for h in self.holdings]
        committed.sort(key=lambda pair: pair[0])
        for (first, one), (second, other) in itertools.pairwise(committed):
            if first == second:
                raise LiabilitiesError(
                    f"{self.asset}: two leaves commit alike ({one.client_id!r}, {other.client_id!r})"
                )
        self.holdings = [holding for _, holding in committed]
        self._leaves = [leaf_node(c, h.balance) for c, h in committed]

    @cached_property
    def root(self) -> Node:
        return self._node(0, len(self._leaves)) if self._leaves else EMPTY_ROOT

    def index_of(self, client_id: str) -> int | None:
        return next((n for n, h in enumerate(self.holdings) if h.client_id == client_id), None)

    def path(self, index: int) -> list[Node]:
        """RFC 9162 PATH(index, leaves), of (hash, sum) nodes."""
        return _path(index, 0, len(self._leaves), self._node)

    def _node(self, start: int, end: int) -> Node:
        if end - start == 1:
            return self._leaves[start]
        k = split_point(end - start)
        return parent(self._node(start, start + k), self._node(start + k, end))


def _path(index: int, start: int, end: int, node: Callable[[int, int], Node]) -> list[Node]:
    if end - start == 1:
        return []
    k = split_point(end - start)
    if index - start < k:
        return [*_path(index, start, start + k, node), node(start + k, end)]
    return [*_path(index, start + k, end, node), node(start, start + k)]


def root_from_path(index: int, size: int, leaf: Node, path: Sequence[Node]) -> Node:
    """The root a leaf at `index` of `size` leaves leads to by its path (RFC 9162 section 2.1.3.2)."""
    try:
        return walk_inclusion(index, size, leaf, path, parent)
    except ProofError as error:
        raise LiabilitiesError(str(error)) from None


# The signed statement.


@dataclass(frozen=True)
class AssetRoot:
    asset: str
    scale: int
    clients: int
    total: int
    root: bytes


@dataclass(frozen=True)
class Statement:
    """What a liabilities note states: the checkpoint it was computed at and each asset's root."""

    origin: str
    checkpoint_size: int
    checkpoint_root: bytes
    assets: tuple[AssetRoot, ...]

    def text(self) -> str:
        lines = [FORMAT, f"origin {self.origin}", f"checkpoint {self.checkpoint_size} {_b64(self.checkpoint_root)}"]
        lines += [f"asset {a.asset} {a.scale} {a.clients} {a.total} {_b64(a.root)}" for a in self.assets]
        return "\n".join(lines) + "\n"

    def asset(self, code: str) -> AssetRoot:
        found = next((a for a in self.assets if a.asset == code), None)
        if found is None:
            raise LiabilitiesError(f"the statement has no asset {code!r}")
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "checkpoint": {"size": self.checkpoint_size, "root": _b64(self.checkpoint_root)},
            "assets": [
                {
                    "asset": a.asset,
                    "scale": a.scale,
                    "clients": a.clients,
                    "total_minor": str(a.total),
                    "root": _b64(a.root),
                }
                for a in self.assets
            ],
        }


def parse_statement(text: str) -> Statement:
    """A statement's text exactly as `Statement.text` writes it; `LiabilitiesError` otherwise."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or lines[0] != FORMAT:
        raise LiabilitiesError(f"not a {FORMAT} statement (its first line must be {FORMAT!r})")
    origin = _field(lines[1], "origin", 1)[0]
    size, root = _field(lines[2], "checkpoint", 2)
    assets = tuple(_asset_line(line) for line in lines[3:-1])
    codes = [a.asset for a in assets]
    if codes != sorted(set(codes)):
        raise LiabilitiesError("the statement's assets must each appear once, by code")
    statement = Statement(origin, _count(size, "the checkpoint size"), _hash(root, "the checkpoint root"), assets)
    if statement.text() != text:
        raise LiabilitiesError("the statement is not in its canonical form")
    return statement


def _field(line: str, name: str, count: int) -> list[str]:
    parts = line.split(" ")
    if parts[0] != name or len(parts) != count + 1 or not all(parts[1:]):
        raise LiabilitiesError(f"expected a line {name!r} with {count} value(s), got {line[:80]!r}")
    return parts[1:]


def _asset_line(line: str) -> AssetRoot:
    code, scale, clients, total, root = _field(line, "asset", 5)
    if not _CODE.fullmatch(code):
        raise LiabilitiesError(
            f"asset code {code[:20]!r} is not an asset code (a capital letter, then 1 to 11 capitals or digits)"
        )
    return AssetRoot(
        code,
        _count(scale, f"{code}'s scale"),
        _count(clients, f"{code}'s clients"),
        parse_sum(total, f"{code}'s total"),
        _hash(root, f"{code}'s root"),
    )


def parse_sum(text: Any, what: str) -> int:
    if not isinstance(text, str) or not _DECIMAL.fullmatch(text):
        shown = text if isinstance(text, int) else repr(text)[:40]
        if isinstance(text, str) and text.startswith("-"):
            raise LiabilitiesError(f"{what} is negative ({shown}): no sum may be")
        raise LiabilitiesError(f"{what} must be a decimal string of minor units, got {shown}")
    value = int(text)
    if value >= SUM_LIMIT:
        raise LiabilitiesError(f"{what} ({value}) overflows {8 * SUM_BYTES} bits")
    return value


def _count(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text) or len(text) > 19:
        raise LiabilitiesError(f"{what} must be a decimal count, got {text[:40]!r}")
    return int(text)


def _hash(text: Any, what: str) -> bytes:
    try:
        raw = b64decode_strict(text) if isinstance(text, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != HASH_SIZE:
        raise LiabilitiesError(f"{what} must be {HASH_SIZE} bytes in canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def open_statement(note_text: str, keys: Sequence[str]) -> Statement:
    """The statement of a note signed by one of the bank's verifier `keys` (and
    failing for none of them); raises `LiabilitiesError`."""
    try:
        note = Note.parse(note_text)
        signer = signer_of(note, [Verifier.parse(key) for key in keys])
    except NoteError as error:
        raise LiabilitiesError(f"the statement: {error}") from None
    statement = parse_statement(note.text)
    if statement.origin != signer.name:
        raise LiabilitiesError(f"the statement is of {statement.origin!r}, the key of {signer.name!r}")
    return statement


# Building, proving, verifying.


@dataclass(frozen=True)
class Built:
    note: str
    statement: Statement
    trees: dict[str, SumTree]

    def tree_document(self) -> dict[str, Any]:
        """The bank's private record of every leaf (with its salt), from which proofs are given."""
        return {
            "format": TREE_FORMAT,
            "note": self.note,
            "assets": {
                code: [
                    {"client_id": h.client_id, "balance_minor": str(h.balance), "salt": _b64(h.salt)}
                    for h in tree.holdings
                ]
                for code, tree in self.trees.items()
            },
        }


def build(
    signer: Signer,
    checkpoint: tuple[int, bytes],
    scales: Mapping[str, int],
    balances: Mapping[str, Mapping[str, int]],
    salt: Callable[[], bytes] = lambda: secrets.token_bytes(SALT_BYTES),
) -> Built:
    """The trees of every asset in `scales` over the clients' non-zero `balances`, signed by `signer`."""
    trees: dict[str, SumTree] = {}
    roots = []
    for code in sorted(scales):
        held = balances.get(code, {})
        holdings = [Holding(client, held[client], salt()) for client in sorted(held) if held[client]]
        if any(h.balance < 0 for h in holdings):
            raise LiabilitiesError(f"{code}: a client balance is negative; the books are broken")
        tree = trees[code] = SumTree(code, holdings)
        roots.append(AssetRoot(code, scales[code], len(holdings), tree.root.total, tree.root.hash))
    statement = Statement(signer.name, checkpoint[0], checkpoint[1], tuple(roots))
    return Built(sign(statement.text(), [signer]), statement, trees)


def read_tree(document: Any, keys: Sequence[str]) -> Built:
    """The trees of a private tree document, rebuilt and checked against its signed statement."""
    if not isinstance(document, dict) or document.get("format") != TREE_FORMAT:
        raise LiabilitiesError(f"not a {TREE_FORMAT} document")
    statement = open_statement(_text(document.get("note"), "the note"), keys)
    assets = document.get("assets")
    if not isinstance(assets, dict) or sorted(assets) != [a.asset for a in statement.assets]:
        raise LiabilitiesError("the tree's assets are not the statement's")
    trees = {}
    for stated in statement.assets:
        leaves = assets[stated.asset]
        if not isinstance(leaves, list):
            raise LiabilitiesError(f"{stated.asset}: the leaves must be a list")
        tree = SumTree(stated.asset, [_holding(leaf, f"{stated.asset} leaf {n}") for n, leaf in enumerate(leaves)])
        if [h.client_id for h in tree.holdings] != [_text(leaf["client_id"], "") for leaf in leaves]:
            raise LiabilitiesError(f"{stated.asset}: the leaves are not in commitment order")
        _check_root(stated, len(tree.holdings), tree.root)
        trees[stated.asset] = tree
    return Built(document["note"], statement, trees)


def _holding(leaf: Any, where: str) -> Holding:
    if not isinstance(leaf, dict) or set(leaf) != {"client_id", "balance_minor", "salt"}:
        raise LiabilitiesError(f"{where}: expected client_id, balance_minor and salt")
    balance = parse_sum(leaf["balance_minor"], f"{where}: the balance")
    try:
        salt = b64decode_strict(leaf["salt"]) if isinstance(leaf["salt"], str) else b""
    except ValueError:
        salt = b""
    if len(salt) != SALT_BYTES:
        raise LiabilitiesError(f"{where}: the salt must be {SALT_BYTES} bytes in canonical base64")
    return Holding(_text(leaf["client_id"], f"{where}: the client id"), balance, salt)


def _check_root(stated: AssetRoot, clients: int, root: Node) -> None:
    if clients != stated.clients:
        raise LiabilitiesError(f"{stated.asset}: {clients} leaves, the statement says {stated.clients}")
    if root.total != stated.total:
        raise LiabilitiesError(f"{stated.asset}: the leaves sum to {root.total}, the statement says {stated.total}")
    if root.hash != stated.root:
        raise LiabilitiesError(f"{stated.asset}: the leaves lead to another root than the statement's")


def prove(built: Built, client_id: str) -> dict[str, Any]:
    """A client's inclusion proof in every tree that holds a balance of theirs."""
    entries = []
    for code, tree in built.trees.items():
        index = tree.index_of(client_id)
        if index is None:
            continue
        holding = tree.holdings[index]
        entries.append(
            {
                "asset": code,
                "balance_minor": str(holding.balance),
                "salt": _b64(holding.salt),
                "index": index,
                "size": len(tree.holdings),
                "path": [{"hash": _b64(n.hash), "sum_minor": str(n.total)} for n in tree.path(index)],
            }
        )
    if not entries:
        raise LiabilitiesError(f"client {client_id!r} holds nothing in this statement")
    return {"format": PROOF_FORMAT, "client_id": client_id, "note": built.note, "entries": entries}


@dataclass(frozen=True)
class ProvenBalances:
    statement: Statement
    client_id: str
    balances: dict[str, int]


def verify_proof(document: Any, keys: Sequence[str]) -> ProvenBalances:
    """The client's balances a proof proves against its signed statement; `LiabilitiesError` otherwise."""
    if not isinstance(document, dict) or document.get("format") != PROOF_FORMAT:
        raise LiabilitiesError(f"not a {PROOF_FORMAT} document")
    statement = open_statement(_text(document.get("note"), "the note"), keys)
    client_id = _text(document.get("client_id"), "the client id")
    entries = document.get("entries")
    if not isinstance(entries, list) or not entries:
        raise LiabilitiesError("the proof has no entries")
    balances: dict[str, int] = {}
    for entry in entries:
        code, balance = _verify_entry(statement, client_id, entry)
        if code in balances:
            raise LiabilitiesError(f"{code}: two entries")
        balances[code] = balance
    return ProvenBalances(statement, client_id, balances)


def _verify_entry(statement: Statement, client_id: str, entry: Any) -> tuple[str, int]:
    if not isinstance(entry, dict):
        raise LiabilitiesError("an entry must be an object")
    code = _text(entry.get("asset"), "an entry's asset")
    stated = statement.asset(code)
    balance = parse_sum(entry.get("balance_minor"), f"{code}: the balance")
    leaf = _holding(
        {"client_id": client_id, "balance_minor": entry.get("balance_minor"), "salt": entry.get("salt")}, code
    )
    index, size = entry.get("index"), entry.get("size")
    if type(index) is not int or type(size) is not int:
        raise LiabilitiesError(f"{code}: index and size must be integers")
    if size != stated.clients:
        raise LiabilitiesError(f"{code}: the proof is for {size} leaves, the statement has {stated.clients}")
    path = entry.get("path")
    if not isinstance(path, list):
        raise LiabilitiesError(f"{code}: the path must be a list")
    steps = [_step(step, f"{code}: path step {n}") for n, step in enumerate(path)]
    root = root_from_path(index, size, leaf_node(commitment(code, client_id, leaf.salt), balance), steps)
    if root.hash != stated.root or root.total != stated.total:
        raise LiabilitiesError(f"{code}: the path leads to another root than the statement's")
    return code, balance


def _step(step: Any, where: str) -> Node:
    if not isinstance(step, dict) or set(step) != {"hash", "sum_minor"}:
        raise LiabilitiesError(f"{where}: expected hash and sum_minor")
    return Node(_hash(step["hash"], f"{where}: the hash"), parse_sum(step["sum_minor"], f"{where}: the sum"))


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise LiabilitiesError(f"{what} must be a non-empty string")
    return value


def check_against_holdings(
    statement: Statement, scales: Mapping[str, int], balances: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """Where the statement's totals differ from the clients' holdings a replay gives at its checkpoint."""
    problems = []
    stated = {a.asset: a for a in statement.assets}
    for code in sorted(set(scales) | set(stated)):
        if code not in stated:
            problems.append(f"{code}: held at the checkpoint, missing from the statement")
            continue
        if code not in scales:
            problems.append(f"{code}: in the statement, not an asset of the log at the checkpoint")
            continue
        held = [b for b in balances.get(code, {}).values() if b]
        if stated[code].scale != scales[code]:
            problems.append(f"{code}: scale {stated[code].scale} stated, {scales[code]} in the log")
        if stated[code].total != sum(held) or stated[code].clients != len(held):
            problems.append(
                f"{code}: the statement says {stated[code].total} minor units over {stated[code].clients} clients, "
                f"the log's replay {sum(held)} over {len(held)}"
            )
    return problems
