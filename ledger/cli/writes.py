"""Commands that write: submit, venues add and delist, trade, demo, simulate, scenarios."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from domain.errors import BatchRejected
from domain.parties import VenueKind
from ledger.clock import ManualClock
from ledger.home import BATCH_SIZE_MAX, DEFAULT_HOME
from ledger.input import InputError, decode_line, read_json, split_lines

if TYPE_CHECKING:
    from domain.commands import BaseCommand

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.

from ledger.cli.edges import (
    INPUT_LINE_LENGTH_MAX,
    DatabaseUrlOption,
    HomeOption,
    JsonOption,
    KeyOption,
    UserError,
    app,
    emit,
    out,
    printable,
    progress_bar,
    refused,
    sandbox_for,
    submit_one,
    user_errors,
    venues_app,
)


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
                raise refused(rejected, f"{source}:{line}: {rejected.message}") from None
    if as_json:
        print(json.dumps([result.to_json() for result in results], indent=2))
        return
    for result in results:
        status = "[green]accepted[/]" if result.accepted else f"[red]rejected[/] {result.rule}: {result.reason}"
        again = " (repeat)" if result.repeated else ""
        out.print(f"{result.key}: {status}{again}")


# A batch holds at most BATCH_SIZE_MAX commands of at most INPUT_LINE_LENGTH_MAX
# bytes each; a file larger than this is refused before it is read whole.
BATCH_FILE_BYTES_MAX = 256 * 1024 * 1024


def read_lines(source: str) -> list[tuple[int, bytes]]:
    """The numbered lines of a batch file or stdin ('-'), split on `\\n` only."""
    if source == "-":
        data = sys.stdin.buffer.read(BATCH_FILE_BYTES_MAX + 1)
    else:
        path = Path(source)
        if not path.exists():
            raise UserError(f"{source}: no such file")
        if not path.is_file():
            raise UserError(f"{source}: not a regular file")
        with path.open("rb") as file:
            data = file.read(BATCH_FILE_BYTES_MAX + 1)
    if len(data) > BATCH_FILE_BYTES_MAX:
        raise UserError(f"{source}: larger than {BATCH_FILE_BYTES_MAX} bytes")
    return split_lines(data)


def command_adapter() -> Any:
    from domain.commands import COMMAND_ADAPTER

    return COMMAND_ADAPTER


def parse_command(document: Any, where: str) -> BaseCommand:
    """One command from its JSON; a mistyped type or field is named with the likely intended one."""
    from ledger.mistakes import (
        ALL_COMMANDS_HINT,
        COMMAND_CLASSES,
        command_problem,
        first_mistakes,
        unknown_command_type,
    )

    if isinstance(document, dict) and "type" not in document:
        raise UserError(f'{where}: a command names its type, like {{"type": "deposit", ...}} {ALL_COMMANDS_HINT}')
    kind = document.get("type") if isinstance(document, dict) else None
    if kind is not None and not (isinstance(kind, str) and kind in COMMAND_CLASSES):
        raise UserError(printable(f"{where}: {unknown_command_type(kind)}"))
    try:
        command: BaseCommand = command_adapter().validate_python(document)
    except ValidationError as error:
        raise UserError(printable(f"{where}: " + "; ".join(map(command_problem, first_mistakes(error))))) from None
    return command


def parse_commands(source: str, lines: list[tuple[int, bytes]]) -> list[tuple[int, BaseCommand]]:
    commands: list[tuple[int, BaseCommand]] = []
    for number, raw in lines:
        where = f"{source}:{number}"
        if len(raw) > INPUT_LINE_LENGTH_MAX:
            raise UserError(f"{where}: line longer than {INPUT_LINE_LENGTH_MAX} bytes")
        try:
            line = decode_line(raw)
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            commands.append((number, parse_command(read_json(line), where)))
        except InputError as error:
            field = error.where()
            raise UserError(f"{where}: {field + ': ' if field else ''}{error.message}") from None
        if len(commands) > BATCH_SIZE_MAX:
            raise UserError(f"{where}: a batch holds at most {BATCH_SIZE_MAX} commands")
    if not commands:
        raise UserError(f"{source}: no commands found")
    return commands


@app.command()
def demo(
    home: HomeOption = Path("demo-sandbox"), database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """The main job: a full scenario end to end, then export and verify the audit bundle."""
    from ledger.demo import Invocation, run_demo

    with user_errors():
        sandbox = sandbox_for(home, database_url)
        if not as_json:
            run_demo(sandbox, out, Invocation.current(home, database_url))
            return
        from rich.console import Console

        run_demo(sandbox, Console(file=io.StringIO()))  # the story is for a person; a script gets its outcome
        emit(demo_outcome(sandbox, home, database_url))


def demo_outcome(sandbox: Any, home: Path, database_url: str | None) -> dict[str, Any]:
    """What a script needs after the demo: where it is, its bundle and key, its counts, what to run next."""
    from ledger.demo import Invocation, next_commands
    from ledger.reports import compliance

    key = sandbox.verifier_key()
    bundle = max(home.glob("audit-bundle-*"), key=lambda path: int(path.name.rsplit("-", 1)[1]))  # the demo's last
    with sandbox.open_reader() as reader:
        counts = {
            "events": reader.position(),
            "recorded_rejections": compliance(reader)["total"],
            "accounts_with_balances": len(reader.balances()),
        }
    commands = next_commands(Invocation.current(home, database_url), bundle, key)
    return {
        "home": str(home),
        "bundle": str(bundle),
        "tree_size": int(bundle.name.rsplit("-", 1)[1]),
        "verifier_key": key,
        "counts": counts,
        "next_commands": [command for command, _ in commands],
    }


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
            with progress_bar(as_json, "simulating days", total=days) as advance:
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


scenario_app = typer.Typer(help="Scripted scenarios with expected outcomes.", no_args_is_help=True)
app.add_typer(scenario_app, name="scenario")


def shipped_names(incomplete: str) -> list[str]:
    """Shell completion: the shipped scenarios whose name starts with what was typed."""
    from ledger.scenario import shipped

    return [name for name in shipped() if name.startswith(incomplete)]


@scenario_app.command("run")
def scenario_run(
    files: Annotated[
        list[str],
        typer.Argument(
            help="Scenario files (YAML), folders of them, or shipped scenarios' names ('ledger scenario list').",
            autocompletion=shipped_names,
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Run scenarios in fresh scratch sandboxes; exit 1 if any step's outcome differs.

    A folder runs every *.yaml in it but those starting with '_' (shared setups to include);
    a name like domestic_trading runs the shipped scenario ('ledger scenario list'), unless a path has that name."""
    from ledger.scenario import ScenarioError, StepResult, scenario_files
    from ledger.scenario import run as run_scenario

    report: dict[str, list[dict[str, Any]]] = {}
    failed = 0

    def show(path: Path) -> Callable[[StepResult], None]:
        def line(result: StepResult) -> None:
            if as_json:
                return
            mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
            # The step's name and problems are the file's text: never markup, never control characters.
            shown = escape(printable(f"{path}:{result.line} {result.name}"))
            out.print(f"  {mark} {shown}", highlight=False, soft_wrap=True)
            for problem in result.problems:
                out.print(f"       {escape(printable(problem))}", highlight=False, soft_wrap=True)

        return line

    with user_errors():
        try:
            paths = [path for argument in files for path in scenario_files(argument)]
        except ScenarioError as error:
            raise UserError(printable(str(error))) from None
        if not paths:
            raise UserError("no scenario files found")
        for path in paths:
            if not as_json:
                out.print(f"[bold]{escape(printable(str(path)))}[/]")
            try:
                results = run_scenario(path, on_step=show(path))
            except ScenarioError as error:
                raise UserError(printable(str(error))) from None
            failed += sum(not r.passed for r in results)
            report[str(path)] = [vars(r) for r in results]
    if as_json:
        print(json.dumps({"failed": failed, "scenarios": report}, indent=2))
    else:
        steps = sum(len(r) for r in report.values())
        out.print(f"{steps - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)
