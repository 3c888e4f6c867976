"""The report's page: Jinja2 templates with autoescaping, charts as inline SVG, no network.

Everything shown is escaped by the template engine; the code here only
computes what the templates place: cells (text, the value a column sorts by,
alignment), and the geometry of the line charts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import jinja2
from markupsafe import Markup

from ledger.supervisor.figures import LineChart
from ledger.supervisor.report import Report
from ledger.supervisor.tables import NUMERIC_KINDS, Table

LEAVES_SHOWN = 6  # leaf links shown in a cell before the rest fold away

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("ledger.supervisor", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str
    numeric: bool
    kind: str
    leaves: tuple[int, ...] = ()


def render(report: Report, proven: Callable[[int], bool]) -> str:
    """The page; `proven(leaf)` says whether a proof of that leaf is written beside it."""
    template = _ENVIRONMENT.get_template("report.html.j2")
    return template.render(
        report=report,
        style=Markup(_source("report.css")),  # noqa: S704 (the package's own file, not input)
        script=Markup(_source("report.js")),  # noqa: S704
        cells=lambda table, row: [cell(table, column, row.get(column)) for column in table.columns],
        total_cells=lambda table, row: [cell(table, column, row.get(column, "")) for column in table.columns],
        chart=chart_geometry,
        proven=proven,
        leaves_shown=LEAVES_SHOWN,
        heading=lambda column: column.replace("_", " "),
    )


def _source(name: str) -> str:
    """A static file of the templates, placed in the page as it is (the page's own CSS and script)."""
    assert _ENVIRONMENT.loader is not None
    return _ENVIRONMENT.loader.get_source(_ENVIRONMENT, name)[0]


def cell(table: Table, column: str, value: Any) -> Cell:
    kind = table.kinds.get(column, "text")
    if kind == "leaves":
        leaves = tuple(value or ())
        return Cell(f"{len(leaves)}", str(len(leaves)), True, kind, leaves)
    if value is None or value == "":
        return Cell("", "", kind in NUMERIC_KINDS, kind)
    if isinstance(value, bool):
        return Cell("yes" if value else "no", "1" if value else "0", False, "bool")
    if kind in NUMERIC_KINDS:
        return Cell(_grouped(str(value)), str(value), True, kind)
    return Cell(str(value), str(value).lower(), False, kind)


def _grouped(text: str) -> str:
    """A decimal with thousands set apart by thin spaces, for reading (the data keeps plain digits)."""
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, part = digits.partition(".")
    if not whole.isdigit():
        return text
    groups: list[str] = []
    while len(whole) > 3:
        whole, groups = whole[:-3], [whole[-3:], *groups]
    return sign + "\u2009".join([whole, *groups]) + dot + part


# Line charts.

WIDTH, HEIGHT, LEFT, RIGHT, BOTTOM, TOP = 640, 220, 70, 40, 28, 12
COLOURS = ("#2f5f98", "#c0392b", "#6b8e23")


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: str  # SVG polyline points
    last: str


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[tuple[float, str]]  # (y, label)
    x_ticks: list[tuple[float, str]]  # (x, label)
    left: int
    bottom: float
    empty: bool


def chart_geometry(chart: LineChart) -> Geometry:
    count = len(chart.days)
    top = max((v for s in chart.series for v in s.values), default=Fraction(0)) or Fraction(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM - TOP

    def x(n: int) -> float:
        return LEFT + (plot_w * n / (count - 1) if count > 1 else plot_w / 2)

    def y(value: Fraction) -> float:
        return TOP + plot_h - float(plot_h * value / top)

    lines = [
        Line(
            series.name,
            COLOURS[n % len(COLOURS)],
            " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(series.values)),
            _label(series.values[-1]) if series.values else "",
        )
        for n, series in enumerate(chart.series)
    ]
    y_ticks = [(y(top * k / 4), _label(top * k / 4)) for k in range(5)]
    step = max(1, count // 6)
    x_ticks = [(x(i), chart.days[i]) for i in range(0, count, step)] if count else []
    return Geometry(WIDTH, HEIGHT, lines, y_ticks, x_ticks, LEFT, TOP + plot_h, count == 0)


def _label(value: Fraction) -> str:
    amount = Decimal(value.numerator) / Decimal(value.denominator)
    return _grouped(f"{amount:.0f}") if abs(amount) >= 100 else f"{amount:.2f}".rstrip("0").rstrip(".")
