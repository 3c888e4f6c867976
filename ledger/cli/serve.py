"""The HTTP service and its keys: serve, api-key create|list|revoke."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from ledger.cli.edges import (
    DatabaseUrlOption,
    HomeOption,
    JsonOption,
    UserError,
    app,
    err,
    out,
    sandbox_for,
    user_errors,
)
from ledger.home import DEFAULT_HOME

_log = logging.getLogger(__name__)

api_key_app = typer.Typer(help="Bearer keys for the HTTP service: create, list, revoke.", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key")


@app.command()
def serve(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, envvar="LEDGER_PORT", help="Port (0: any free one, printed).")
    ] = 8080,
    no_coalescing: Annotated[
        bool, typer.Option("--no-coalescing", help="One transaction per request (for comparison only).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No line per request on standard error.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run the HTTP sandbox service (OpenAPI at /openapi.json, docs at /docs) until interrupted."""
    from ledger.api.app import ServiceConfig
    from ledger.api.server import serve as run

    config = ServiceConfig(home=home, database_url=database_url, coalesce=not no_coalescing, access_log=not quiet)

    from ledger.logs import in_json

    def announce(url: str) -> None:
        if as_json:  # one JSON line when listening: a script reads the URL from it
            print(json.dumps({"listening": url, "docs": f"{url}/docs", "openapi": f"{url}/openapi.json"}), flush=True)
        else:
            print(f"serving {database_url or home} on {url} (docs: {url}/docs); Ctrl-C stops", flush=True)
        if host not in ("127.0.0.1", "::1", "localhost"):
            warning = (
                f"listening on {host}, beyond this machine, in plain HTTP: "
                "put TLS in front of it (a reverse proxy) before keys travel over a network"
            )
            if in_json():
                _log.warning(warning, extra={"host": host})
            else:
                err.print(f"[yellow]warning:[/] {warning}", highlight=False)

    with user_errors():
        try:
            run(config, host=host, port=port, announce=announce)
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    if in_json():  # every line on stderr a record
        _log.info("stopped")
    elif not as_json:
        print("stopped", file=sys.stderr)


@api_key_app.command("create")
def api_key_create(
    role: Annotated[str, typer.Option(help="operator (submits and reads), viewer (reads), supervisor (audits).")],
    label: Annotated[str, typer.Option(help="Whose key, or what for.")] = "",
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make a key; it is printed once and stored only as its hash."""
    from ledger.api.keys import Role, create_key

    with user_errors():
        if role not in {r.value for r in Role}:
            raise UserError(f"--role must be one of {', '.join(r.value for r in Role)}, not {role!r}")
        with sandbox_for(home, database_url).open_reader() as reader:
            key, text = create_key(reader.backend, Role(role), label=label, now=datetime.now(UTC))
    if as_json:
        print(json.dumps({**key.to_json(), "key": text}, indent=2))
        return
    out.print(f"API key {key.key_id} ({key.role.value}); it is shown only now:")
    print(text)


@api_key_app.command("list")
def api_key_list(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """The keys, their roles and whether they are revoked (never the keys themselves)."""
    from ledger.api.keys import list_keys

    with user_errors(), sandbox_for(home, database_url).open_reader() as reader:
        keys = list_keys(reader.backend)
    if as_json:
        print(json.dumps([key.to_json() for key in keys], indent=2))
        return
    table = Table()
    for column in ("Key id", "Role", "Label", "Created", "Revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(key.key_id, key.role.value, key.label, key.created_at, key.revoked_at or "")
    out.print(table)


@api_key_app.command("revoke")
def api_key_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id, as 'ledger api-key list' shows it.")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key: servers refuse it within two seconds."""
    from ledger.api.keys import revoke_key

    with user_errors(), sandbox_for(home, database_url).open_reader() as reader:
        key = revoke_key(reader.backend, key_id, now=datetime.now(UTC))
    if as_json:
        print(json.dumps(key.to_json(), indent=2))
        return
    out.print(f"API key {key.key_id} ({key.role.value}) is revoked")
