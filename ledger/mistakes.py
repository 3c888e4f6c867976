"""A mistyped name, said for a person: what was wrong, and what was likely meant.

Scenario files and `ledger submit`'s JSON lines share these sentences, so a
mistyped command type or field reads the same wherever it was written:
"unknown command type 'depositt': did you mean 'deposit'?".
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, get_args

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from domain.commands import Command

COMMAND_CLASSES: dict[str, type[BaseModel]] = {
    kind.model_fields["type"].default: kind for kind in get_args(get_args(Command)[0])
}
ALL_COMMANDS_HINT = "(ledger scenario schema lists them all)"


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """ ": did you mean 'x'?" for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1)
    return f": did you mean {close[0]!r}?" if close else ""


def unknown_command_type(kind: object) -> str:
    return f"unknown command type {str(kind)!r}{did_you_mean(kind, COMMAND_CLASSES)} {ALL_COMMANDS_HINT}"


def command_fields(kind: str) -> list[str]:
    """The fields a command of the type takes, as written (its `type` aside)."""
    return [name for name in COMMAND_CLASSES[kind].model_fields if name != "type"]


def unknown_field(name: object, kind: str, fields: Iterable[str] | None = None) -> str:
    """The sentence for a field the command does not take: the closest it
    does take, or all of them when none is close."""
    known = list(fields) if fields is not None else command_fields(kind)
    hint = did_you_mean(name, known) or f" ({kind} takes {', '.join(known)})"
    return f"unknown field {str(name)!r} in {kind}{hint}"


def command_problem(item: ErrorDetails | dict[str, Any]) -> str:
    """One pydantic error of a command as 'field: message', an unknown field as a suggestion."""
    location = list(item["loc"])
    kind = str(location.pop(0)) if location and location[0] in COMMAND_CLASSES else None
    if item["type"] == "extra_forbidden" and kind is not None and location:
        known = fields_at(kind, location[:-1])
        if known:
            where = ".".join([kind, *map(str, location[:-1])])
            return unknown_field(location[-1], where, known)
    label = ".".join(map(str, location)) or ("" if kind else "type")  # none: the command as a whole
    return f"{label}: {item['msg']}" if label else str(item["msg"])


def fields_at(kind: str, location: list[int | str]) -> list[str]:
    """The fields of what is at the location in a command (a nested model's,
    like a travel rule's originator), or none when it is no model."""
    models: list[type[BaseModel]] = [COMMAND_CLASSES[kind]]
    for part in location:
        if isinstance(part, int):
            continue  # an item of a list: the list's own type was followed already
        fields = [model.model_fields[part] for model in models if part in model.model_fields]
        models = [model for field in fields for model in _models_in(field.annotation)]
    return [
        name
        for model in models
        for name in model.model_fields
        if not (model in COMMAND_CLASSES.values() and name == "type")
    ]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation holds: itself, or inside Optional, unions, lists, dicts."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


def first_mistakes(error: ValidationError, count: int = 3) -> list[ErrorDetails]:
    """The first few problems, unknown fields first: a mistyped name is why
    the field it meant is missing."""
    return sorted(error.errors(), key=lambda item: item["type"] != "extra_forbidden")[:count]
