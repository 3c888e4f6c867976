"""Long work shows progress with its total on a terminal, and nothing anywhere else (DESIGN.md section 6)."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

from tests.acceptance.cli import ledger

SCHEMA_1_HOME = Path(__file__).parent.parent / "fixtures" / "schema-1" / "sqlite-home"
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


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
    return process.wait(timeout=60), output, _ESCAPES.sub("", shown.decode(errors="replace"))


def assert_shows_total_and_rate(shown: str, description: str, total: int, unit: str) -> None:
    """The terminal showed the bar of `description` at `total`/`total`, and a rate in `unit`s a second."""
    assert description in shown, shown
    assert f"{total:,}/{total:,}" in shown, shown
    assert re.search(rf"\d[\d,.]* {unit}/s", shown), shown


def test_export_shows_the_leaves_written_out_of_their_total_on_a_terminal(home: Path, tmp_path: Path) -> None:
    code, output, shown = on_a_terminal("audit", "export", str(tmp_path / "bundle"), "--home", str(home))
    assert code == 0, shown
    assert "Exported leaves 0 to" in output
    size = int(output.split("Exported leaves 0 to ")[1].split()[0]) + 1
    assert_shows_total_and_rate(shown, "exporting leaves", size, "leaves")


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
    assert_shows_total_and_rate(shown, "verifying leaves", size, "leaves")
    quiet = ledger("audit", "verify", str(tmp_path / "bundle"), "--key", key)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""


def test_replay_shows_the_events_replayed_out_of_their_total_with_a_rate_on_a_terminal(home: Path) -> None:
    code, output, shown = on_a_terminal("replay", "--home", str(home))
    assert code == 0, shown
    events = int(output.split("Replayed ")[1].split()[0])
    assert events > 0
    assert_shows_total_and_rate(shown, "replaying events", events, "events")
    piped = ledger("replay", "--home", str(home))
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""


def test_replay_of_a_bundle_shows_its_verification_and_its_replay_on_a_terminal(home: Path, tmp_path: Path) -> None:
    exported = ledger("audit", "export", str(tmp_path / "bundle"), "--home", str(home))
    assert exported.returncode == 0, exported.stderr
    size = int(exported.stdout.split("Exported leaves 0 to ")[1].split()[0]) + 1
    key = ledger("audit", "key", "--home", str(home)).stdout.strip()
    code, output, shown = on_a_terminal("replay", "--bundle", str(tmp_path / "bundle"), "--key", key)
    assert code == 0, shown
    assert f"Replayed {size} events" in output
    assert_shows_total_and_rate(shown, "verifying leaves", size, "leaves")
    assert_shows_total_and_rate(shown, "replaying events", size, "events")
    quiet = ledger("replay", "--bundle", str(tmp_path / "bundle"), "--key", key, "--json")
    assert quiet.returncode == 0, quiet.stderr
    assert (json.loads(quiet.stdout)["events"], quiet.stderr) == (size, "")


def test_json_output_shows_no_progress_even_on_a_terminal(home: Path) -> None:
    code, output, shown = on_a_terminal("replay", "--home", str(home), "--json")
    assert code == 0, shown
    assert json.loads(output)["events"] > 0
    assert "replaying events" not in shown
    assert shown.strip() == ""


def test_migrate_shows_the_views_rebuilt_out_of_the_events_with_a_rate_on_a_terminal(tmp_path: Path) -> None:
    home = tmp_path / "schema-1"
    shutil.copytree(SCHEMA_1_HOME, home)
    code, output, shown = on_a_terminal("migrate", "--home", str(home))
    assert code == 0, shown
    assert "Migrated to schema version" in output
    replayed = ledger("replay", "--home", str(home), "--json")  # the views were rebuilt from every event
    head = json.loads(replayed.stdout)["events"]
    assert_shows_total_and_rate(shown, "rebuilding views", head, "events")
    piped_home = tmp_path / "schema-1-piped"
    shutil.copytree(SCHEMA_1_HOME, piped_home)
    piped = ledger("migrate", "--home", str(piped_home))
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""


def test_simulate_shows_the_days_simulated_out_of_their_total_with_a_rate_on_a_terminal(home: Path) -> None:
    code, output, shown = on_a_terminal(
        "simulate", "--seed", "1", "--days", "3", "--clients", "3", "--operations-per-day", "5", "--home", str(home)
    )
    assert code == 0, shown
    assert "Simulated" in output
    assert_shows_total_and_rate(shown, "simulating days", 3, "days")
    piped = ledger(
        "simulate", "--seed", "2", "--days", "2", "--clients", "3", "--operations-per-day", "5", "--home", str(home)
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""


def test_bench_shows_each_benchmark_as_a_step_of_the_total_with_a_rate_on_a_terminal() -> None:
    code, output, shown = on_a_terminal("bench", "--only", "write", "--events", "100")
    assert code == 0, shown
    assert "write.sqlite" in output
    assert_shows_total_and_rate(shown, "benchmarking", 1, "benchmarks")
    piped = ledger("bench", "--only", "write", "--events", "100")
    assert piped.returncode == 0, piped.stderr
    assert "write.sqlite" in piped.stdout
    assert piped.stderr == ""


def test_check_store_shows_the_leaves_checked_out_of_their_total_with_a_rate_on_a_terminal(home: Path) -> None:
    code, output, shown = on_a_terminal("audit", "check-store", "--home", str(home))
    assert code == 0, shown
    leaves = int(output.split("intact ")[1].split()[0])
    assert_shows_total_and_rate(shown, "checking leaves", leaves, "leaves")
    piped = ledger("audit", "check-store", "--home", str(home))
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
