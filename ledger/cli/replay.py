"""`ledger replay`: every view rebuilt from the log, or from a verified bundle, in a fresh store."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.home import DEFAULT_HOME
from ledger.sandbox import Sandbox
from ledger.store.schema import open_store

if TYPE_CHECKING:
    pass

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.

from ledger.cli.edges import (
    DatabaseUrlOption,
    HomeOption,
    JsonOption,
    UserError,
    app,
    out,
    progress_start,
    sandbox_for,
    user_errors,
)


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

    from ledger.replay import ReplayError
    from ledger.store.ports import StoreLocation
    from ledger.views import view_digests

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
            shown = progress_start(as_json)  # started by the replay with its total: the events
            if bundle is not None:
                count, findings = _replay_bundle(bundle, str(key), as_of, target, shown)
            else:
                count, findings = _replay_store(sandbox_for(home, database_url), key, as_of, check, target, shown)
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
