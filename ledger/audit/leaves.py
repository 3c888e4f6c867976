"""Leaves of the audit log: one per event, in notification order, as RFC 8785 JSON.

A leaf is the canonical JSON of `index` (dense, 0-based), `stream` (the
event's originator id), `version`, `type` (the event's class name),
`recorded_at` (RFC 3339 UTC, from the ledger's injectable clock) and `data`
(the event's payload, amounts as strings). `data` holds `metadata` only when
the command had some: the leaf of an event without metadata is the leaf it
was before events carried any, so old checkpoints keep verifying.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from domain.events import LedgerEvent

LEAF_FIELDS = ("index", "stream", "version", "type", "recorded_at", "data")
_ENVELOPE = {"originator_id", "originator_version", "timestamp"}
_ENVELOPE_AND_METADATA = {*_ENVELOPE, "metadata"}


def leaf_object(index: int, event: LedgerEvent) -> dict[str, Any]:
    payload = event.model_dump(mode="json")
    return {
        "index": index,
        "stream": payload["originator_id"],
        "version": event.originator_version,
        "type": type(event).__name__,
        "recorded_at": payload["timestamp"],
        "data": event_data(payload),
    }


def event_data(payload: dict[str, Any]) -> dict[str, Any]:
    """The leaf's `data` of an event dumped as JSON: its payload without the
    envelope, and without metadata when it has none."""
    excluded = _ENVELOPE if payload.get("metadata") else _ENVELOPE_AND_METADATA
    return {name: value for name, value in payload.items() if name not in excluded}


def leaf_bytes(index: int, event: LedgerEvent) -> bytes:
    return canonical_json(leaf_object(index, event))


_SORTED_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_SAFE_INTEGER = 2**53


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of `value`. For ASCII text, integers below 2**53,
    booleans and nulls (every leaf the ledger writes), sorted compact JSON is
    exactly RFC 8785 (keys sort the same by code point as by UTF-16 unit,
    integers print the same, strings escape the same) and some thirty times
    faster than `rfc8785` in pure Python; anything else goes through it. The
    check reads the encoded text back with a decoder that refuses floats and
    large integers (C-speed, a callback per number only)."""
    text = _SORTED_COMPACT.encode(value)
    if text.isascii():
        try:
            _PLAIN_NUMBERS.decode(text)
        except _NotPlain:
            pass
        else:
            return text.encode()
    return rfc8785.dumps(value)


class _NotPlain(Exception):
    pass


def _no_float(_text: str) -> float:
    raise _NotPlain


def _safe_int(text: str) -> int:
    number = int(text)
    if not -_SAFE_INTEGER < number < _SAFE_INTEGER:
        raise _NotPlain
    return number


_PLAIN_NUMBERS = json.JSONDecoder(parse_float=_no_float, parse_int=_safe_int, parse_constant=_no_float)
