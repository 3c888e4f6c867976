"""Bank developers' sandbox commands: simulate, reset, fork."""

from __future__ import annotations

import json
from pathlib import Path

from tests.acceptance.cli import ledger

AT = "2026-01-15T09:00:00Z"


def initialised(home: Path) -> Path:
    result = ledger("init", "--home", str(home), "--sandbox-key", "--at", AT)
    assert result.returncode == 0, result.stderr
    return home


def events_of(home: Path, bundle: Path) -> bytes:
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0
    return (bundle / "events.jsonl").read_bytes()


def test_two_sandboxes_simulated_with_one_seed_export_the_same_events(tmp_path: Path) -> None:
    logs = []
    for name in ("a", "b"):
        home = initialised(tmp_path / name)
        result = ledger("simulate", "--seed", "3", "--days", "4", "--clients", "20", "--home", str(home), "--json")
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        assert summary["rejected"].get("FOREIGN_VENUE_FORBIDDEN", 0) > 0
        logs.append(events_of(home, tmp_path / f"{name}-bundle"))
    assert logs[0] == logs[1]
    other = initialised(tmp_path / "c")
    ledger("simulate", "--seed", "4", "--days", "4", "--clients", "20", "--home", str(other))
    assert events_of(other, tmp_path / "c-bundle") != logs[0]


def test_simulate_needs_an_initialised_sandbox(tmp_path: Path) -> None:
    result = ledger("simulate", "--seed", "1", "--home", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "not initialised" in result.stderr


def test_a_fork_is_a_copy_the_original_does_not_see(tmp_path: Path) -> None:
    home = initialised(tmp_path / "main")
    ledger("simulate", "--seed", "1", "--days", "2", "--clients", "10", "--home", str(home))
    before = ledger("balances", "--home", str(home), "--json").stdout
    forked = ledger("sandbox", "fork", "experiment", "--home", str(home))
    assert forked.returncode == 0, forked.stderr
    experiment = tmp_path / "experiment"
    assert ledger("balances", "--home", str(experiment), "--json").stdout == before
    ledger("simulate", "--seed", "1", "--days", "2", "--clients", "10", "--home", str(experiment))
    assert ledger("balances", "--home", str(home), "--json").stdout == before
    assert ledger("balances", "--home", str(experiment), "--json").stdout != before
    assert (
        ledger("audit", "key", "--home", str(experiment)).stdout == ledger("audit", "key", "--home", str(home)).stdout
    )
    again = ledger("sandbox", "fork", "experiment", "--home", str(home))
    assert again.returncode == 2
    assert "exists already" in again.stderr


def test_a_reset_starts_over_with_the_same_bank_and_key(tmp_path: Path) -> None:
    home = initialised(tmp_path / "main")
    key = ledger("audit", "key", "--home", str(home)).stdout
    ledger("simulate", "--seed", "1", "--days", "2", "--clients", "10", "--home", str(home))
    refused = ledger("sandbox", "reset", "--home", str(home))
    assert refused.returncode == 2
    assert "--yes" in refused.stderr
    assert ledger("sandbox", "reset", "--yes", "--home", str(home)).returncode == 0
    assert json.loads(ledger("balances", "--home", str(home), "--json").stdout) == []
    assert ledger("audit", "key", "--home", str(home)).stdout == key
    assert ledger("demo", "--home", str(home)).returncode == 0
