"""A hint names the exact command to run, with the options the user gave, so that it runs as printed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

HINT = re.compile(r"run (['\"])(?P<command>ledger .*?)\1")


def ledger(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        capture_output=True, text=True, env=environment, cwd=cwd, timeout=120, check=False,
    )  # fmt: skip


def hinted(stderr: str) -> str:
    """The command a one-line error says to run."""
    (line,) = stderr.strip().splitlines()
    found = HINT.search(line)
    assert found is not None, line
    return found["command"]


def run_as_printed(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    (program, *args) = shlex.split(command)
    assert program == "ledger"
    return ledger(*args, "--sandbox-key", cwd=cwd) if args[0] == "init" else ledger(*args, cwd=cwd)


def test_a_missing_home_given_by_option_hints_init_with_that_home_and_the_hint_works(tmp_path: Path) -> None:
    home = tmp_path / "my bank"
    result = ledger("balances", "--home", str(home))
    assert result.returncode == 2
    assert hinted(result.stderr) == f"ledger init --home {shlex.quote(str(home))}"
    assert f"run \"ledger init --home '{home}'\" first" in result.stderr  # a quoted value inside: other quotes
    assert run_as_printed(hinted(result.stderr), tmp_path).returncode == 0
    assert ledger("balances", "--home", str(home)).returncode == 0
    assert not (tmp_path / "ledger-sandbox").exists()


def test_a_home_from_the_environment_is_named_and_the_default_home_is_not(tmp_path: Path) -> None:
    from_env = ledger("transactions", env={"LEDGER_HOME": str(tmp_path / "x")})
    assert hinted(from_env.stderr) == f"ledger init --home {tmp_path / 'x'}"
    default = ledger("balances", cwd=tmp_path)
    assert hinted(default.stderr) == "ledger init"
    assert "run 'ledger init' first" in default.stderr


def test_every_hint_to_init_reads_the_same_whatever_command_met_the_missing_home(tmp_path: Path) -> None:
    home = str(tmp_path / "h")
    commands = [
        ["balances"], ["audit", "export", str(tmp_path / "b")], ["simulate", "--seed", "1"], ["clients"],
        ["report", "supervisor", "--out", str(tmp_path / "r")], ["audit", "witness", "submit"],
    ]  # fmt: skip
    for command in commands:
        result = ledger(*command, "--home", home)
        assert result.returncode == 2, command
        assert result.stderr.strip().endswith(f"run 'ledger init --home {home}' first"), (command, result.stderr)


def test_a_hint_to_another_command_carries_the_home_too(tmp_path: Path) -> None:
    home = tmp_path / "h"
    assert ledger("init", "--home", str(home), "--sandbox-key").returncode == 0
    revoked = ledger("api-key", "revoke", "nope", "--home", str(home))
    assert revoked.returncode == 2
    assert f"(see 'ledger api-key list --home {home}')" in revoked.stderr
    assert ledger(*shlex.split(re.search(r"see '(ledger .*?)'", revoked.stderr)[1])[1:]).returncode == 0  # type: ignore[index]
    witnessless = ledger("audit", "witness", "submit", "--home", str(home))
    assert f"run 'ledger audit witness add URL KEY --home {home}'" in witnessless.stderr


def test_a_hint_names_the_database_url_given_and_never_its_password(postgres_url: str, tmp_path: Path) -> None:
    home = str(tmp_path / "h")
    result = ledger("balances", "--home", home, "--database-url", postgres_url)
    assert result.returncode == 2
    assert hinted(result.stderr) == f"ledger init --home {home} --database-url {shlex.quote(postgres_url)}"
    assert run_as_printed(hinted(result.stderr), tmp_path).returncode == 0
    assert ledger("balances", "--home", home, "--database-url", postgres_url).returncode == 0
    secret = postgres_url.replace("postgres@", "postgres:hunter2@", 1).replace("schema=", "schema=other_", 1)
    refused = ledger("balances", "--home", home, "--database-url", secret)
    assert "hunter2" not in refused.stderr
    assert hinted(refused.stderr) == f"ledger init --home {home} --database-url URL"
    from_env = ledger("balances", "--home", home, env={"LEDGER_DATABASE_URL": secret})
    assert hinted(from_env.stderr) == f"ledger init --home {home}"  # the environment's URL is inherited
