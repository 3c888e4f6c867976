"""Commands that make and keep a store: init, migrate, snapshot, sandbox reset and fork."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.clock import ManualClock
from ledger.home import DEFAULT_HOME, BankIdentity
from ledger.sandbox import DEFAULT_IDENTITY, DEFAULT_TIME_ZONE

if TYPE_CHECKING:
    pass

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.

from ledger.cli.edges import (
    DatabaseUrlOption,
    HomeOption,
    JsonOption,
    OwnerRoleOption,
    RuntimeRoleOption,
    UserError,
    app,
    describe_store,
    emit,
    out,
    parse_time,
    progress_start,
    sandbox_for,
    submit_one,
    user_errors,
)


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
    checkpoint_every_events: Annotated[
        int, typer.Option(help="Keep a signed checkpoint in the store every N new events.")
    ] = 1000,
    checkpoint_every_seconds: Annotated[int, typer.Option(help="... or every T seconds with new events.")] = 3600,
    sign_every_batch: Annotated[
        bool,
        typer.Option(
            help="Sign every write batch at once, as the signer's head beside its key "
            "(what it checks the store against)."
        ),
    ] = True,
    at: Annotated[
        str | None, typer.Option(help="Record the bank's establishment at this RFC 3339 time (reproducible sandboxes).")
    ] = None,
    time_zone: Annotated[
        str, typer.Option(help="The bank's IANA time zone: its calendar days are the ledger's days.")
    ] = DEFAULT_TIME_ZONE,
    runtime_role: RuntimeRoleOption = None,
    owner_role: OwnerRoleOption = None,
    as_json: JsonOption = False,
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
            sign_every_batch=sign_every_batch,
        )
        sandbox = sandbox_for(home, database_url)
        if (runtime_role or owner_role) and not (database_url or "").startswith(("postgres://", "postgresql://")):
            raise UserError("--runtime-role and --owner-role are for a PostgreSQL store (--database-url)")
        key = sandbox.init(
            identity, allow_unencrypted_key=sandbox_key, clock=clock, ledger_clock=clock, time_zone=time_zone
        )
        if runtime_role is not None or owner_role is not None:
            sandbox.set_up_roles(runtime=runtime_role, owner=owner_role)
    if as_json:
        emit(
            {
                "home": str(home),
                "store": describe_store(home, database_url),
                "bank_name": identity.name,
                "origin": identity.origin,
                "time_zone": time_zone,
                "verifier_key": key,
                "key_file": str(sandbox.home.signing_key_path),
                "verifier_key_file": str(sandbox.home.verifier_key_path),
                "key_encrypted": not sandbox_key,
                "roles": {"runtime": runtime_role, "owner": owner_role},
            }
        )
        return
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
    as_json: JsonOption = False,
) -> None:
    """Upgrade the store's schema (and PostgreSQL roles) to this release's; with init, the only DDL."""
    from ledger.store.schema import SCHEMA_VERSION

    with user_errors():
        sandbox = sandbox_for(home, database_url)
        if print_sql:
            if runtime_role is None and owner_role is None:
                raise UserError("--print-sql prints the roles' SQL: name --runtime-role and/or --owner-role")
            statements = sandbox.set_up_roles(runtime=runtime_role, owner=owner_role, execute=False)
            if as_json:
                roles = {"runtime": runtime_role, "owner": owner_role}
                sql = [f"{statement};" for statement in statements]
                emit({"schema_version": SCHEMA_VERSION, "migrated_through": [], "roles": roles, "statements": sql})
                return
            for statement in statements:
                print(f"{statement};")
            return
        reached = sandbox.migrate(progress=progress_start(quiet=as_json))  # on a terminal only
        run: list[str] = []
        if runtime_role is not None or owner_role is not None:
            run = sandbox.set_up_roles(runtime=runtime_role, owner=owner_role)
    if as_json:
        roles = {"runtime": runtime_role, "owner": owner_role}
        sql = [f"{statement};" for statement in run]
        emit({"schema_version": SCHEMA_VERSION, "migrated_through": reached, "roles": roles, "statements": sql})
        return
    if reached:
        out.print(f"Migrated to schema version {SCHEMA_VERSION} (through {', '.join(map(str, reached))})")
    else:
        out.print(f"The store is at schema version {SCHEMA_VERSION} already: nothing to do")
    for kind, role in (("runtime", runtime_role), ("owner", owner_role)):
        if role is not None:
            out.print(f"The {kind} role {role} is set up (give it a password with ALTER ROLE, or trust it locally)")


@app.command()
def snapshot(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Snapshot the decision state now, so that writers open from it (they take one every 10k events too)."""
    with user_errors(), sandbox_for(home, database_url).open(auto_checkpoint=False) as ledger:
        position = ledger.snapshot()
    if as_json:
        emit({"position": position})
        return
    out.print(f"Snapshot of the decision state at log position {position}")


