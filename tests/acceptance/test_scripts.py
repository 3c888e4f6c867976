"""The scripts in scripts/ run on the public Python API."""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def test_the_demo_script_runs_the_scenario_in_the_home_it_is_given(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "demo.py"), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Token supply against holdings" in result.stdout
    assert (tmp_path / "home" / "ledger.sqlite").exists()


def test_the_simulate_and_export_scripts_run_on_the_python_api(tmp_path: Path) -> None:
    home = tmp_path / "home"
    simulated = subprocess.run(
        [sys.executable, str(SCRIPTS / "simulate.py"), str(home), "5", "3"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert simulated.returncode == 0, simulated.stderr
    assert "commands" in simulated.stdout
    exported = subprocess.run(
        [sys.executable, str(SCRIPTS / "export_and_verify.py"), str(home), str(tmp_path / "bundle")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "verified" in exported.stdout


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("export_and_verify.py", []),
        ("export_and_verify.py", ["home"]),
        ("simulate.py", ["home"]),
        ("simulate.py", ["home", "seven"]),
        ("bench.py", ["many"]),
        ("demo.py", ["--help"]),
        ("mutation_score.py", ["--help"]),
        ("mutation_score.py", ["no-such-mutants-dir"]),
    ],
)
def test_a_script_called_wrongly_prints_its_usage_and_exits_2(script: str, args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"usage: python scripts/{script}")
    assert "Traceback" not in result.stderr
