"""One leaf of a bundle, checked: canonical RFC 8785 JSON of the leaf fields, at its index.

Every leaf the ledger writes is shown canonical by the fast check
(`ledger.audit.canonical`: orjson, sorted keys, at C speed); any other line,
a hostile one included, is read the exact way, with the strict JSON reader
and `rfc8785`, which also says precisely what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

import rfc8785

from ledger.audit.canonical import parse_canonical
from ledger.audit.leaves import LEAF_FIELDS
from ledger.audit.strict_json import bounded_float, bounded_int, depth, json_problem, json_type, refuse_constant

LEAF_DEPTH_MAX = 64  # nesting of arrays and objects in a leaf (the ledger writes 3 or 4)

LEAF_TYPES: dict[str, type] = {
    "index": int,
    "stream": str,
    "version": int,
    "type": str,
    "recorded_at": str,
    "data": dict,
}
_LEAF_FIELD_SET = frozenset(LEAF_FIELDS)


def leaf_problems(lines: list[bytes], first_index: int) -> Iterator[tuple[int, str]]:
    """(offset in `lines`, what is wrong) for each line that is not the leaf
    at index `first_index` + its offset: all at once by the fast check, line
    by line the exact way when it cannot tell."""
    if _are_canonical_leaves(lines, first_index):
        return
    for offset, line in enumerate(lines):
        if len(lines) > 1 and _are_canonical_leaves([line], first_index + offset):
            continue
        problem = _exact_problem(line, first_index + offset)
        if problem is not None:
            yield offset, problem


def _are_canonical_leaves(lines: list[bytes], index: int) -> bool:
    leaves = parse_canonical(lines, LEAF_DEPTH_MAX)
    return leaves is not None and _are_leaves_from(leaves, index)


_FIELDS_OF = itemgetter(*LEAF_TYPES)


def _are_leaves_from(leaves: list[Any], index: int) -> bool:
    """Whether the leaves are objects with the leaf fields of their types, at
    consecutive indexes from `index`: column by column, at C speed."""
    if set(map(type, leaves)) != {dict}:
        return False
    try:
        columns = list(zip(*map(_FIELDS_OF, leaves), strict=True))
    except KeyError:
        return False
    kinds = (set(map(type, column)) == {kind} for column, kind in zip(columns, LEAF_TYPES.values(), strict=True))
    return all(kinds) and columns[0] == tuple(range(index, index + len(leaves)))


def _may_be_too_deep(line: bytes) -> bool:
    return line.count(b"{") + line.count(b"[") > LEAF_DEPTH_MAX


def has_leaf_types(leaf: dict[str, Any]) -> bool:
    """The fields of `LEAF_TYPES`, spelled out: this runs for every leaf."""
    return (
        type(leaf["index"]) is int
        and type(leaf["version"]) is int
        and type(leaf["stream"]) is str
        and type(leaf["type"]) is str
        and type(leaf["recorded_at"]) is str
        and type(leaf["data"]) is dict
    )


def _exact_problem(line: bytes, index: int) -> str | None:
    try:
        leaf, plain = parse_leaf(line)
    except UnicodeDecodeError:
        return "not UTF-8"
    except (ValueError, RecursionError) as error:
        return f"not JSON as this verifier reads it: {json_problem(error)}"
    return _shape_problem(line, leaf) or _canonical_problem(line, leaf, plain, index)


def _shape_problem(line: bytes, leaf: Any) -> str | None:
    if type(leaf) is not dict or not leaf.keys() >= _LEAF_FIELD_SET:
        return f"a leaf is an object with the fields {', '.join(LEAF_FIELDS)}"
    if not has_leaf_types(leaf):
        wrong = [name for name, kind in LEAF_TYPES.items() if type(leaf[name]) is not kind]
        return "wrong JSON types: " + ", ".join(f"{n} is {json_type(leaf[n])}" for n in wrong)
    if _may_be_too_deep(line) and depth(leaf) > LEAF_DEPTH_MAX:
        return f"nested more than {LEAF_DEPTH_MAX} deep"
    return None


def _canonical_problem(line: bytes, leaf: dict[str, Any], plain: bool, index: int) -> str | None:
    try:
        canonical = exact_canonical(line, leaf, plain)
    except (ValueError, RecursionError) as error:  # rfc8785's errors are ValueErrors
        return f"cannot be canonicalised: {error}"
    if canonical != line:
        return "not in canonical RFC 8785 form"
    if leaf["index"] != index:
        return f"its index is {leaf['index']!r}: the leaves are out of order, or one is missing or extra"
    return None


class _Unusual(Exception):
    """A leaf with a float or a very large integer: canonicalised by `rfc8785`."""


def _reject_float(text: str) -> float:
    raise _Unusual(text)


def _small_int(text: str) -> int:
    if len(text) > 17:  # beyond 2**53 whatever its digits: checked the exact way, with its limit
        raise _Unusual(text)
    value = int(text)
    if abs(value) >= 2**53:
        raise _Unusual(text)
    return value


_PLAIN_DECODER = json.JSONDecoder(parse_float=_reject_float, parse_int=_small_int, parse_constant=refuse_constant)
_EXACT_DECODER = json.JSONDecoder(parse_float=bounded_float, parse_int=bounded_int, parse_constant=refuse_constant)
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_leaf(line: bytes) -> tuple[Any, bool]:
    """The leaf, and whether it holds only strings, booleans, nulls and integers
    below 2**53 (no floats). Raises ValueError or RecursionError."""
    text = line.decode()
    try:
        return _PLAIN_DECODER.decode(text), True
    except _Unusual:
        return _EXACT_DECODER.decode(text), False


def exact_canonical(line: bytes, leaf: Any, plain: bool) -> bytes:
    """RFC 8785 bytes of the leaf: for a plain ASCII one sorted compact JSON
    (the same bytes), for anything else `rfc8785` itself."""
    if plain and line.isascii():
        return _CANONICAL_ENCODER.encode(leaf).encode()
    return rfc8785.dumps(leaf)
