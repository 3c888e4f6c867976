"""The report's tables: rows as written to CSV and JSON, with what the page needs to show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Row = dict[str, Any]
ColumnKind = Literal["text", "number", "amount", "share", "bool", "code", "date", "leaves"]

NUMERIC_KINDS = frozenset({"number", "amount", "share"})


@dataclass
class Table:
    """`rows` are the table's data (CSV and JSON have exactly these); `totals`
    rows of sums shown under it; `kinds` how each column reads (numbers to the
    right, booleans as yes/no, leaves as links to their proofs)."""

    name: str
    title: str
    rows: list[Row]
    note: str = ""
    columns: list[str] = field(default_factory=list)
    kinds: dict[str, ColumnKind] = field(default_factory=dict)
    totals: list[Row] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = list(self.rows[0]) if self.rows else []
        for column in self.columns:
            self.kinds.setdefault(column, _kind_of(column, [row.get(column) for row in self.rows]))

    @property
    def long(self) -> bool:
        """Whether the page offers sorting and a filter (more rows than fit at a glance)."""
        return len(self.rows) > 8


def _kind_of(column: str, values: list[Any]) -> ColumnKind:
    present = [value for value in values if value is not None and value != ""]
    if column == "leaves":
        return "leaves"
    if column.startswith("share"):
        return "share"
    for kind, test in _KIND_TESTS:
        if present and all(map(test, present)):
            return kind
    if column.endswith(("_on", "day", "_at")) or column in ("month", "as_of", "deadline"):
        return "date"
    return "text"


_KIND_TESTS: tuple[tuple[ColumnKind, Any], ...] = (
    ("bool", lambda value: isinstance(value, bool)),
    ("number", lambda value: isinstance(value, int) and not isinstance(value, bool)),
    ("amount", lambda value: isinstance(value, str) and _decimal(value)),
)


def _decimal(text: str) -> bool:
    digits = text[1:] if text.startswith("-") else text
    whole, _, part = digits.partition(".")
    return whole.isdigit() and whole.isascii() and (not part or (part.isdigit() and part.isascii()))
