"""What every command shares: the app, the consoles and options, input parsing, and one table of failures.

Exit statuses a script can act on: 0 done; 1 a command refused by a business
rule (a result, not an error) or a verification that failed; 2 a user error
(one line naming what was wrong and where; nothing written); 75 a temporary
failure (a lock not granted in time, the database unavailable: retry); 70 an
internal error (one line; the traceback goes to a file the line names).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from domain.errors import BatchRejected, LedgerError
from ledger.api.keys import ApiKeyError
from ledger.audit.guard import SigningRefused
from ledger.audit.store_check import RecordMismatch
from ledger.home import SigningKeyError
from ledger.sandbox import Sandbox, SandboxError
from ledger.serving import StoreServed
from ledger.store.ports import StoreConfigError, UnreadableEvent
from ledger.store.schema import StoreNotReady
from ledger.views import InvalidQuery

if TYPE_CHECKING:
    from domain.commands import BaseCommand
    from ledger.progress import ProgressStart

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.


EXIT_DONE = 0
EXIT_RULE_REJECTED = 1  # also: a verification failed
EXIT_USER_ERROR = 2
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE
EXIT_TEMPORARY = 75  # sysexits.h EX_TEMPFAIL
CRASH_DIR_ENV = "LEDGER_CRASH_DIR"
INPUT_LINE_LENGTH_MAX = 64 * 1024

app = typer.Typer(
    help="An event-sourced ledger for a simulated crypto bank.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _flags_show_no_type() -> None:
    """Typer 0.29's rich help asks every option for its type, a flag's too, and
    shows `--json <bool>`: a flag takes no value, so it shows none (as plain
    click help does). Options with a value keep theirs (`--home <path>`)."""
    from typer.core import TyperOption

    typed = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and not self.count else typed(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_show_no_type()


def _print_version(asked: bool) -> None:
    if asked:
        from ledger import __version__

        print(f"ledger {__version__}")
        raise typer.Exit


@app.callback()
def _options(
    version: Annotated[  # noqa: ARG001 (its eager callback prints it)
        bool, typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True)
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="Log to standard error: -v what happens, -vv details too (default: warnings only; "
            "or LEDGER_LOG_LEVEL=debug|info|warning|error).",
        ),
    ] = 0,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            envvar="LEDGER_LOG_FORMAT",
            metavar="text|json",
            help="Log records as text, or as one JSON object a line (time, level, logger, message, fields).",
            show_default="text",
        ),
    ] = None,
) -> None:
    """An event-sourced ledger for a simulated crypto bank."""
    from ledger.logs import LogSettingError, configure, format_named, level_for

    try:
        configure(level_for(verbose), format_named(log_format))
    except LogSettingError as error:
        fail(str(error))


_VERBOSE = re.compile(r"-v+|--verbose")


def log_options_first(args: list[str]) -> list[str]:
    """`ledger replay -v` as `ledger -v replay`: the log options belong to the
    root command, but a user adds them where the command line ends (as uv
    takes its global options anywhere); nothing after `--` is moved."""
    moved: list[str] = []
    kept: list[str] = []
    position = 0
    while position < len(args):
        arg = args[position]
        if arg == "--":
            kept.extend(args[position:])
            break
        if _VERBOSE.fullmatch(arg) or arg.startswith("--log-format="):
            moved.append(arg)
        elif arg == "--log-format" and position + 1 < len(args):
            moved.extend(args[position : position + 2])
            position += 1
        else:
            kept.append(arg)
        position += 1
    return moved + kept


NON_TERMINAL_WIDTH = 10_000  # output for a file or a program: never wrapped, tables as wide as their rows


def console(*, stderr: bool = False) -> Console:
    """A console that wraps for a person at a terminal and never for a file or a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    if _is_terminal(stream):
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=NON_TERMINAL_WIDTH, soft_wrap=True)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a stream replaced by a test, or closed
        return False


