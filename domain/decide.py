"""Deciding: a command and the current state give the events to record.

This module only dispatches: each command type is decided in one area of
`domain.rules` (onboarding, issuance, funding, trading, compliance,
settlements, corrections), which checks, then emits. Before any of that, a
command that names its own ledger time is judged against the back-dating
window (`rules.base.dated`). A decider validates against the state and raises
a `LedgerError`; it never mutates the state (the caller evolves it with the
events). `InvalidCommand` refuses the command outright; a `RuleViolation` is
turned by `handle` into a `CommandRejected` event, so the supervisor sees the
attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import NamedTuple

from domain.commands import BaseCommand, EstablishBank
from domain.errors import BankNotEstablished, RuleViolation
from domain.events import CommandRejected, LedgerEvent, rejection_subject
from domain.rules import compliance, corrections, funding, issuance, onboarding, settlements, trading
from domain.rules.base import Decider, Stamp, command_stream, dated
from domain.state import LedgerState

__all__ = ["AREAS", "DECIDERS", "Outcome", "Stamp", "command_stream", "decide", "handle"]

AREAS: tuple[ModuleType, ...] = (onboarding, issuance, funding, trading, compliance, settlements, corrections)


class Outcome(NamedTuple):
    events: list[LedgerEvent]
    violation: RuleViolation | None = None


def handle(state: LedgerState, command: BaseCommand, stamp: Stamp) -> Outcome:
    stamp = dated(state, command, stamp)
    try:
        return Outcome(events=decide(state, command, stamp))
    except RuleViolation as violation:
        return Outcome(events=[_rejection(command, violation, stamp)], violation=violation)


def decide(state: LedgerState, command: BaseCommand, stamp: Stamp) -> list[LedgerEvent]:
    if state.bank is None and not isinstance(command, EstablishBank):
        raise BankNotEstablished()
    return DECIDERS[type(command)](state, command, stamp)


def _rejection(command: BaseCommand, violation: RuleViolation, stamp: Stamp) -> CommandRejected:
    # The metadata rides on the event itself, as on every event: the payload
    # stays what it was before commands had any.
    payload = command.model_dump(mode="json", exclude={"key", "metadata"})
    details = {name: str(value) for name, value in violation.context.items()}
    client_id, venue_id = rejection_subject(payload, details)
    return CommandRejected(
        originator_id=command_stream(command.key),
        originator_version=1,
        timestamp=stamp.recorded_at,
        ledger_time=stamp.ledger_time,
        command_key=stamp.command_key,
        metadata=stamp.metadata,
        late_by_seconds=stamp.late_by_seconds,
        command_type=payload["type"],
        rule=violation.rule,
        reason=violation.message,
        details=details,
        command=payload,
        client_id=client_id,
        venue_id=venue_id,
    )


def _dispatch_table(areas: tuple[ModuleType, ...]) -> Mapping[type[BaseCommand], Decider]:
    table: dict[type[BaseCommand], Decider] = {}
    for area in areas:
        deciders: Mapping[type[BaseCommand], Decider] = area.DECIDERS
        twice = table.keys() & deciders.keys()
        assert not twice, f"{sorted(cls.__name__ for cls in twice)} decided in two areas"
        table.update(deciders)
    return table


DECIDERS = _dispatch_table(AREAS)
"""Which decider decides each command type: one area each."""
