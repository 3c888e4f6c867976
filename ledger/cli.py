"""The `ledger` command line: a thin layer over `Sandbox` and `Ledger`.

User errors print one line naming what was wrong and where, exit with status 2
and write nothing; there are no tracebacks for them.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from domain.errors import BatchRejected, LedgerError
from domain.parties import VenueKind
from ledger.clock import ManualClock
from ledger.home import BATCH_SIZE_MAX, DEFAULT_HOME, BankIdentity, SigningKeyError
from ledger.sandbox import DEFAULT_IDENTITY, Sandbox, SandboxError
from ledger.store.ports import StoreConfigError, UnreadableEvent
from ledger.store.schema import StoreNotReady, open_store

if TYPE_CHECKING:
    from domain.commands import BaseCommand

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.

EXIT_RULE_REJECTED = 1
EXIT_USER_ERROR = 2
INPUT_LINE_LENGTH_MAX = 64 * 1024

app = typer.Typer(
    help="An event-sourced ledger for a simulated crypto bank.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

HomeOption = Annotated[
    Path, typer.Option("--home", envvar="LEDGER_HOME", help="Sandbox home: SQLite file, keys, identity.")
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="LEDGER_DATABASE_URL",
        help="postgresql://user@host:port/dbname?schema=name, any libpq parameter passing through "
        "(default: the SQLite file in the home).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
KeyOption = Annotated[str, typer.Option("--key", help="Your idempotency key for this command.")]

venues_app = typer.Typer(help="Trading venues: list, add, delist.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for people and for the supervisor.", no_args_is_help=True)
app.add_typer(venues_app, name="venues")
app.add_typer(report_app, name="report")


class UserError(Exception):
    """A mistake of the caller's, reported as one line."""


def fail(message: str) -> NoReturn:
    err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_USER_ERROR)


# Every failure a user or a file can cause, and its exit code; anything else
# is a bug and keeps its traceback. A rule's refusal of a command is not an
# error: it is a result, and exits with EXIT_RULE_REJECTED.
EXPECTED_ERRORS: dict[type[Exception], int] = {
    UserError: EXIT_USER_ERROR,
    LedgerError: EXIT_USER_ERROR,
    SandboxError: EXIT_USER_ERROR,
    SigningKeyError: EXIT_USER_ERROR,
    StoreConfigError: EXIT_USER_ERROR,
    StoreNotReady: EXIT_USER_ERROR,
    UnreadableEvent: EXIT_USER_ERROR,
    ValidationError: EXIT_USER_ERROR,
    sqlite3.Error: EXIT_USER_ERROR,
    OSError: EXIT_USER_ERROR,
}


@contextmanager
def user_errors() -> Iterator[None]:
    """Translates expected failures to one-line messages at the edge."""
    try:
        yield
    except Exception as error:
        message = describe_failure(error)
        if message is None:
            raise
        fail(message)


def describe_failure(error: Exception) -> str | None:
    """The one line for an expected failure; None for a bug."""
    from eventsourcing.persistence import PersistenceError

    if isinstance(error, ValidationError):
        return describe_validation_error(error)
    if isinstance(error, PersistenceError | sqlite3.Error | OSError):
        if _from_psycopg(error.__cause__):
            return f"the PostgreSQL store could not be used: {_first_line(error)}"
        return f"the store could not be used: {error}"
    if isinstance(error, tuple(EXPECTED_ERRORS)):
        return str(error)
    if _from_psycopg(error):
        return f"the PostgreSQL store could not be used: {_first_line(error)}"
    return None


def _from_psycopg(error: BaseException | None) -> bool:
    """The PostgreSQL driver is optional, so its errors are recognised by module
    (the library wraps them in its own, with the driver's as the cause)."""
    return error is not None and type(error).__module__.split(".")[0] in ("psycopg", "psycopg_pool")


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def describe_validation_error(error: ValidationError, where: str = "") -> str:
    problems = []
    for item in error.errors()[:3]:
        field = ".".join(str(part) for part in item["loc"]) or "input"
        problems.append(f"{field}: {item['msg']}")
    prefix = f"{where}: " if where else ""
    return prefix + "; ".join(problems)


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not an RFC 3339 time like 2026-01-16T09:00:00Z") from None
    if moment.tzinfo is None:
        raise UserError(f"{text!r} needs a time zone, like 2026-01-16T09:00:00Z")
    return moment


def sandbox_for(home: Path, database_url: str | None) -> Sandbox:
    return Sandbox.at(home, database_url)


