"""Leaves of the audit log: one per event, in notification order, as RFC 8785 JSON.

A leaf is the canonical JSON of `index` (dense, 0-based), `stream` (the
event's originator id), `version`, `type` (the event's class name),
`recorded_at` (RFC 3339 UTC, from the ledger's injectable clock) and `data`
(the event's payload, amounts as strings). `data` holds `metadata` only when
the command had some (and `late_by_seconds` only when it was late): the leaf of an event without metadata is the leaf it
was before events carried any, so old checkpoints keep verifying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ledger.audit.canonical import canonical_json

if TYPE_CHECKING:
    from domain.events import LedgerEvent

LEAF_FIELDS = ("index", "stream", "version", "type", "recorded_at", "data")
_ENVELOPE = {"originator_id", "originator_version", "timestamp"}
# Fields newer than the first stored events (see domain.events): left out when empty.
_LEFT_OUT_WHEN_EMPTY = ("metadata", "late_by_seconds", "time_zone")


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
    envelope, and without metadata (or lateness, or a time zone) when it has none."""
    excluded = _ENVELOPE.union(name for name in _LEFT_OUT_WHEN_EMPTY if not payload.get(name, True))
    return {name: value for name, value in payload.items() if name not in excluded}


def leaf_bytes(index: int, event: LedgerEvent) -> bytes:
    return canonical_json(leaf_object(index, event))


__all__ = ["LEAF_FIELDS", "canonical_json", "event_data", "leaf_bytes", "leaf_object"]
