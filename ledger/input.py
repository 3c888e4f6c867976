"""Reading JSON from outside (files, stdin, HTTP bodies): strict, bounded, and saying where it failed.

Bytes are UTF-8 or refused (naming the line and byte); lines are split on
`\\n` only (a raw U+2028 or U+0085 inside a JSON string is text, not a line
break, as `str.splitlines` would have it); a leading UTF-8 byte-order mark is
ignored, as RFC 8259 allows, and the `\\r` of a CRLF line is JSON whitespace.
A document is refused when an object repeats a key at any depth (json's
default keeps the last, so a `deposit` could be read as a `withdraw`), when it
nests deeper than `JSON_DEPTH_MAX`, when a string or key is longer than
`JSON_STRING_LENGTH_MAX` characters or holds a lone surrogate, and for
`NaN` and `Infinity`, which are not JSON. What each field may hold is the
commands' business (`domain.commands`).
"""

from __future__ import annotations

import json
import re
from typing import Any

# A command is at most three deep (a batch, a command, its metadata or
# travel-rule data); anything far deeper is not a command.
JSON_DEPTH_MAX = 8
# The longest text a command holds is 500 characters (a metadata value): no
# string of a command comes near this, and error messages quote no more.
JSON_STRING_LENGTH_MAX = 4096
_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile(r"[\ud800-\udfff]")

Path = tuple[str | int, ...]


class InputError(ValueError):
    """Input that is not acceptable JSON; `path` is where in the document (keys and indexes)."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def where(self) -> str:
        """The path as `metadata.order_id` or `[3].type`, or '' at the top."""
        return describe_path(self.path)


def describe_path(path: Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            shown = part if part.isascii() and part.isprintable() and part else repr(part)
            text += f".{shown}" if text else shown
    return text


def decode_utf8(data: bytes) -> str:
    """The bytes as text, or an InputError naming the line and the byte."""
    try:
        return data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        start = error.start + (len(_BOM) if data.startswith(_BOM) else 0)
        line_start = data.rfind(b"\n", 0, start) + 1
        line = data.count(b"\n", 0, start) + 1
        raise InputError(
            f"line {line}: not UTF-8: byte 0x{data[start]:02x} at byte {start - line_start + 1} of the line"
        ) from None


def split_lines(data: bytes) -> list[tuple[int, bytes]]:
    """Each line's number and bytes, split on `\\n` alone."""
    return list(enumerate(data.removeprefix(_BOM).split(b"\n"), start=1))


def decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8: byte 0x{line[error.start]:02x} at byte {error.start + 1} of the line") from None


def read_json(text: str) -> Any:
    """One JSON document, strictly (see the module's docstring)."""
    try:
        parsed = json.loads(text, object_pairs_hook=_Pairs, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        raise InputError(f"Invalid JSON at column {error.colno}: {error.msg}") from None
    except RecursionError:
        raise InputError(f"JSON nested deeper than {JSON_DEPTH_MAX} levels") from None
    except ValueError as error:  # an integer of more digits than Python reads, NaN or Infinity
        raise InputError(f"Invalid JSON: {error}") from None
    return _checked(parsed, (), 1)


class _Pairs(list[tuple[str, Any]]):
    """An object's members as json read them, before duplicates are looked for."""


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _checked(value: Any, path: Path, depth: int) -> Any:
    """The document with objects as dicts, every limit checked (recursion is bounded by JSON_DEPTH_MAX)."""
    if isinstance(value, str):
        _check_text(value, path)
        return value
    if not isinstance(value, list):
        return value
    if depth > JSON_DEPTH_MAX:
        raise InputError(f"JSON nested deeper than {JSON_DEPTH_MAX} levels", path)
    if not isinstance(value, _Pairs):
        return [_checked(item, (*path, index), depth + 1) for index, item in enumerate(value)]
    members: dict[str, Any] = {}
    for name, item in value:
        _check_text(name, path)
        if name in members:
            raise InputError(f"duplicate key {name!r}", path)
        members[name] = _checked(item, (*path, name), depth + 1)
    return members


def _check_text(text: str, path: Path) -> None:
    if len(text) > JSON_STRING_LENGTH_MAX:
        raise InputError(f"a string longer than {JSON_STRING_LENGTH_MAX} characters", path)
    if not text.isascii() and _SURROGATE.search(text):
        raise InputError("a lone surrogate (\\ud800 to \\udfff alone is not Unicode text)", path)