out = console()
err = console(stderr=True)

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


class _Output:
    """How this run speaks: as text for a person, or (--json) as JSON for a program,
    errors included. Set when --json is parsed, and by `main` before parsing, so that
    a mistake on the command line itself is JSON too."""

    json = False


OUTPUT = _Output()


def speak_json(asked: bool) -> bool:
    """The --json option's callback: from here on, errors are JSON on standard error."""
    if asked:
        OUTPUT.json = True
    return asked


JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Machine-readable output: one JSON document on stdout; an error is a JSON object on stderr.",
        callback=speak_json,
    ),
]
KeyOption = Annotated[str, typer.Option("--key", help="Your idempotency key for this command.")]

venues_app = typer.Typer(help="Trading venues: list, add, delist.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for people and for the supervisor.", no_args_is_help=True)
app.add_typer(venues_app, name="venues")
app.add_typer(report_app, name="report")


class UserError(Exception):
    """A mistake of the caller's, reported as one line."""


class Refused(UserError):
    """A submitted command refused outright by the domain: nothing written (exit 2)."""

    def __init__(self, message: str, refusal: dict[str, Any]) -> None:
        super().__init__(message)
        self.refusal = refusal


def refused(rejected: BatchRejected, message: str) -> UserError:
    """A command refused whole, nothing written: the line names its error's code;
    with --json the error object carries the refusal (`error.refused`)."""
    code = rejected.cause.code
    refusal = {"position": rejected.position, "key": rejected.key, "code": code, "message": rejected.cause.message}
    return Refused(f"{message} (code {code})", refusal)


# An error's `code` under --json, by exit status (a refusal, a mistake on the
# command line and an interruption have their own).
ERROR_CODES = {
    EXIT_RULE_REJECTED: "verification_failed",
    EXIT_USER_ERROR: "user_error",
    EXIT_INTERNAL: "internal_error",
    EXIT_TEMPORARY: "temporary",
}
_HINTS = {
    "temporary": "try the same command again",
    "internal_error": "a bug: report it with the crash log",
}