RuntimeRoleOption = Annotated[
    str | None,
    typer.Option(help="PostgreSQL: a role for the service that may append to history and keep its views, no more."),
]
OwnerRoleOption = Annotated[str | None, typer.Option(help="PostgreSQL: a role to own the schema and run migrations.")]


@app.command()
def init(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    bank_name: Annotated[str, typer.Option(help="The crypto bank's name.")] = DEFAULT_IDENTITY.name,
    origin: Annotated[str, typer.Option(help="The log's origin line in checkpoints.")] = DEFAULT_IDENTITY.origin,
    register_entry: Annotated[
        str, typer.Option(help="The bank's entry in the NBRB register of crypto banks.")
    ] = DEFAULT_IDENTITY.nbrb_register_entry,
    sandbox_key: Annotated[
        bool, typer.Option("--sandbox-key", help="Store the signing key unencrypted (sandboxes only).")
    ] = False,
    checkpoint_every_events: Annotated[int, typer.Option(help="Sign a checkpoint every N new events.")] = 1000,
    checkpoint_every_seconds: Annotated[int, typer.Option(help="... or every T seconds with new events.")] = 3600,
    at: Annotated[
        str | None, typer.Option(help="Record the bank's establishment at this RFC 3339 time (reproducible sandboxes).")
    ] = None,
    runtime_role: RuntimeRoleOption = None,
    owner_role: OwnerRoleOption = None,
) -> None:
    """Create the store, the bank's identity and its Ed25519 signing key (and PostgreSQL roles)."""
    with user_errors():
        clock = ManualClock(parse_time(at)) if at else None
        identity = BankIdentity(
            name=bank_name,
            origin=origin,
            nbrb_register_entry=register_entry,
            checkpoint_every_events=checkpoint_every_events,
            checkpoint_every_seconds=checkpoint_every_seconds,
        )
        sandbox = sandbox_for(home, database_url)
        if (runtime_role or owner_role) and not (database_url or "").startswith(("postgres://", "postgresql://")):
            raise UserError("--runtime-role and --owner-role are for a PostgreSQL store (--database-url)")
        key = sandbox.init(identity, allow_unencrypted_key=sandbox_key, clock=clock, ledger_clock=clock)
        if runtime_role is not None or owner_role is not None:
            sandbox.set_up_roles(runtime=runtime_role, owner=owner_role)
    out.print(f"Initialised {home} for {identity.name}")
    out.print(f"verifier key: {key}", soft_wrap=True)
    for kind, role in (("runtime", runtime_role), ("owner", owner_role)):
        if role is not None:
            out.print(f"The {kind} role {role} is set up (give it a password with ALTER ROLE, or trust it locally)")


@app.command()
def migrate(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    runtime_role: RuntimeRoleOption = None,
    owner_role: OwnerRoleOption = None,
    print_sql: Annotated[bool, typer.Option("--print-sql", help="Print the roles' SQL instead of running it.")] = False,
) -> None:
    """Upgrade the store's schema (and PostgreSQL roles) to this release's; with init, the only DDL."""
    from ledger.store.schema import SCHEMA_VERSION

    with user_errors():
        sandbox = sandbox_for(home, database_url)
        if print_sql:
            if runtime_role is None and owner_role is None:
                raise UserError("--print-sql prints the roles' SQL: name --runtime-role and/or --owner-role")
            for statement in sandbox.set_up_roles(runtime=runtime_role, owner=owner_role, execute=False):
                print(f"{statement};")
            return
        reached = sandbox.migrate()
        if runtime_role is not None or owner_role is not None:
            sandbox.set_up_roles(runtime=runtime_role, owner=owner_role)
    if reached:
        out.print(f"Migrated to schema version {SCHEMA_VERSION} (through {', '.join(map(str, reached))})")
    else:
        out.print(f"The store is at schema version {SCHEMA_VERSION} already: nothing to do")
    for kind, role in (("runtime", runtime_role), ("owner", owner_role)):
        if role is not None:
            out.print(f"The {kind} role {role} is set up (give it a password with ALTER ROLE, or trust it locally)")


