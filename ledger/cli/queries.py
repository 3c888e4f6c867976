"""Reading back: `ledger transactions` (filtered pages, or one by its key) and `ledger log` (the raw event log).

Each opens `Sandbox.open_reader()`: no decision state, no signing key, no
write lock. A bad filter, limit or cursor is a user error: one line, exit 2.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from ledger.home import DEFAULT_HOME

if TYPE_CHECKING:
    from ledger.views import EventRow, TransactionRow

from ledger.cli.edges import (
    DatabaseUrlOption,
    HomeOption,
    JsonOption,
    UserError,
    app,
    out,
    parse_time,
    printable,
    sandbox_for,
    user_errors,
)

LimitOption = Annotated[int, typer.Option("--limit", help="Rows in the page (transactions at most 500, log 1000).")]


@app.command()
def transactions(
    client: Annotated[str | None, typer.Option(help="Concerning this client (any party of it).")] = None,
    account: Annotated[str | None, typer.Option(help="Posting to this account, like client:alesia.")] = None,
    asset: Annotated[str | None, typer.Option(help="Moving this asset (or naming it, for a rejection).")] = None,
    command_type: Annotated[str | None, typer.Option("--type", help="Of this command type, like deposit.")] = None,
    status: Annotated[str | None, typer.Option(help="accepted or rejected.")] = None,
    rule: Annotated[str | None, typer.Option(help="Rejected under this rule code.")] = None,
    venue: Annotated[str | None, typer.Option(help="Concerning this venue.")] = None,
    since: Annotated[str | None, typer.Option(help="Ledger time from (RFC 3339, inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Ledger time up to (RFC 3339, exclusive).")] = None,
    metadata: Annotated[
        list[str] | None, typer.Option("--metadata", help="KEY=VALUE the command's metadata holds (repeatable).")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="Show the one transaction of this idempotency key.")] = None,
    limit: LimitOption = 50,
    cursor: Annotated[str | None, typer.Option(help="The next_cursor of the previous page.")] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recorded transactions and rejections, newest first, a page at a time (--key: one by its key)."""
    from ledger.views import TransactionFilter

    with user_errors():
        where = TransactionFilter(
            client=client,
            account=account,
            asset=asset,
            command_type=command_type,
            status=status,  # type: ignore[arg-type]  # the filter checks it, naming the two
            rule=rule,
            venue=venue,
            since=None if since is None else parse_time(since),
            until=None if until is None else parse_time(until),
            metadata=tuple(_pair(text) for text in metadata or ()),
        )
        with sandbox_for(home, database_url).open_reader() as reader:
            if key is not None:
                _show(reader.transaction(key), key, as_json)
                return
            page = reader.transactions(where, limit=limit, cursor=cursor)
    if as_json:
        print(json.dumps(page.to_json(), indent=2))
        return
    _print_transactions(page.items)
    if page.next_cursor is not None:
        out.print(f"next page: --cursor {page.next_cursor}", soft_wrap=True)


def _pair(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise UserError(f"--metadata {text!r}: give it as KEY=VALUE")
    return name, value


def _show(row: TransactionRow | None, key: str, as_json: bool) -> None:
    if row is None:
        raise UserError(f"no transaction under key {key!r} (a command that wrote no events has none)")
    if as_json:
        print(json.dumps(row.to_json(), indent=2))
        return
    for name, value in row.to_json().items():
        shown = value if isinstance(value, str | int) else json.dumps(value)
        # Stored text (keys, names, metadata) is shown as it is: never read as markup.
        out.print(f"{name:<17} {printable(str(shown))}", soft_wrap=True, highlight=False, markup=False)


def _print_transactions(rows: list[TransactionRow]) -> None:
    table = Table()
    for column in ("Position", "Key", "Type", "Status", "Clients", "Assets", "Ledger time"):
        table.add_column(column, justify="right" if column == "Position" else "left")
    for row in rows:
        status = "accepted" if row.rule is None else f"[red]rejected[/] {row.rule}"
        table.add_row(
            str(row.position),
            Text(printable(row.key)),
            row.command_type,
            status,
            ", ".join(row.clients),
            ", ".join(row.assets),
            row.ledger_time if row.late_by_seconds is None else f"{row.ledger_time} (late by {row.late_by_seconds} s)",
        )
    out.print(table)


@app.command()
def log(
    event_type: Annotated[
        list[str] | None, typer.Option("--type", help="Only events of this class, like FundsDeposited (repeatable).")
    ] = None,
    rule: Annotated[str | None, typer.Option(help="Only rejections under this rule code.")] = None,
    after: Annotated[int, typer.Option(help="Start after this log position.")] = 0,
    limit: LimitOption = 100,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The raw event log in order, from the event after --after (JSON lines with --json)."""
    with user_errors(), sandbox_for(home, database_url).open_reader() as reader:
        rows = reader.events(after=after, limit=limit, types=tuple(event_type or ()), rule=rule)
    if as_json:
        for row in rows:
            print(json.dumps(row.to_json(), separators=(",", ":")))
        return
    _print_log(rows)


def _print_log(rows: list[EventRow]) -> None:
    """One line an event: its payload is too wide for a table's column."""
    for row in rows:
        data = json.dumps({name: value for name, value in row.data.items() if name not in _SHOWN_APART})
        out.print(
            f"{row.position:>8}  {row.ledger_time}  {row.type:<27} {row.command_key}  {data}",
            soft_wrap=True,
            highlight=False,
            markup=False,
        )


_SHOWN_APART = {"ledger_time", "command_key"}
