"""Events as the store keeps them: pydantic models as their JSON, upcast on the way back.

`PydanticMapper` follows the pattern of the library's "aggregate 7" example,
without a transcoder pass; `LedgerStore` is the library's application, used
for its infrastructure (factory, recorder, mapper). Tables on PostgreSQL are
named after it.
"""

from __future__ import annotations

import json
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.events import LedgerEvent
from ledger.store.ports import LogEntry

# What to leave out of an event's JSON: its empty metadata, its empty
# lateness, or both (made once: this is the hot path).
_LEFT_OUT = {
    (False, False): None,
    (True, False): {"metadata"},
    (False, True): {"late_by_seconds"},
    (True, True): {"metadata", "late_by_seconds"},
}


class PydanticMapper(Mapper[UUID]):
    """Stores a `LedgerEvent` as its JSON; reads it back with its class's
    validation, upcasting older class versions first."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event = cast(LedgerEvent, domain_event)
        # The serializer itself: model_dump_json's wrapper costs a third again.
        # Empty metadata and lateness are left out: an event without them
        # stores as it did before events had the fields (and decodes to
        # their defaults).
        left_out = _LEFT_OUT[not event.metadata, event.late_by_seconds is None]
        state = type(event).__pydantic_serializer__.to_json(event, exclude=left_out)
        if type(event).class_version > 1:
            data = json.loads(state)
            data["class_version"] = type(event).class_version
            state = json.dumps(data, separators=(",", ":")).encode()
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=get_topic(type(event)),
            state=self._seal(state),
        )

    def to_domain_event(self, stored_event: StoredEvent | LogEntry) -> Any:
        cls: type[LedgerEvent] = resolve_topic(stored_event.topic)
        state = self.open_state(stored_event.state)
        if cls.class_version == 1:
            event = cls.model_validate_json(state)
        else:
            event = cls.model_validate(_upcast(cls, json.loads(state)))
        assert event.originator_version == stored_event.originator_version, stored_event
        return event

    def _seal(self, state: bytes) -> bytes:
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return state

    @property
    def is_sealed(self) -> bool:
        """Whether stored states are compressed or enciphered."""
        return bool(self.compressor or self.cipher)

    def open_state(self, state: bytes) -> bytes:
        """The event's JSON, deciphered and decompressed when the store is."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


def _upcast(cls: type[LedgerEvent], data: dict[str, Any]) -> dict[str, Any]:
    version = data.pop("class_version", 1)
    while version < cls.class_version:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(data)
        version += 1
    return data


class LedgerStore(Application[UUID]):
    """The library's application, used for its infrastructure: the factory,
    the recorder and the mapper. Tables on PostgreSQL are named after it."""

    name = "ledger"
    env = {"MAPPER_TOPIC": get_topic(PydanticMapper)}  # noqa: RUF012 (the library's API)