@app.command()
def snapshot(home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None) -> None:
    """Snapshot the decision state now, so that writers open from it (they take one every 10k events too)."""
    with user_errors(), sandbox_for(home, database_url).open(auto_checkpoint=False) as ledger:
        position = ledger.snapshot()
    out.print(f"Snapshot of the decision state at log position {position}")


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
def submit(
    source: Annotated[str, typer.Argument(help="A file of commands, one JSON object a line; '-' for stdin.")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Submit a batch of commands: all are committed together, or none."""
    with user_errors():
        lines = read_lines(source)
        commands = parse_commands(source, lines)
        with sandbox_for(home, database_url).open() as ledger:
            try:
                results = ledger.submit([command for _, command in commands])
            except BatchRejected as rejected:
                line = commands[int(str(rejected.context["position"]))][0]
                raise UserError(f"{source}:{line}: {rejected.message}") from None
    if as_json:
        print(json.dumps([result.to_json() for result in results], indent=2))
        return
    for result in results:
        status = "[green]accepted[/]" if result.accepted else f"[red]rejected[/] {result.rule}: {result.reason}"
        again = " (repeat)" if result.repeated else ""
        out.print(f"{result.key}: {status}{again}")


def read_lines(source: str) -> list[str]:
    if source == "-":
        return sys.stdin.read().splitlines()
    path = Path(source)
    if not path.is_file():
        raise UserError(f"{source}: no such file")
    return path.read_text(encoding="utf-8").splitlines()


def command_adapter() -> Any:
    from domain.commands import COMMAND_ADAPTER

    return COMMAND_ADAPTER


def parse_commands(source: str, lines: list[str]) -> list[tuple[int, BaseCommand]]:
    commands: list[tuple[int, BaseCommand]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if len(line) > INPUT_LINE_LENGTH_MAX:
            raise UserError(f"{source}:{number}: line longer than {INPUT_LINE_LENGTH_MAX} characters")
        try:
            commands.append((number, command_adapter().validate_json(line)))
        except ValidationError as error:
            raise UserError(describe_validation_error(error, f"{source}:{number}")) from None
        if len(commands) > BATCH_SIZE_MAX:
            raise UserError(f"{source}:{number}: a batch holds at most {BATCH_SIZE_MAX} commands")
    if not commands:
        raise UserError(f"{source}: no commands found")
    return commands


@app.command()
def demo(home: HomeOption = Path("demo-sandbox"), database_url: DatabaseUrlOption = None) -> None:
    """The main job: a full scenario end to end, then export and verify the audit bundle."""
    from ledger.demo import run_demo

    with user_errors():
        run_demo(sandbox_for(home, database_url), out)


def main() -> Any:
    return app()


@app.command()
def bench(
    as_json: JsonOption = False,
    events: Annotated[
        int, typer.Option("--events", min=100, max=2_000_000, help="Business transactions for write.*.")
    ] = 20_000,
    audit_events: Annotated[
        int, typer.Option("--audit-events", min=1000, max=10_000_000, help="Leaves for audit.* and memory.*.")
    ] = 1_000_000,
    replay_events: Annotated[
        int,
        typer.Option("--replay-events", min=1000, max=10_000_000, help="Events for replay, memory.replay and open.*."),
    ] = 1_000_000,
    only: Annotated[str | None, typer.Option(help="Run only figures starting with this, like 'audit'.")] = None,
) -> None:
    """Benchmarks with references measured in the same run (JSON with --json)."""
    from ledger.bench.audit import run_audit_benchmarks
    from ledger.bench.replay import run_replay_benchmarks
    from ledger.bench.write import run_benchmarks

    figures: dict[str, Any] = {}
    with err.status("benchmarking...") if not as_json else nullcontext():
        if only is None or "write".startswith(only) or only.startswith("write"):
            figures.update(run_benchmarks(events)["figures"])
        if only is None or any(name.startswith(only) or only.startswith(name) for name in ("audit", "memory")):
            figures.update(run_audit_benchmarks(audit_events))
        replay = only is None or any(name.startswith(only) or only.startswith(name) for name in ("replay", "memory"))
        opening = only is None or "open".startswith(only) or only.startswith("open")
        if replay or opening:
            figures.update(run_replay_benchmarks(replay_events, replay=replay, opening=opening))
    report = {"figures": figures}
    if as_json:
        print(json.dumps(report, indent=2))
        return
    table = Table()
    for column in ("Figure", "Value", "Unit", "References"):
        table.add_column(column)
    for name, figure in report["figures"].items():
        references = ", ".join(f"{k} {v}" for k, v in figure["references"].items())
        table.add_row(name, str(figure["value"]), figure["unit"], references)
    out.print(table)


def submit_one(home: Path, database_url: str | None, command: BaseCommand, as_json: bool) -> None:
    """Submits one command and reports it; a rule rejection exits with status 1."""
    with user_errors(), sandbox_for(home, database_url).open() as ledger:
        try:
            (result,) = ledger.submit([command])
        except BatchRejected as rejected:
            raise UserError(str(rejected.cause)) from None
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    elif result.accepted:
        out.print(f"{result.key}: [green]accepted[/]{' (repeat)' if result.repeated else ''}")
    else:
        out.print(f"{result.key}: [red]rejected[/] {result.rule}: {result.reason}", soft_wrap=True)
    if not result.accepted:
        raise typer.Exit(EXIT_RULE_REJECTED)


def read_report(home: Path, database_url: str | None, reader: Callable[[Any], Any], as_json: bool) -> Any:
    """Opens the sandbox, reads a report from its views; prints it as JSON and
    returns None with --json, or returns it for a readable rendering."""
    with user_errors(), sandbox_for(home, database_url).open_reader() as views:
        report = reader(views)
    if as_json:
        print(json.dumps(report, indent=2))
        return None
    return report


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
            row["name"],
            row["kind"],
            "yes" if row["domestic"] else "no",
            "yes" if row["listed"] else "[red]no[/]",
            ", ".join(row["assets"]),
        )
    out.print(table)


@venues_app.command("add")
def venues_add(
    venue_id: Annotated[str, typer.Argument(help="The venue's id.")],
    name: Annotated[str, typer.Option(help="The venue's name.")],
    kind: Annotated[VenueKind, typer.Option(help="Domestic HTP platform or exchange operator, or foreign.")],
    assets: Annotated[str, typer.Option(help="Asset codes it lists, comma-separated: BYN,USDT.")],
    key: KeyOption,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a venue (or list again one that was delisted)."""
    with user_errors():
        codes = [code.strip() for code in assets.split(",") if code.strip()]
        from domain.commands import ListVenue

        command = ListVenue(key=key, venue_id=venue_id, name=name, kind=kind, assets=codes)
    submit_one(home, database_url, command, as_json)


@venues_app.command("delist")
def venues_delist(
    venue_id: Annotated[str, typer.Argument(help="The venue's id.")],
    reason: Annotated[str, typer.Option(help="Why, for the record.")],
    key: KeyOption,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delist a venue: every trade routed to it afterwards is refused."""
    with user_errors():
        from domain.commands import DelistVenue

        command = DelistVenue(key=key, venue_id=venue_id, reason=reason)
    submit_one(home, database_url, command, as_json)


@app.command()
def trade(
    key: KeyOption,
    base: Annotated[str, typer.Option(help="The asset bought, like USDT.")],
    base_amount: Annotated[str, typer.Option(help="How much of it, as a decimal.")],
    quote: Annotated[str, typer.Option(help="The asset paid, like BYN.")],
    quote_amount: Annotated[str, typer.Option(help="How much is paid, as a decimal.")],
    venue: Annotated[str | None, typer.Option(help="The venue; none for a trade with the bank.")] = None,
    buyer: Annotated[str | None, typer.Option(help="Buying client; none for the bank or the venue.")] = None,
    seller: Annotated[str | None, typer.Option(help="Selling client; none for the bank or the venue.")] = None,
    fee: Annotated[str, typer.Option(help="The bank's fee, in the quote asset, paid by the buyer.")] = "0",
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Execute a trade: delivery versus payment, with a fee to the bank."""
    with user_errors():
        from domain.commands import ExecuteTrade

        command = ExecuteTrade(
            key=key,
            venue_id=venue,
            buyer_client_id=buyer,
            seller_client_id=seller,
            base_asset=base,
            base_amount=base_amount,
            quote_asset=quote,
            quote_amount=quote_amount,
            fee=fee,
        )
    submit_one(home, database_url, command, as_json)


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


audit_app = typer.Typer(help="The signed audit trail: key, checkpoints, export, verification.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("key")
def audit_key(home: HomeOption = DEFAULT_HOME) -> None:
    """Print the bank's current verifier key (C2SP), for the supervisor to pin."""
    with user_errors():
        print(sandbox_for(home, None).verifier_key())


@audit_app.command("checkpoint")
def audit_checkpoint(home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None) -> None:
    """Sign a checkpoint of the log as it is now, and print it."""
    with user_errors():
        sandbox = sandbox_for(home, database_url)
        signer = sandbox.signer()
        with sandbox.open(auto_checkpoint=False) as ledger:
            stored = ledger.audit.checkpoint(signer, ledger.clock.now())
    sys.stdout.write(stored.note)


@audit_app.command("export")
def audit_export(
    directory: Annotated[Path, typer.Argument(help="A new or empty directory for the bundle.")],
    since: Annotated[
        Path | None, typer.Option(help="The supervisor's last checkpoint: export only what came after it.")
    ] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Export the audit bundle: leaves, signed checkpoints, consistency proofs."""
    from ledger.audit.bundle import ExportError, export_bundle

    with user_errors():
        sandbox = sandbox_for(home, database_url)
        signer = sandbox.signer()
        trusted = read_text(since) if since else None
        with sandbox.open(auto_checkpoint=False) as ledger:
            try:
                summary = export_bundle(
                    ledger.audit,
                    signer,
                    directory,
                    ledger.clock.now(),
                    since=trusted,
                    verifier_keys=sandbox.verifier_keys(),
                )
            except ExportError as error:
                raise UserError(str(error)) from None
    out.print(
        f"Exported leaves {summary.first_index} to {summary.tree_size - 1} with {len(summary.checkpoints)} "
        f"checkpoints and {len(summary.proofs)} proofs to {summary.directory}",
        soft_wrap=True,
    )


def read_text(path: Path) -> str:
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    return path.read_text(encoding="utf-8")


@audit_app.command("verify")
def audit_verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle directory.")],
    key: Annotated[str, typer.Option(help="The bank's verifier key, pinned by you (never taken from the bundle).")],
    trusted: Annotated[Path | None, typer.Option(help="A checkpoint you trust: the bundle must extend it.")] = None,
    witness_key: Annotated[
        str | None, typer.Option(help="A witness's cosigner key: every checkpoint must carry its cosignature.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a bundle offline: exit 0 only if everything verifies."""
    from ledger.audit.verify import verify_bundle

    with user_errors():
        if not bundle.is_dir():
            raise UserError(f"{bundle}: not a bundle directory")
        findings = verify_bundle(bundle, key, trusted=read_text(trusted) if trusted else None, witness_key=witness_key)
    if as_json:
        print(json.dumps({"verified": not findings, "findings": [vars(f) for f in findings]}, indent=2))
    elif findings:
        for finding in findings:
            err.print(f"[red]FAIL[/] {finding}", highlight=False, soft_wrap=True)
    else:
        out.print(f"[green]verified[/] {bundle}")
    if findings:
        raise typer.Exit(1)


@audit_app.command("prove")
def audit_prove(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the proof (JSON).")],
    index: Annotated[int | None, typer.Option(help="The leaf index of the event.")] = None,
    stream: Annotated[str | None, typer.Option(help="Or the event's stream id ...")] = None,
    version: Annotated[int, typer.Option(help="... and its version in that stream.")] = 1,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Write an inclusion proof of one event against a signed checkpoint."""
    from uuid import UUID

    from ledger.audit.merkle import ProofError
    from ledger.audit.proofs import leaf_proof

    with user_errors():
        if (index is None) == (stream is None):
            raise UserError("name the event by --index, or by --stream (and --version)")
        sandbox = sandbox_for(home, database_url)
        signer = sandbox.signer()
        with sandbox.open(auto_checkpoint=False) as ledger:
            ledger.audit.catch_up()
            if stream is not None:
                index = leaf_index_of(ledger, UUID(stream), version)
            assert index is not None
            size = ledger.audit.tree().size
            if not 0 <= index < size:
                raise UserError(f"leaf {index} is not in the log of {size} leaves")  # refused before signing
            checkpoint = ledger.audit.checkpoint(signer, ledger.clock.now())
            try:
                document = leaf_proof(ledger.audit, index, checkpoint)
            except ProofError as error:
                raise UserError(str(error)) from None
        out_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    out.print(f"Proof of leaf {index} against the checkpoint of {checkpoint.size} leaves written to {out_file}")


def leaf_index_of(ledger: Any, stream: Any, version: int) -> int:
    notification_id = ledger.backend.notification_id_of(stream, version)
    if notification_id is None:
        raise UserError(f"no event {stream} version {version} in this log")
    with ledger.backend.views() as session:
        rows = session.fetchall("SELECT leaf_index FROM audit_leaves WHERE notification_id = ?", (notification_id,))
    return int(rows[0][0])


@audit_app.command("verify-proof")
def audit_verify_proof(
    proof_file: Annotated[Path, typer.Argument(help="A proof written by 'ledger audit prove'.")],
    key: Annotated[str, typer.Option(help="The bank's verifier key, pinned by you.")],
    as_json: JsonOption = False,
) -> None:
    """Verify one event's inclusion proof offline."""
    from ledger.audit.merkle import ProofError
    from ledger.audit.notes import NoteError
    from ledger.audit.proofs import verify_leaf_proof

    with user_errors():
        try:
            document = json.loads(read_text(proof_file))
            leaf = verify_leaf_proof(document, key)
        except (ProofError, NoteError, json.JSONDecodeError) as error:
            err.print(f"[red]FAIL[/] {proof_file}: {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    if as_json:
        print(json.dumps({"verified": True, "leaf": leaf}, indent=2))
    else:
        out.print(f"[green]verified[/] leaf {leaf['index']}: {leaf['type']} in stream {leaf['stream']}")


@audit_app.command("rotate-key")
def audit_rotate_key(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    sandbox_key: Annotated[
        bool, typer.Option("--sandbox-key", help="Store the new key unencrypted (sandboxes only).")
    ] = False,
) -> None:
    """Rotate the signing key: a hand-over checkpoint carries the old and the new signature."""
    with user_errors():
        old, new, stored = sandbox_for(home, database_url).rotate_key(allow_unencrypted_key=sandbox_key)
    out.print(f"old key: {old}", soft_wrap=True)
    out.print(f"new key: {new}", soft_wrap=True)
    out.print(f"hand-over checkpoint at tree size {stored.size}, signed by both")


WitnessHomeOption = Annotated[Path, typer.Option("--witness-home", help="The supervisor's witness home.")]


@audit_app.command("witness-init")
def audit_witness_init(
    witness_home: WitnessHomeOption,
    name: Annotated[str, typer.Option(help="The witness's name, like supervisor.example/witness.")],
    sandbox_key: Annotated[bool, typer.Option("--sandbox-key", help="Store the key unencrypted.")] = False,
) -> None:
    """Create a witness (the supervisor's cosigning key) and print its key."""
    from ledger.audit.witness import Witness, WitnessError

    with user_errors():
        try:
            key = Witness(witness_home).init(name, allow_unencrypted_key=sandbox_key)
        except WitnessError as error:
            raise UserError(str(error)) from None
    out.print(f"witness key: {key}", soft_wrap=True)


@audit_app.command("cosign")
def audit_cosign(
    bundle: Annotated[Path, typer.Argument(help="The bundle whose latest checkpoint to cosign.")],
    key: Annotated[str, typer.Option(help="The bank's verifier key, pinned by the supervisor.")],
    witness_home: WitnessHomeOption,
) -> None:
    """Cosign a bundle's latest checkpoint after checking it extends the last one cosigned."""
    from ledger.audit.witness import Witness, WitnessError

    with user_errors():
        try:
            witness = Witness(witness_home)
            note = witness.cosign_bundle(bundle, key)
        except WitnessError as error:
            err.print(f"[red]REFUSED[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    out.print(f"cosigned by {witness.name}: {note.text.splitlines()[1]} leaves")
    out.print(f"witness key: {witness.verifier().encode()}", soft_wrap=True)


@app.command()
def replay(
    bundle: Annotated[Path | None, typer.Option(help="Replay an exported bundle (verified first) instead.")] = None,
    key: Annotated[str | None, typer.Option(help="The bank's verifier key, for --bundle or a checkpoint.")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="A checkpoint file, a leaf count, or an RFC 3339 time.")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Compare with the live views; exit 1 if they differ.")] = False,
    into: Annotated[Path | None, typer.Option(help="Keep the replayed store in this new directory.")] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rebuild every view from the log (or a bundle) in a fresh store, and print a digest per view."""
    import tempfile

    from ledger.projections import view_digests
    from ledger.replay import ReplayError
    from ledger.store.ports import StoreLocation

    with user_errors(), tempfile.TemporaryDirectory(prefix="ledger-replay-") as scratch:
        if check and (as_of or bundle):
            raise UserError("--check compares the whole store's log with its live views: drop --as-of and --bundle")
        if bundle is not None and key is None:
            raise UserError("--bundle needs --key: the bundle is verified before it is replayed")
        if into is not None and into.exists() and any(into.iterdir()):
            raise UserError(f"{into} exists and is not empty: choose a new directory")
        target_path = (into or Path(scratch)) / "ledger.sqlite"
        target = open_store(StoreLocation(sqlite_path=target_path), create=True)
        try:
            with progress_bar(as_json, "replaying") as advance:
                if bundle is not None:
                    count, findings = _replay_bundle(bundle, str(key), as_of, target, advance)
                else:
                    count, findings = _replay_store(sandbox_for(home, database_url), key, as_of, check, target, advance)
            digests = view_digests(target)
        except ReplayError as error:
            raise UserError(str(error)) from None
        finally:
            target.close()
    _print_replay(count, digests, findings if check else None, target_path if into else None, as_json)
    if check and findings:
        raise typer.Exit(1)


def _replay_bundle(bundle: Path, key: str, as_of: str | None, target: Any, advance: Any) -> tuple[int, list[Any]]:
    from ledger.projections import ViewDecoder
    from ledger.replay import replay_bundle

    stop = parse_as_of(as_of, key)
    return replay_bundle(bundle, key, target, ViewDecoder(target.mapper), stop, advance), []


def _replay_store(
    sandbox: Sandbox, key: str | None, as_of: str | None, check: bool, target: Any, advance: Any
) -> tuple[int, list[Any]]:
    from ledger.replay import differences, replay_store

    if as_of and Path(as_of).is_file() and key is None:
        key = sandbox.verifier_key()
    stop = parse_as_of(as_of, key)
    from ledger.projections import ViewDecoder

    with sandbox.open_reader() as reader:  # a read: no decision state, no key, no write lock
        count = replay_store(reader.backend, ViewDecoder(reader.backend.mapper), target, stop, advance)
        if not check:
            return count, []
        reader.position()  # views an older release left behind are caught up first
        return count, differences(reader.backend, target)


def _print_replay(
    count: int, digests: dict[str, str], findings: list[Any] | None, kept: Path | None, as_json: bool
) -> None:
    if as_json:
        check = None if findings is None else {"equal": not findings, "differences": [str(f) for f in findings]}
        print(json.dumps({"events": count, "digests": digests, "check": check}, indent=2))
        return
    out.print(f"Replayed {count} events into {kept or 'a scratch store'}")
    for view, digest in digests.items():
        out.print(f"  {view:<18} {digest}", soft_wrap=True)
    if findings is not None:
        out.print("[green]live views match the log[/]" if not findings else "[red]live views differ:[/]")
        for finding in findings:
            out.print(f"  {finding}", soft_wrap=True)


def parse_as_of(text: str | None, key: str | None) -> Any:
    from datetime import datetime

    from ledger.audit.notes import NoteError, Verifier, open_checkpoint
    from ledger.replay import StopAt

    if text is None:
        return StopAt()
    if text.isdigit():
        return StopAt(leaves=int(text))
    path = Path(text)
    if path.is_file():
        if key is None:
            raise UserError("a checkpoint --as-of needs --key to check its signature")
        try:
            checkpoint, _ = open_checkpoint(path.read_text(encoding="utf-8"), [Verifier.parse(key)])
        except NoteError as error:
            raise UserError(f"{path}: {error}") from None
        return StopAt(leaves=checkpoint.size)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of {text!r} is not a checkpoint file, a leaf count or an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise UserError(f"--as-of {text!r} needs a time zone, like 2026-03-01T00:00:00Z")
    return StopAt(recorded_at=moment)


@contextmanager
def progress_bar(quiet: bool, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; silent with --json or when piped."""
    if quiet or not err.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description} {task.completed} events"), console=err) as bar:
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


@report_app.command("supervisor")
def report_supervisor(
    out_dir: Annotated[Path, typer.Option("--out", help="A new or empty directory for the report.")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The supervisor's report: self-contained HTML, with CSV and JSON of every table."""
    from ledger.audit.log import StoredCheckpoint
    from ledger.supervisor_report import gather, write_report

    with user_errors():
        if out_dir.exists() and any(out_dir.iterdir()):
            raise UserError(f"{out_dir} exists and is not empty: choose a new directory")
        sandbox = sandbox_for(home, database_url)
        with sandbox.open(auto_checkpoint=False) as ledger:
            checkpoint: StoredCheckpoint | None
            try:
                checkpoint = ledger.audit.checkpoint(sandbox.signer(), ledger.clock.now())
                key = sandbox.verifier_key()
            except SigningKeyError:
                checkpoint, key = ledger.audit.latest_checkpoint(), "(the signing key could not be read here)"
            page = write_report(out_dir, gather(ledger.read_model, ledger.audit.origin, checkpoint, key), checkpoint)
    out.print(f"Report written to {page}")


@app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="The seed: the same seed gives the same log.")],
    clients: Annotated[int, typer.Option(min=1, max=100_000, help="Simulated clients.")] = 40,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Ledger days to simulate.")] = 30,
    operations_per_day: Annotated[int, typer.Option(min=1, max=100_000, help="Commands a day.")] = 60,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Deterministic synthetic traffic; run again, it continues from the sandbox's ledger time."""
    from ledger.simulate import SIM_START, SimulationConfig
    from ledger.simulate import simulate as run_simulation

    with user_errors():
        config = SimulationConfig(seed=seed, clients=clients, days=days, operations_per_day=operations_per_day)
        sandbox = sandbox_for(home, database_url)
        if not sandbox.home.is_initialised():
            raise UserError(f"{home} is not initialised: run 'ledger init' first")
        with sandbox.open(clock=ManualClock(SIM_START), ledger_clock=ManualClock(SIM_START)) as ledger:
            with progress_days(as_json, days) as advance:
                summary = run_simulation(ledger, config, advance)
            position = ledger.state.position
    report: dict[str, Any] = {
        "seed": seed,
        "first_day": str(summary.first_day),
        "last_day": str(summary.last_day),
        "commands": summary.commands,
        "accepted": dict(sorted(summary.accepted.items())),
        "rejected": dict(sorted(summary.rejected.items())),
        "log_position": position,
    }
    if as_json:
        print(json.dumps(report, indent=2))
        return
    out.print(
        f"Simulated {report['first_day']} to {report['last_day']}: {summary.commands} commands, log at {position}"
    )
    out.print("accepted: " + ", ".join(f"{k} {v}" for k, v in report["accepted"].items()), soft_wrap=True)
    out.print("rejected: " + ", ".join(f"{k} {v}" for k, v in report["rejected"].items()), soft_wrap=True)


@contextmanager
def progress_days(quiet: bool, days: int) -> Iterator[Any]:
    if quiet or not err.is_terminal:
        yield None
        return
    from rich.progress import Progress

    with Progress(console=err) as bar:
        task = bar.add_task("simulating days", total=days)
        yield lambda n: bar.advance(task, n)


sandbox_app = typer.Typer(help="Start a sandbox over, or fork it to try things on a copy.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("reset")
def sandbox_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Yes, delete every event of this sandbox.")] = False,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Start over: an empty store, the bank established again; identity and keys kept."""
    with user_errors():
        if not yes:
            raise UserError("a reset deletes every event of the sandbox: pass --yes to mean it")
        sandbox = sandbox_for(home, database_url)
        if not sandbox.home.is_initialised():
            raise UserError(f"{home} is not initialised: nothing to reset")
        sandbox.reset()
    out.print(f"Reset {home}: the bank is established again, with the same identity and keys")


@sandbox_app.command("fork")
def sandbox_fork(
    name: Annotated[Path, typer.Argument(help="The new sandbox's directory (a sibling name or a path).")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Copy the sandbox, store and keys included, to try something without touching it."""
    with user_errors():
        target = name if name.is_absolute() or len(name.parts) > 1 else home.parent / name
        forked = sandbox_for(home, database_url).fork(target)
    out.print(f"Forked {home} into {forked.home.root}")


scenario_app = typer.Typer(help="Scripted scenarios with expected outcomes.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("run")
def scenario_run(
    files: Annotated[list[Path], typer.Argument(help="Scenario files (YAML), or folders of them.")],
    as_json: JsonOption = False,
) -> None:
    """Run scenarios in fresh scratch sandboxes; exit 1 if any step's outcome differs.

    A folder runs every *.yaml in it but those starting with '_' (shared setups to include)."""
    from ledger.scenario import ScenarioError, StepResult
    from ledger.scenario import run as run_scenario

    report: dict[str, list[dict[str, Any]]] = {}
    failed = 0

    def show(path: Path) -> Callable[[StepResult], None]:
        def line(result: StepResult) -> None:
            if as_json:
                return
            mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
            out.print(f"  {mark} {path}:{result.line} {result.name}", highlight=False, soft_wrap=True)
            for problem in result.problems:
                out.print(f"       {problem}", highlight=False, soft_wrap=True)

        return line

    with user_errors():
        paths = [p for f in files for p in (sorted(f.glob("[!_]*.yaml")) if f.is_dir() else [f])]
        if not paths:
            raise UserError("no scenario files found")
        for path in paths:
            if not as_json:
                out.print(f"[bold]{path}[/]")
            try:
                results = run_scenario(path, on_step=show(path))
            except ScenarioError as error:
                raise UserError(str(error)) from None
            failed += sum(not r.passed for r in results)
            report[str(path)] = [vars(r) for r in results]
    if as_json:
        print(json.dumps({"failed": failed, "scenarios": report}, indent=2))
    else:
        steps = sum(len(r) for r in report.values())
        out.print(f"{steps - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
