"""A reader of the log names the command behind a run of events by the class of its first event."""

from __future__ import annotations

from typing import get_args

from domain.commands import Command
from domain.events import (
    COMMAND_TYPE_OF_FIRST_EVENT,
    NEVER_FIRST_EVENTS,
    CommandRejected,
    LedgerTransaction,
    event_classes,
)


def test_every_event_class_that_can_come_first_names_its_command() -> None:
    named = set(COMMAND_TYPE_OF_FIRST_EVENT) | set(NEVER_FIRST_EVENTS) | {CommandRejected, LedgerTransaction}
    assert {cls for cls in event_classes() if cls.__module__ == "domain.events"} == named


def test_every_command_type_is_named_by_exactly_one_first_event() -> None:
    (union, _) = get_args(Command)
    command_types = {cls.model_fields["type"].default for cls in get_args(union)}
    assert sorted(COMMAND_TYPE_OF_FIRST_EVENT.values()) == sorted(command_types)
