"""Commands that only read the views: balances, clients, venues list, the compliance and settlement reports.

Each opens `Sandbox.open_reader()`: no decision state, no signing key, no write lock.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from ledger.home import DEFAULT_HOME

if TYPE_CHECKING:
    pass

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.

from ledger.cli.edges import (
    DatabaseUrlOption,
    HomeOption,
    JsonOption,
    app,
    out,
    printable,
    read_report,
    report_app,
    sandbox_for,
    user_errors,
    venues_app,
)


@app.command()
def balances(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
    include_system: Annotated[bool, typer.Option("--system", help="Show system accounts too.")] = False,
) -> None:
    """Balances per account and asset."""
    with user_errors(), sandbox_for(home, database_url).open_reader() as reader:
        rows = reader.balances(include_system=include_system)
    if as_json:
        print(json.dumps([{"account": r.account, "asset": r.asset, "amount": r.amount} for r in rows], indent=2))
        return
    table = Table()
    for column in ("Account", "Asset", "Amount"):
        table.add_column(column, justify="right" if column == "Amount" else "left")
    for row in rows:
        table.add_row(row.account, row.asset, row.amount)
    out.print(table)


@app.command()
def clients(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Clients and their lifecycle: KYC (and its expiry), frozen, offboarded."""
    from ledger.reports import clients as client_report

    rows = read_report(home, database_url, client_report, as_json)
    if rows is None:
        return
    table = Table()
    for column in ("Client", "Name", "Residency", "Kind", "KYC", "KYC expires", "Frozen", "Offboarded"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["client_id"],
            Text(printable(row["name"])),
            row["residency"],
            row["kind"],
            row["kyc"] if row["kyc"] == "verified" else f"[red]{row['kyc']}[/]",
            row["kyc_expires_on"] or "",
            Text(printable(row["frozen_reason"]), style="red") if row["frozen"] else Text("no"),
            row["offboarded_on"] or "no",
        )
    out.print(table)


@venues_app.command("list")
def venues_list(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Venues, domestic or foreign, listed or not, with the assets they list."""
    from ledger.reports import venues

    rows = read_report(home, database_url, venues, as_json)
    if rows is None:
        return
    table = Table()
    for column in ("Venue", "Name", "Kind", "Domestic", "Listed", "Assets"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["venue_id"],
            Text(printable(row["name"])),
            row["kind"],
            "yes" if row["domestic"] else "no",
            "yes" if row["listed"] else "[red]no[/]",
            ", ".join(row["assets"]),
        )
    out.print(table)


@report_app.command("compliance")
def report_compliance(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Recorded rejections by rule, client, venue and day."""
    from ledger.reports import compliance

    report = read_report(home, database_url, compliance, as_json)
    if report is None:
        return
    out.print(f"Recorded rejections up to log position {report['as_of_position']}: {report['total']}")
    table = Table(title="By rule", title_justify="left")
    table.add_column("Rule")
    table.add_column("Rejections", justify="right")
    for rule, count in report["by_rule"].items():
        table.add_row(rule, str(count))
    out.print(table)
    for title, key in (("By client", "by_client"), ("By venue", "by_venue"), ("By day", "by_day")):
        if report[key]:
            out.print(f"[bold]{title}[/]: " + ", ".join(f"{name} {count}" for name, count in report[key].items()))


@report_app.command("settlements")
def report_settlements(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Cross-border settlements: outstanding, overdue, share returned, volume by country."""
    from ledger.reports import print_settlements, settlements

    report = read_report(home, database_url, settlements, as_json)
    if report is None:
        return
    print_settlements(report, out)
