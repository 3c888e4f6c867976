"""Errors as RFC 9457 problem details (`application/problem+json`).

Every failure a client can cause is answered with a problem: `type` (a URI
reference naming the kind, relative to the service), `title` (the kind in
words), `status`, `detail` (this occurrence, in one sentence) and, where
they apply, `position` (the command's index in the request), `field` (its
dotted path), `rule`, `code` (the stable code of the ledger's error kind, like
AMOUNT_NOT_POSITIVE, or INVALID_INPUT for a field that failed validation) and
`errors` (every field that failed). Nothing is
written for any of them. A rule's refusal of a command is not a problem: it
is a result with the rule's code.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.responses import Response

from domain.commands import Command
from domain.errors import INVALID_INPUT

PROBLEM_MEDIA_TYPE = "application/problem+json"
COMMAND_TYPES = frozenset(kind.model_fields["type"].default for kind in get_args(get_args(Command)[0]))


class FieldProblem(BaseModel):
    position: int | None = None
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with this service's extension members."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    position: int | None = None
    field: str | None = None
    rule: str | None = None
    code: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raised anywhere in a request to answer it with a problem."""

    def __init__(self, status: int, kind: str, title: str, detail: str, **members: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.problem = {"type": f"/problems/{kind}", "title": title, "status": status, "detail": detail}
        self.problem.update({name: value for name, value in members.items() if value is not None})
        self.headers: dict[str, str] = {}


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(problem, separators=(",", ":")).encode(),
        status_code=int(problem["status"]),
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def http_problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """A problem of no kind of ours (404, 405...): `about:blank`, as RFC 9457 says."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail}


def invalid_input(error: ValidationError, position: int | None) -> ProblemError:
    """A 422 naming the command's position (in a batch) and first failing field, and every failure."""
    found = [_field_problem(item, position) for item in error.errors()[:20]]
    first = found[0]
    where = f"command {position}, " if position is not None else ""
    return ProblemError(
        422,
        "invalid-command",
        "A command is not valid",
        f"{where}{first.field}: {first.message}; nothing was written",
        position=position,
        field=first.field,
        code=INVALID_INPUT,
        errors=[problem.model_dump(exclude_none=True) for problem in found],
    )


def _field_problem(item: Any, position: int | None) -> FieldProblem:
    location = list(item["loc"])
    if location and location[0] in COMMAND_TYPES and item.get("type") != "union_tag_invalid":
        location.pop(0)  # a discriminated union names the command's type first: it is not a field
    field = ".".join(str(part) for part in location) or "type"
    return FieldProblem(position=position, field=field, message=item["msg"])
