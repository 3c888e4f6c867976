"""Scenario commands beside `scenario run`: the shipped scenarios, and the format's JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ledger.cli.edges import JsonOption, UserError, out, printable, user_errors
from ledger.cli.writes import scenario_app


@scenario_app.command("list")
def scenario_list(as_json: JsonOption = False) -> None:
    """The scenarios shipped with the package, each with its one line; run one by name."""
    from ledger.scenario import ScenarioError, description, shipped

    with user_errors():
        try:
            rows = [
                {"name": name, "description": description(path), "path": str(path)} for name, path in shipped().items()
            ]
        except ScenarioError as error:
            raise UserError(printable(str(error))) from None
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    width = max((len(row["name"]) for row in rows), default=0)
    for row in rows:
        out.print(f"{escape(row['name']).ljust(width)}  {escape(printable(row['description']))}", soft_wrap=True)
    out.print("Run one with: ledger scenario run NAME", soft_wrap=True)


@scenario_app.command("schema")
def scenario_schema(
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the schema to this file.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The JSON Schema (draft 2020-12) of scenario files, for editors that complete commands and fields.

    With --out it is written to the file; with --json as well, the answer is {"path": ...}."""
    from ledger.scenario_format import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if out_file is None:
        print(text, end="")
        return
    with user_errors():
        try:
            out_file.write_text(text, encoding="utf-8")
        except OSError as error:
            raise UserError(printable(f"{out_file}: cannot be written: {error.strerror or error}")) from None
    if as_json:
        print(json.dumps({"path": str(out_file)}, indent=2))
    else:
        out.print(f"Wrote the scenario schema to {escape(printable(str(out_file)))}", soft_wrap=True)
