"""The scripts in scripts/ run on the public Python API."""

import subprocess
import sys
from pathlib import Path

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
