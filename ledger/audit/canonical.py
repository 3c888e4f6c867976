"""RFC 8785 (JSON Canonicalization Scheme) at C speed for the leaves the ledger writes.

For JSON made only of ASCII text without escapes, integers of at most 53
bits, booleans, nulls, arrays and objects (every leaf this ledger writes),
orjson's compact output with sorted keys is exactly RFC 8785: keys sort the
same by byte as by UTF-16 unit when they are ASCII, integers print the same,
and text without a character to escape is copied as it is. Anything else (a
float, a larger integer, text with an escape or beyond ASCII) goes through
`rfc8785` itself, which stays the oracle: tests/property/test_canonical_json.py
holds the two byte-equal on every value the fast path takes.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import rfc8785

_SORTED_STRICT = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 bytes of `value` (raises as `rfc8785.dumps` does when it has none)."""
    try:
        text = orjson.dumps(value, option=_SORTED_STRICT)
    except orjson.JSONEncodeError:
        return rfc8785.dumps(value)
    return text if plain_text(text) else rfc8785.dumps(value)


def plain_text(text: bytes) -> bool:
    """Whether compact JSON `text` (orjson's) holds only ASCII without escapes
    and no number that orjson may print otherwise than RFC 8785 does: an
    integral float (orjson `1.0`, RFC 8785 `1`), or one in exponent form
    where ECMAScript writes digits (orjson `1e-6` and `1e+16`, RFC 8785
    `0.000001` and `10000000000000000`; from 1e-7 down and 1e+21 up both
    write `1e-7` and `1e+21`). The patterns may also match inside text,
    which costs only the exact path."""
    if not text.isascii() or b"\\" in text:
        return False
    if _INTEGRAL_FLOAT.search(text):
        return False
    exponent = text.find(b"e-6")  # found by memchr, then the pattern from there
    if exponent >= 0 and _SMALL_EXPONENT.search(text, exponent):
        return False
    return b"+" not in text or not _LARGE_EXPONENT.search(text)


# Each with a literal prefix, which the regular expression engine finds fast.
_INTEGRAL_FLOAT = re.compile(rb"\.0[,}\]]")
_SMALL_EXPONENT = re.compile(rb"e-6[,}\]]")
_LARGE_EXPONENT = re.compile(rb"e\+[0-9]+[,}\]]")


def parse_canonical(lines: list[bytes], depth_max: int) -> list[Any] | None:
    """The JSON values the lines hold when the fast check shows that each line
    is the RFC 8785 form of its value, nested at most `depth_max` deep; None
    when it cannot tell for one of them (then read them the exact way).

    The lines are parsed one by one and written back as one array: equal to
    the lines joined by commas, each line is its value's canonical form, as
    no line that parses alone can hold a top-level comma. The array is
    written inside enough others that orjson's own limit on nesting
    (`_ORJSON_DEPTH_MAX`) refuses a value nested deeper than `depth_max`."""
    padding = _ORJSON_DEPTH_MAX - depth_max - 1
    if padding < 0 or not lines:
        return None
    joined = b",".join(lines)
    if not plain_text(joined):
        return None
    try:
        values = list(map(orjson.loads, lines))
        wrapped: Any = values
        for _ in range(padding):
            wrapped = [wrapped]
        written = orjson.dumps(wrapped, option=_SORTED_STRICT)
        if written[padding + 1 : -padding - 1] != joined or len(written) != len(joined) + 2 * padding + 2:
            return None
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return None
    return values


def _depth_max_of_orjson() -> int:
    """How deep orjson writes arrays and objects (254 in orjson 3); -1, which
    turns the fast check off, if it writes deeper than it is tried here."""
    nested: Any = None
    for depth in range(1, 1025):
        nested = [nested]
        try:
            orjson.dumps(nested)
        except orjson.JSONEncodeError:
            return depth - 1
    return -1


_ORJSON_DEPTH_MAX = _depth_max_of_orjson()
