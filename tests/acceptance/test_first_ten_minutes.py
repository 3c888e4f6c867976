"""A new user's first ten minutes: the demo's next commands run as printed, and a missing extra is one line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

VENV = Path(sys.executable).parent.parent  # the venv the tests run in, as `make demo` made it
BLOCKER = '''
import importlib.abc, os, sys

BLOCKED = set(os.environ["BLOCKED_MODULES"].split(","))


class Uninstalled(importlib.abc.MetaPathFinder):
    """The modules named in BLOCKED_MODULES, as if they were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Uninstalled())
'''
POSTGRES_MODULES = "psycopg,psycopg_pool"
SERVICE_MODULES = "fastapi,uvicorn,starlette,sse_starlette,fastapi_swagger,httpx"
POSTGRES_HINT = "install the PostgreSQL extra: pip install 'crypto-bank-ledger[postgres]'"
SERVICE_HINT = "install the HTTP service extra: pip install 'crypto-bank-ledger[service]'"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env.update(extra)
    return env


def project_root(tmp_path: Path) -> Path:
    """A folder laid out as the project root after `make demo`: its .venv beside the user."""
    root = tmp_path / "project"
    root.mkdir()
    (root / ".venv").symlink_to(VENV)
    return root


def run_in(root: Path, line: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """One command line, typed into a shell in `root`."""
    return subprocess.run(
        ["bash", "-c", line],
        cwd=root,
        capture_output=True,
        text=True,
        env=environment(**extra),
        timeout=180,
        check=False,
    )


def next_commands(demo_output: str) -> list[str]:
    """The commands the demo prints under 'Try next', as printed."""
    section = demo_output[demo_output.index("Try next") :].splitlines()[1:]
    return [line.strip() for line in section if line.startswith("  ") and not line.strip().startswith("(")]


def test_the_demo_ends_with_next_commands_that_run_exactly_as_printed_from_the_project_root(tmp_path: Path) -> None:
    root = project_root(tmp_path)
    demo = run_in(root, ".venv/bin/ledger demo --home demo-sandbox")  # what `make demo` runs
    assert demo.returncode == 0, demo.stderr
    commands = next_commands(demo.stdout)
    assert len(commands) == 5
    assert all(command.startswith(".venv/bin/ledger ") for command in commands)
    assert "source .venv/bin/activate" in demo.stdout
    serve = next(command for command in commands if " serve " in command)
    for command in commands:
        if command is serve:
            continue
        assert "--home demo-sandbox" in command or " audit verify demo-sandbox/" in command, command
        result = run_in(root, command)
        assert result.returncode == 0, f"{command}: {result.stderr}"
    assert (root / "demo-sandbox" / "report" / "index.html").exists()
    assert "--home demo-sandbox" in serve
    server = subprocess.Popen(
        ["bash", "-c", f"exec {serve}"], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment(LEDGER_PORT="0"),  # the printed command, on a free port instead of 8080
    )  # fmt: skip
    try:
        assert server.stdout is not None
        found = re.search(r"on (http://127\.0\.0\.1:\d+)", server.stdout.readline())
        assert found is not None, server.communicate(timeout=30)[1]
        with urllib.request.urlopen(f"{found.group(1)}/v1/health", timeout=30) as response:
            assert response.status == 200
            assert "writer" in json.load(response)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    assert server.returncode == 0


def test_the_demo_run_as_a_module_prints_next_commands_naming_the_interpreter(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ledger", "demo", "--home", "my demo"],
        cwd=tmp_path, capture_output=True, text=True, env=environment(), timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (balances, *_) = next_commands(result.stdout)
    assert balances.startswith(f"{sys.executable} -m ledger balances --home 'my demo'  # ")
    assert run_in(tmp_path, balances).returncode == 0


def without(tmp_path: Path, modules: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`ledger ARGS` in a subprocess where `modules` cannot be imported, as if their extra were not installed."""
    shim = tmp_path / "uninstalled"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(BLOCKER)
    path = os.pathsep.join([str(shim), *filter(None, [os.environ.get("PYTHONPATH")])])
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        cwd=cwd or tmp_path, capture_output=True, text=True, timeout=300, check=False,
        env=environment(PYTHONPATH=path, BLOCKED_MODULES=modules),
    )  # fmt: skip


def test_a_postgresql_url_without_the_postgresql_extra_is_one_line_naming_it(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test?schema=never_made"
    for args in (["balances"], ["init", "--sandbox-key"], ["migrate"]):
        result = without(tmp_path, POSTGRES_MODULES, *args, "--home", str(tmp_path / "home"), "--database-url", url)
        assert result.returncode == 2, args
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("error: ")
        assert line.endswith(POSTGRES_HINT), line
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "home").exists()  # nothing written


@pytest.mark.parametrize(
    "args",
    [["serve", "--port", "0"], ["audit", "witness", "serve", "--witness-home", "w", "--log-key", "k", "--port", "0"]],
)
def test_a_server_without_the_service_extra_is_one_line_naming_it(tmp_path: Path, args: list[str]) -> None:
    assert subprocess.run([sys.executable, "-m", "ledger", "init", "--sandbox-key", "--home", str(tmp_path / "home")],
                          capture_output=True, env=environment(), check=False).returncode == 0  # fmt: skip
    result = without(tmp_path, SERVICE_MODULES, *args, "--home", str(tmp_path / "home"))
    if args[0] == "audit":
        result = without(tmp_path, SERVICE_MODULES, *args)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line == f"error: fastapi is not installed: {SERVICE_HINT}" or line.endswith(SERVICE_HINT), line


def test_the_bench_without_the_extras_measures_sqlite_and_says_why_it_skipped_the_rest(tmp_path: Path) -> None:
    result = without(tmp_path, f"{POSTGRES_MODULES},{SERVICE_MODULES}", "bench", "--json", "--only", "write",
                     "--events", "300")  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    assert figures["write.sqlite"]["value"] > 0
    assert figures["write.postgres"]["value"] is None
    assert figures["write.postgres"]["unavailable"].endswith(POSTGRES_HINT)
    served = without(tmp_path, SERVICE_MODULES, "bench", "--only", "serve", "--requests", "1000")
    assert served.returncode == 0, served.stderr
    assert f"skipped: fastapi is not installed: {SERVICE_HINT}" in served.stdout


def test_the_demo_without_the_service_extra_runs_and_says_how_to_install_it(tmp_path: Path) -> None:
    result = without(tmp_path, SERVICE_MODULES, "demo", "--home", "demo-sandbox")
    assert result.returncode == 0, result.stderr
    assert "serve needs the HTTP service extra:" in result.stdout
    assert "install 'crypto-bank-ledger[service]'" in result.stdout
