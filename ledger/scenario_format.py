"""The scenario file's format as pydantic models, and its JSON Schema (`ledger scenario schema`).

A step is `<command type>: {fields}` beside the step's own fields (`name`,
`expect`, `balances`, `report`, `key`, `at`), or `advance: <n> days`. Each
command's fields are its model's in `domain.commands` (its `type` is the
step's key, its `key` may be left out): so the schema is a union
discriminated by the command type, one branch a command, and an editor that
reads it completes command types and their fields. The runner
(`ledger.scenario`) reads files itself, to say where a mistake is; it takes
the names of the fields from these models.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Tag, create_model
from pydantic.fields import FieldInfo

from domain.commands import IdempotencyKey
from domain.errors import INVALID_INPUT, RULE_VIOLATIONS, error_kinds
from ledger.mistakes import COMMAND_CLASSES

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ADVANCE_PATTERN = r"^[0-9]{1,7} (days?|hours?|minutes?)$"
_STRICT = ConfigDict(extra="forbid")
RULE_CODES = tuple(sorted(RULE_VIOLATIONS))
ERROR_CODES = tuple(sorted({kind.code for kind in error_kinds()} | {INVALID_INPUT}))


class Rejected(BaseModel):
    """Refused by a rule, named by its code."""

    model_config = _STRICT
    rejected: Annotated[str, Field(json_schema_extra={"enum": list(RULE_CODES)})]


class InvalidCode(BaseModel):
    model_config = _STRICT
    code: Annotated[str, Field(json_schema_extra={"enum": list(ERROR_CODES)})]


class Invalid(BaseModel):
    """Refused before any rule: by its error's code exactly, or by part of its message."""

    model_config = _STRICT
    invalid: InvalidCode | str


Expectation = Literal["accepted"] | Rejected | Invalid
Amount = str | int


class StepFields(BaseModel):
    """What a step says beside its command."""

    model_config = _STRICT
    name: str | None = None
    expect: Expectation = Field("accepted", description="the step's outcome; setup steps must be accepted")
    balances: dict[str, dict[str, Amount] | None] | None = Field(
        None, description="after the step, account to asset to amount; absent assets are zero"
    )
    report: dict[str, Any] | None = Field(None, description="after the step, dotted report names to values")
    key: IdempotencyKey | None = Field(None, description="the command's idempotency key; made from the line if absent")
    at: AwareDatetime | None = Field(None, description="the command's ledger time")


class Advance(BaseModel):
    """Moves ledger time on."""

    model_config = _STRICT
    advance: Annotated[str, Field(pattern=ADVANCE_PATTERN, examples=["31 days", "2 hours"])]
    name: str | None = None


def _fields_model(kind: str, command: type[BaseModel]) -> type[BaseModel]:
    """The command's fields as a step writes them: without `type`, `key` optional."""
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in command.model_fields.items() if name not in ("type", "key")
    }
    fields["key"] = (IdempotencyKey | None, FieldInfo(default=None))
    model: type[BaseModel] = create_model(
        f"{command.__name__}Fields",
        __config__=ConfigDict(extra="forbid", title=kind),
        __doc__=command.__doc__,
        **fields,
    )
    return model


def _step_model(kind: str, command: type[BaseModel]) -> type[BaseModel]:
    fields = _fields_model(kind, command)
    required = any(info.is_required() for info in fields.model_fields.values())
    annotation: Any = fields if required else fields | None
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        f"{command.__name__}Step",
        __base__=StepFields,
        __doc__=command.__doc__,
        **{kind: (annotation, ...)},
    )
    model.model_config["json_schema_extra"] = _loose_when_invalid(kind, list(fields.model_fields))
    model.model_rebuild(force=True)
    return model


def _loose_when_invalid(kind: str, names: list[str]) -> Any:
    """A step that expects `invalid` may break its fields' values on purpose
    (an amount of '1e3'): their names are checked always, their values only
    when the step expects the command to pass validation."""

    def extra(schema: dict[str, Any]) -> None:
        strict = schema["properties"][kind]
        loose = {"type": ["object", "null"], "properties": {name: {} for name in names}, "additionalProperties": False}
        schema["properties"][kind] = loose
        schema["if"] = {"required": ["expect"], "properties": {"expect": {"type": "object", "required": ["invalid"]}}}
        schema["else"] = {"properties": {kind: strict}}

    return extra


def _step_kind(value: Any) -> str | None:
    """Which branch a step is: the one command it names, or advance."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if not isinstance(value, dict):
        return None
    if "advance" in value:
        return "advance"
    kinds = [key for key in value if key in COMMAND_CLASSES]
    return kinds[0] if len(kinds) == 1 else None


class ScenarioHeader(BaseModel):
    """What a scenario says beside its steps."""

    model_config = ConfigDict(extra="forbid", title="Ledger scenario")
    name: str | None = Field(None, description="what the scenario shows; the file's name if absent")
    description: str | None = Field(None, description="one line, shown by 'ledger scenario list'")
    start: AwareDatetime | None = Field(None, description="ledger time of the first command")
    time_zone: str | None = Field(None, description="the bank's zone, whose days are ledger days")
    include: list[str] = Field([], description="files beside this one whose setup runs first (a shared world)")


STEP_FIELDS = tuple(StepFields.model_fields)
SCENARIO_FIELDS = (*ScenarioHeader.model_fields, "setup", "steps")


@cache
def scenario_model() -> type[BaseModel]:
    """A scenario: commands with expected outcomes, run in a fresh scratch sandbox.

    Built when first asked for (a step model for each command type takes a
    while): the runner needs only the field names above."""
    branches = [Annotated[_step_model(kind, cls), Tag(kind)] for kind, cls in COMMAND_CLASSES.items()]
    step: Any = Annotated[Union[(*branches, Annotated[Advance, Tag("advance")])], Discriminator(_step_kind)]
    model: type[BaseModel] = create_model(
        "Scenario",
        __base__=ScenarioHeader,
        __doc__="A scenario: commands with expected outcomes, run in a fresh scratch sandbox.",
        setup=(list[step], Field([], description="commands that must all be accepted")),
        steps=(list[step], []),
    )
    assert tuple(model.model_fields) == SCENARIO_FIELDS
    return model


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario file."""
    return {"$schema": JSON_SCHEMA_DIALECT, **scenario_model().model_json_schema()}