sandbox_app = typer.Typer(help="Start a sandbox over, or fork it to try things on a copy.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("reset")
def sandbox_reset(
    yes: Annotated[bool, typer.Option("--yes", help="Yes, delete every event of this sandbox.")] = False,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start over: an empty store, the bank established again; identity and keys kept."""
    with user_errors():
        if not yes:
            raise UserError("a reset deletes every event of the sandbox: pass --yes to mean it")
        sandbox = sandbox_for(home, database_url)
        if not sandbox.home.is_initialised():
            raise UserError(f"{home} is not initialised: nothing to reset")
        sandbox.reset()
    if as_json:
        emit({"home": str(home), "store": describe_store(home, database_url), "verifier_key": sandbox.verifier_key()})
        return
    out.print(f"Reset {home}: the bank is established again, with the same identity and keys")


@sandbox_app.command("fork")
def sandbox_fork(
    name: Annotated[Path, typer.Argument(help="The new sandbox's directory (a sibling name or a path).")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Copy the sandbox, store and keys included, to try something without touching it."""
    with user_errors():
        target = name if name.is_absolute() or len(name.parts) > 1 else home.parent / name
        forked = sandbox_for(home, database_url).fork(target)
    if as_json:
        store = describe_store(forked.home.root, forked.database_url)
        emit({"home": str(forked.home.root), "forked_from": str(home), "store": store})
        return
    out.print(f"Forked {home} into {forked.home.root}")


_CLOCK_STEP = re.compile(r"^(?P<count>[0-9]+)(?P<unit>[smhd])$")
_CLOCK_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@sandbox_app.command("clock")
def sandbox_clock(
    freeze: Annotated[str | None, typer.Option(help="Freeze the clock at this RFC 3339 time.")] = None,
    advance: Annotated[str | None, typer.Option(help="Move it on: 90s, 15m, 6h or 31d.")] = None,
    release: Annotated[bool, typer.Option("--release", help="Let it run with real time again.")] = False,
    key: Annotated[str | None, typer.Option(help="The command's idempotency key (default: a new one).")] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The sandbox's test clock (recorded as an event): commands without a ledger_time happen at its time."""
    from domain.commands import SetSandboxClock

    with user_errors():
        if sum((freeze is not None, advance is not None, release)) != 1:
            raise UserError("give exactly one of --freeze TIME, --advance STEP or --release")
        step = _CLOCK_STEP.match(advance or "") if advance is not None else None
        if advance is not None and step is None:
            raise UserError(f"--advance takes a step like 90s, 15m, 6h or 31d, not {advance!r}")
        command = SetSandboxClock(
            key=key or f"clock:{uuid.uuid4()}",
            frozen_at=parse_time(freeze) if freeze else None,
            advance_seconds=int(step["count"]) * _CLOCK_UNITS[step["unit"]] if step else None,
            release=release,
        )
    submit_one(home, database_url, command, as_json)
