"""Leaves recomputed from the stored events a page at a time, for an export.

`ledger.audit.leaves` makes a leaf from the event as the write path holds it
(a pydantic model): some 35 µs a leaf, most of it validating the event again
and dumping it back. An export of a million leaves reads the events' stored
JSON instead, which is what the model dumped when it was written, and makes
the leaf from it directly: the envelope fields moved out to `stream`,
`version` and `recorded_at`, the rest as `data` (`event_data`), all of it as
sorted compact JSON (orjson, some 5 µs a leaf).

Nothing is taken on trust: the page's leaf hashes are compared with the leaf
hashes stored as the log grew (the level-0 tiles, a few queries a page), and
any leaf whose hash differs is made again the slow way, from the decoded
event, exactly as `ledger.audit.leaves` makes it (and as the log made it).
So a page's leaves are the bytes that were logged whenever the events are
the ones that were logged, and otherwise the leaves of the events as they
are now, as before; the export's pair assertion (the leaves hash to the
signed root) then says which. Events of an upcast class (class_version > 1),
or whose JSON is not an object with the envelope's fields, go the slow way
from the start.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import orjson
from eventsourcing.utils import resolve_topic

from ledger.audit.leaves import event_data, leaf_bytes
from ledger.audit.merkle import HASH_SIZE, leaf_hashes
from ledger.audit.tiles import TILE_WIDTH, TiledHashes

if TYPE_CHECKING:
    from ledger.audit.log import AuditLog

PAGE_SIZE = 32 * TILE_WIDTH  # 8192 leaves, some 3 MB of events
EventState = tuple[int, str, bytes]  # notification id, topic, stored state


class LeafPages:
    """Leaves [start, end) as pages of (leaf bytes, their hashes packed end to end)."""

    def __init__(self, audit: AuditLog, tiled: TiledHashes) -> None:
        self.audit, self.tiled = audit, tiled
        mapper = audit.backend.mapper
        self._open_state = mapper.open_state if mapper.is_sealed else None
        self._names: dict[str, str | None] = {}
        self.remade = 0  # leaves made the slow way after their hash differed

    def pages(self, start: int, end: int) -> Iterator[tuple[list[bytes], bytes]]:
        if start >= end:
            return
        position = self.audit.notification_before(start)
        index = start
        while index < end:
            # Pages end on tile boundaries, so that each compares with whole stored tiles.
            limit = min(PAGE_SIZE - index % TILE_WIDTH, end - index)
            entries = self.audit.backend.event_states_after(position, limit)
            assert len(entries) == limit, (index, end, len(entries))
            leaves = self._leaves(index, entries)
            digests = _packed_hashes(leaves)
            stored = self.tiled.level_bytes(0, index, index + limit)
            if digests != stored:
                digests = self._remake(index, entries, leaves, digests, stored)
            yield leaves, digests
            index += limit
            position = entries[-1][0]

    def _leaves(self, first: int, entries: Sequence[EventState]) -> list[bytes]:
        names, loads, dumps, sort_keys = self._names, orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS
        open_state = self._open_state
        leaves: list[bytes | None] = []
        for index, (_, topic, state) in enumerate(entries, first):
            name = names[topic] if topic in names else self._name(topic)
            leaf = None
            if name is not None:
                try:
                    payload = loads(open_state(state) if open_state else state)
                    # Sorted orjson, not canonical_json: the stored hash compared below proves each leaf
                    # (a leaf where orjson is not RFC 8785 differs and is remade), so no check here.
                    leaf = dumps(
                        {
                            "index": index,
                            "stream": payload["originator_id"],
                            "version": payload["originator_version"],
                            "type": name,
                            "recorded_at": payload["timestamp"],
                            "data": event_data(payload),
                        },
                        option=sort_keys,
                    )
                except (orjson.JSONDecodeError, orjson.JSONEncodeError, KeyError, TypeError, AttributeError):
                    leaf = None
            leaves.append(leaf)
        slow = [offset for offset, leaf in enumerate(leaves) if leaf is None]
        made = self._slow(first, entries, slow) if slow else {}
        return [leaf if leaf is not None else made[offset] for offset, leaf in enumerate(leaves)]

    def _name(self, topic: str) -> str | None:
        """The leaf's `type` for events of this topic, or None if they are upcast."""
        cls = resolve_topic(topic)
        self._names[topic] = cls.__name__ if getattr(cls, "class_version", 1) == 1 else None
        return self._names[topic]

    def _slow(self, first: int, entries: Sequence[EventState], offsets: list[int]) -> dict[int, bytes]:
        """The leaves at these offsets of the page as `ledger.audit.leaves`
        makes them, from the decoded events."""
        with self.audit.backend.read() as session:
            found = session.notifications_at([entries[offset][0] for offset in offsets])
        assert len(found) == len(offsets), (first, offsets)
        return {
            offset: leaf_bytes(first + offset, self.audit.decode(entry))
            for offset, entry in zip(offsets, found, strict=True)
        }

    def _remake(
        self, first: int, entries: Sequence[EventState], leaves: list[bytes], digests: bytes, stored: bytes
    ) -> bytes:
        """The page's hashes once each leaf whose hash differs from the stored
        one (or has none stored) is made again from its decoded event."""
        differing = [
            offset
            for offset in range(len(entries))
            if digests[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
            != stored[offset * HASH_SIZE : (offset + 1) * HASH_SIZE]
        ]
        for offset, leaf in self._slow(first, entries, differing).items():
            leaves[offset] = leaf
        self.remade += len(differing)
        return _packed_hashes(leaves)


def _packed_hashes(leaves: list[bytes]) -> bytes:
    return b"".join(leaf_hashes(leaves))
