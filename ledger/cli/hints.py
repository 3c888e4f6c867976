"""Hints that name the exact command to run, with the options the user gave.

The layers below the command line name the command a user should run next in
one style, `run 'ledger init' first`, without knowing how the store was named.
At the edge, the command being run knows: a hint for a command that takes
`--home` (or `--database-url`, `--witness-home`) gets the value the user gave
it, so that it can be run as it is printed: `run 'ledger init --home ./x' first`.
"""

from __future__ import annotations

import re
import shlex
from typing import Any
from urllib.parse import urlparse

# A command to run ("run 'ledger init' first", "see 'ledger api-key list'"): 'ledger'
# and its subcommand's words, then any placeholders (URL KEY) the user fills in. A
# command named for another reason ("a 'ledger serve' is serving ...") is left as it is.
HINT = re.compile(r"(?:(?<=run )|(?<=see ))'ledger(?P<words>(?: [a-z][a-z-]*)+)(?P<placeholders>(?: [A-Z][A-Z_]*)*)'")
# The options that name where things are, in the order they are added.
WHERE_OPTIONS = ("home", "database_url", "witness_home")
URL_PLACEHOLDER = "URL"  # for a database URL that holds a password
GIVEN = ("COMMANDLINE", "ENVIRONMENT")  # the names of click's ParameterSource values


def exact(message: str) -> str:
    """The message with each of its hints carrying the options the user gave
    this command, where the hinted command takes them; as it was outside a command."""
    context = _current_context()
    if context is None:
        return message
    return HINT.sub(lambda found: _with_options(found, context), message)


def _current_context() -> Any:
    """The command's click context: Typer's own copy of click since 0.2x, click before it."""
    try:
        from typer._click.globals import get_current_context  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        from click import get_current_context  # type: ignore[import-not-found,no-redef,unused-ignore]
    return get_current_context(silent=True)


def _with_options(found: re.Match[str], context: Any) -> str:
    words = found["words"].split()
    hinted = _command(context, words)
    if hinted is None:
        return found[0]
    taken = {param.name: param for param in hinted.params if param.param_type_name == "option"}
    options: list[str] = []
    for name in WHERE_OPTIONS:
        if name in taken and (value := _given(context, name)) is not None:
            options += [taken[name].opts[0], value]
        elif name == "database_url" and name in taken and _secret_url_given(context):
            options += [taken[name].opts[0], URL_PLACEHOLDER]
    command = f"ledger {' '.join(words)}{found['placeholders']}{''.join(' ' + shlex.quote(o) for o in options)}"
    return f'"{command}"' if "'" in command else f"'{command}'"  # a quoted value inside stays readable


def _command(context: Any, words: list[str]) -> Any:
    command = context.find_root().command
    for word in words:
        if not hasattr(command, "get_command"):  # not a group: no such subcommand
            return None
        command = command.get_command(context, word)
    return command


def _given(context: Any, name: str) -> str | None:
    """The value of option `name` if the user gave it (on the command line, or
    in the environment; a database URL from the environment is inherited, and
    one with a password is not repeated)."""
    if context.params.get(name) is None:
        return None
    source = getattr(context.get_parameter_source(name), "name", None)
    value = str(context.params[name])
    if name == "database_url":
        return value if source == "COMMANDLINE" and not _has_password(value) else None
    return value if source in GIVEN else None


def _secret_url_given(context: Any) -> bool:
    """A database URL with a password, given on the command line: the hint names it
    by a placeholder, not repeating the password, nor leaving it out (the command
    would then make a SQLite store)."""
    value = context.params.get("database_url")
    source = getattr(context.get_parameter_source("database_url"), "name", None)
    return value is not None and source == "COMMANDLINE" and _has_password(str(value))


def _has_password(url: str) -> bool:
    try:
        return "password=" in url or bool(urlparse(url).password)
    except ValueError:  # not a URL urllib can split: better safe
        return True
