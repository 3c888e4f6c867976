"""JSON as strictly as a verifier reads hostile input, and how to name what is wrong with it.

RFC 8259 and no more: UTF-8 without a byte order mark, no NaN or Infinity,
no duplicate keys, numbers of at most NUMBER_TEXT_MAX characters. The
messages name a value without ever printing all of a large one.
"""

from __future__ import annotations

import codecs
import json
import reprlib
from typing import Any

NUMBER_TEXT_MAX = 32  # characters of a JSON number: a longer one is never RFC 8785 canonical


class Malformed(ValueError):
    """JSON that this verifier refuses although Python's parser would take it."""


def refuse_constant(text: str) -> Any:
    raise Malformed(f"{text} is not a JSON number")


def bounded_int(text: str) -> int:
    if len(text) > NUMBER_TEXT_MAX:
        raise Malformed(f"a number of {len(text)} characters, more than {NUMBER_TEXT_MAX}")
    return int(text)


def bounded_float(text: str) -> float:
    if len(text) > NUMBER_TEXT_MAX:
        raise Malformed(f"a number of {len(text)} characters, more than {NUMBER_TEXT_MAX}")
    return float(text)


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise Malformed("an object has a key twice")
    return value


_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=unique_keys,
    parse_constant=refuse_constant,
    parse_int=bounded_int,
    parse_float=bounded_float,
)


def strict_json(data: bytes) -> Any:
    """JSON as RFC 8259 has it, and no more: UTF-8 without a byte order mark, no
    NaN or Infinity, no duplicate keys, numbers of at most NUMBER_TEXT_MAX
    characters. Raises ValueError (or RecursionError, nested too deep)."""
    if data.startswith(codecs.BOM_UTF8):
        raise Malformed("it starts with a byte order mark")
    return _STRICT_DECODER.decode(data.decode("utf-8"))


def json_problem(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8"
    return str(error)[:200]


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    kinds = {dict: "an object", list: "an array", str: "a string", int: "an integer", float: "a fraction"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 80


def show(value: Any) -> str:
    """A short repr of a value from the bundle, however large or deep it is."""
    return _SHOW.repr(value)


def show_name(name: str) -> str:
    return name if name.isascii() and name.isprintable() and len(name) <= 80 else ascii(name[:80])


def depth(value: Any) -> int:
    """How deep arrays and objects nest in a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest
