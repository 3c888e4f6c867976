"""Long work shows progress with its total on a terminal, and nothing anywhere else (DESIGN.md section 6)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from tests.acceptance.cli import ledger


def on_a_terminal(*args: str) -> tuple[int, str, str]:
    """`ledger ARGS` with stderr on a pseudo-terminal (stdout a pipe): the
    exit code, stdout, and what the terminal showed."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    environment.update(TERM="xterm-256color", COLUMNS="120")
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger", *args], stdout=subprocess.PIPE, stderr=terminal, env=environment
    )
    os.close(terminal)
    shown = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed as the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.stdout is not None
    output = process.stdout.read().decode()
    process.stdout.close()
    return process.wait(timeout=60), output, shown.decode(errors="replace")


def test_export_shows_the_leaves_written_out_of_their_total_on_a_terminal(home: Path, tmp_path: Path) -> None:
    code, output, shown = on_a_terminal("audit", "export", str(tmp_path / "bundle"), "--home", str(home))
    assert code == 0, shown
    assert "Exported leaves 0 to" in output
    size = int(output.split("Exported leaves 0 to ")[1].split()[0]) + 1
    assert "exporting leaves" in shown
    assert f"{size:,}/{size:,}" in shown


def test_export_shows_no_progress_on_a_pipe(home: Path, tmp_path: Path) -> None:
    result = ledger("audit", "export", str(tmp_path / "bundle"), "--home", str(home))
    assert result.returncode == 0, result.stderr
    assert "exporting leaves" not in result.stderr + result.stdout
    assert result.stderr == ""


def test_verify_shows_the_leaves_checked_out_of_their_total_on_a_terminal(home: Path, tmp_path: Path) -> None:
    exported = ledger("audit", "export", str(tmp_path / "bundle"), "--home", str(home))
    assert exported.returncode == 0, exported.stderr
    size = int(exported.stdout.split("Exported leaves 0 to ")[1].split()[0]) + 1
    key = ledger("audit", "key", "--home", str(home)).stdout.strip()
    code, output, shown = on_a_terminal("audit", "verify", str(tmp_path / "bundle"), "--key", key)
    assert code == 0, shown
    assert "verified" in output
    assert "verifying leaves" in shown
    assert f"{size:,}/{size:,}" in shown
    quiet = ledger("audit", "verify", str(tmp_path / "bundle"), "--key", key)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