def fail(message: str, code: int = EXIT_USER_ERROR, *, kind: str | None = None, **details: Any) -> NoReturn:
    """One line on standard error (a JSON object with --json), and exit `code`."""
    from ledger.cli.hints import exact

    message = exact(message)  # a hint to run a command carries the options the user gave
    if OUTPUT.json:
        print_error(message, code, kind=kind, **details)
    else:
        err.print(f"[red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)  # a message may quote user text
    raise typer.Exit(code)


def print_error(message: str, code: int, *, kind: str | None = None, hint: str | None = None, **details: Any) -> None:
    """The error as one JSON object on standard error:
    {"error": {"code", "message", "hint", "exit_code", ...details}}."""
    kind = kind or ERROR_CODES.get(code, "error")
    hint = hint or _hint_in(message) or _HINTS.get(kind)
    error = {"code": kind, "message": message, "hint": hint, "exit_code": code, **details}
    sys.stderr.write(json.dumps({"error": error}) + "\n")
    sys.stderr.flush()


# What a message says to do, at its end: "... is not initialised: run 'ledger init' first".
_HINT = re.compile(r": ((?:run|pass|give|choose|name|add|drop|use|check) .+)$")


def _hint_in(message: str) -> str | None:
    found = _HINT.search(message)
    return found.group(1) if found else None


def emit(document: Any) -> None:
    """The one JSON document of a command's --json output, on stdout."""
    print(json.dumps(document, indent=2))


# Every failure a user or a file can cause, and its exit code (the driver's
# and the library's store errors are recognised in `describe_failure`, and
# exit as user errors); anything else is a bug and keeps its traceback. A rule's refusal of a command is not an
# error: it is a result, and exits with EXIT_RULE_REJECTED.
EXPECTED_ERRORS: dict[type[Exception], int] = {
    UserError: EXIT_USER_ERROR,
    SigningRefused: EXIT_RULE_REJECTED,  # the store is not what was signed: a verification failed
    RecordMismatch: EXIT_RULE_REJECTED,
    LedgerError: EXIT_USER_ERROR,
    SandboxError: EXIT_USER_ERROR,
    ApiKeyError: EXIT_USER_ERROR,
    StoreServed: EXIT_USER_ERROR,
    SigningKeyError: EXIT_USER_ERROR,
    StoreConfigError: EXIT_USER_ERROR,
    StoreNotReady: EXIT_USER_ERROR,
    UnreadableEvent: EXIT_USER_ERROR,
    InvalidQuery: EXIT_USER_ERROR,  # a bad filter, limit or cursor of a read (InvalidCursor among them)
    ValidationError: EXIT_USER_ERROR,
    sqlite3.Error: EXIT_USER_ERROR,
    OSError: EXIT_USER_ERROR,
}


@contextmanager
def user_errors() -> Iterator[None]:
    """Translates expected failures to one-line messages at the edge; a bug
    goes on to `internal_error`."""
    try:
        yield
    except Exception as error:
        message = describe_failure(error)
        if message is None:
            raise
        if isinstance(error, Refused):
            fail(message, exit_code_of(error), kind="refused", refused=error.refusal)
        fail(message, exit_code_of(error))


def exit_code_of(error: Exception) -> int:
    if is_temporary(error):
        return EXIT_TEMPORARY
    return next((code for kind, code in EXPECTED_ERRORS.items() if isinstance(error, kind)), EXIT_USER_ERROR)


def is_temporary(error: BaseException) -> bool:
    """A failure that the same command may not meet again: SQLite's lock not
    granted in time; PostgreSQL unreachable, restarting, out of connections,
    a lock or statement timeout, a serialisation failure or a deadlock (its
    OperationalError family); no pooled connection in time."""
    for cause in _causes(error):
        if isinstance(cause, sqlite3.OperationalError) and _SQLITE_BUSY in str(cause):
            return True
        package = type(cause).__module__.split(".")[0]
        if package == "psycopg_pool" or (package == "psycopg" and _is_operational(cause)):
            return True
    return False


_SQLITE_BUSY = "database is locked"


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    for _ in range(10):  # the library wraps the driver's error once or twice
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)


def _is_operational(error: BaseException) -> bool:
    import psycopg  # only reached with the PostgreSQL extra: the error came from it

    text = str(error)
    return isinstance(error, psycopg.OperationalError) and not any(cue in text for cue in _PERMANENT_CONNECT_FAILURES)


# Refusals at connect time that retrying will not change: a database or role
# that does not exist, a wrong password, a host the server does not admit.
_PERMANENT_CONNECT_FAILURES = (
    "does not exist",
    "authentication failed",
    "no pg_hba.conf entry",
    "permission denied",
    "does not support SSL",
)


