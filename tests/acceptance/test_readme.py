"""The README's examples run verbatim: every block marked `<!-- runnable -->`, in order, in a project root's layout.

A shell block marked so runs in bash (`set -euo pipefail`: a failing command fails it) with
`ledger` on the PATH resolving to the venv's, a Python block with the venv's interpreter; all
in one folder laid out as the project root after a clone (its Makefile, pyproject.toml and
.venv), so that later blocks see the files earlier ones made. Every other shell block says why
it is not run (`<!-- reference: ... -->`): command syntax with brackets and alternatives, or
the make targets this suite is run by.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
MARK = re.compile(r"^<!-- (runnable|reference)\b.*-->$")
RUNNERS = {"sh": ["bash", "-euo", "pipefail", "-c"], "python": [sys.executable, "-c"]}


def blocks(readme: str) -> list[tuple[str | None, str, str]]:
    """Every fenced block: its mark (runnable, reference or None, from the line before it), language and text."""
    found: list[tuple[str | None, str, str]] = []
    lines = readme.splitlines()
    opening: int | None = None
    for number, line in enumerate(lines):
        if not line.startswith("```"):
            continue
        if opening is None:
            opening = number
            continue
        mark = MARK.match(lines[opening - 1]) if opening > 0 else None
        body = "".join(f"{text}\n" for text in lines[opening + 1 : number])
        found.append((mark.group(1) if mark else None, lines[opening][3:].strip(), body))
        opening = None
    assert opening is None, f"README.md:{opening + 1}: a fence that is never closed"
    return found


def project_root(folder: Path) -> Path:
    """A clone's root after `make demo`: the Makefile and pyproject.toml, and a .venv
    whose stamp is current (its programs are the venv the tests run in)."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, folder / name)
    (folder / ".venv").mkdir()
    (folder / ".venv" / "bin").symlink_to(VENV / "bin")
    (folder / ".venv" / ".demo-stamp").touch()
    return folder


def environment() -> dict[str, str]:
    skipped = ("LEDGER_", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skipped)}
    env["PATH"] = os.pathsep.join([str(VENV / "bin"), env.get("PATH", "")])
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(language: str, body: str, root: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One block, in a process group of its own: whatever it left running (a server in the
    background of a block that failed) is stopped with it."""
    process = subprocess.Popen(
        [*RUNNERS[language], body], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=600)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_every_shell_block_of_the_readme_is_marked_runnable_or_reference() -> None:
    readme = (ROOT / "README.md").read_text()
    unmarked = [body.splitlines()[0] for mark, language, body in blocks(readme) if language in RUNNERS and not mark]
    assert unmarked == []


def test_the_quick_start_and_the_python_api_are_runnable() -> None:
    readme = (ROOT / "README.md").read_text()
    runnable = [body for mark, _, body in blocks(readme) if mark == "runnable"]
    assert any(body.startswith("make demo\nsource .venv/bin/activate") for body in runnable)
    assert any("from ledger import ManualClock, Sandbox" in body for body in runnable)
    assert len(runnable) >= 5


def test_every_runnable_block_of_the_readme_runs_verbatim_in_order(tmp_path: Path) -> None:
    root = project_root(tmp_path)
    env = environment() | {"PORT": str(free_port())}  # the HTTP example's server, on a port of its own
    runnable = [
        (language, body) for mark, language, body in blocks((ROOT / "README.md").read_text()) if mark == "runnable"
    ]
    for language, body in runnable:
        assert language in RUNNERS, f"a runnable block in {language!r}, which the test cannot run"
        result = run(language, body, root, env)
        assert result.returncode == 0, f"this README block failed:\n{body}\n{result.stdout[-2000:]}\n{result.stderr}"
    assert (root / "demo-report" / "index.html").exists()
    assert (root / "client.json").exists()