def internal_error(error: BaseException) -> NoReturn:
    """A bug: one line on standard error, the traceback in a file of its own
    (mode 0600) that the line names, exit 70. An optional part that is not
    installed is no bug: one line names the extra to install, exit 2."""
    from ledger.extras import missing_extra_line

    if (missing := missing_extra_line(error)) is not None:
        err.print(f"[red]error:[/] {escape(missing)}", highlight=False, soft_wrap=True)
        raise SystemExit(EXIT_USER_ERROR)
    import tempfile
    import time
    import traceback

    folder = Path(os.environ.get(CRASH_DIR_ENV) or Path(tempfile.gettempdir()) / f"ledger-crashes-{os.getuid()}")
    crash_log: str | None = None
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"ledger {' '.join(sys.argv[1:])}\n")
            handle.write("".join(traceback.format_exception(error)))
        crash_log = str(path)
    except OSError:
        pass
    where = crash_log or "nowhere (it could not be written)"
    first = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
    what = f"{type(error).__name__}: {first}" if first else type(error).__name__
    line = f"internal error ({what}); this is a bug: the details are in {where}"
    if OUTPUT.json:
        print_error(line, EXIT_INTERNAL, crash_log=crash_log)
        raise SystemExit(EXIT_INTERNAL)
    err.print(f"[red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
    raise SystemExit(EXIT_INTERNAL)  # outside the command line's own handling: typer.Exit would not be caught


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
    return printable(prefix + "; ".join(problems))


def printable(text: str) -> str:
    """The text with every unprintable character escaped, so that input quoted
    in a message stays one line and sends nothing to the terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{text!r} is not an RFC 3339 time like 2026-01-16T09:00:00Z") from None
    if moment.tzinfo is None:
        raise UserError(f"{text!r} needs a time zone, like 2026-01-16T09:00:00Z")
    return moment


def describe_store(home: Path, database_url: str | None) -> dict[str, str]:
    """Where the events are, for --json: an SQLite file, or a PostgreSQL database
    (its password masked) and schema."""
    from ledger.store.ports import StoreLocation

    location = StoreLocation.parse(home=home, database_url=database_url)
    if location.postgres is not None:
        return {"kind": "postgresql", "database": location.postgres.safe, "schema": location.postgres.schema}
    return {"kind": "sqlite", "path": str(location.sqlite_path)}


def sandbox_for(home: Path, database_url: str | None) -> Sandbox:
    return Sandbox.at(home, database_url)


RuntimeRoleOption = Annotated[
    str | None,
    typer.Option(help="PostgreSQL: a role for the service that may append to history and keep its views, no more."),
]
OwnerRoleOption = Annotated[str | None, typer.Option(help="PostgreSQL: a role to own the schema and run migrations.")]


def submit_one(home: Path, database_url: str | None, command: BaseCommand, as_json: bool) -> None:
    """Submits one command and reports it; a rule rejection exits with status 1."""
    with user_errors(), sandbox_for(home, database_url).open() as ledger:
        try:
            (result,) = ledger.submit([command])
        except BatchRejected as rejected:
            raise refused(rejected, str(rejected.cause)) from None
    if as_json:
        emit(result.to_json())
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


def progress_bar(quiet: bool, label: str, *, total: int | None = None, unit: str | None = None) -> Any:
    """`ledger.progress.progress`: a bar with its total, rate and time left on
    a terminal; silent with --json (`quiet`) or when stderr is not a terminal."""
    return progress_start(quiet)(label, total=total, unit=unit)


def progress_start(quiet: bool) -> ProgressStart:
    """What a command gives the library to report its progress with (`ledger.progress`)."""
    from ledger.progress import no_progress, progress

    return no_progress if quiet else progress


def run_command_line(arguments: list[str]) -> Any:
    """The app; with --json on the command line, a mistake in the command line itself
    (an unknown option, a bad or missing value) is a JSON error too, with click's exit code."""
    if "--json" not in arguments[: arguments.index("--") if "--" in arguments else None]:
        return app(args=arguments)
    OUTPUT.json = True
    try:
        status = app(args=arguments, standalone_mode=False)
    except typer.TyperException as error:  # click's own: a usage error, a file it could not open
        _usage_failed(error)
    except typer.Abort:
        print_error("interrupted", 1, kind="interrupted")
        raise SystemExit(1) from None
    raise SystemExit(status if isinstance(status, int) else EXIT_DONE)


def _usage_failed(error: Exception) -> NoReturn:
    context = getattr(error, "ctx", None)
    path = context.command_path if context is not None else "ledger"
    missing = type(error).__name__ == "NoArgsIsHelpError"  # a group without its command: the help, as text
    message = f"{path}: a command is needed" if missing else printable(getattr(error, "format_message", str)())
    code = int(getattr(error, "exit_code", EXIT_USER_ERROR))
    print_error(message, code, kind="usage", hint=f"see '{path} --help'")
    raise SystemExit(code)
