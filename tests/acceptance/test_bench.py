"""`ledger bench --json` prints figures beside same-run references (DESIGN.md section 7)."""

import json

import pytest

from tests.acceptance.cli import ledger


def test_bench_prints_write_sqlite_with_its_references_and_ratios_as_json() -> None:
    result = ledger("bench", "--json", "--only", "write", "--events", "300")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    postgres = figures["write.postgres"]
    assert postgres["value"] is None or set(postgres["references"]) == {"naive_eventsourcing"}
    figure = figures["write.sqlite"]
    assert figure["unit"] == "tx/s"
    assert figure["value"] > 0
    references = {"naive_eventsourcing", "raw_sqlite", "python_floor", "signed_every_batch"}
    assert set(figure["references"]) == references
    assert all(value > 0 for value in figure["references"].values())
    assert set(figure["ratios"]) == {f"vs_{name}" for name in references}
    assert figure["transactions"] == figure["events"] == 300


def test_bench_refuses_a_size_out_of_range() -> None:
    result = ledger("bench", "--json", "--events", "5")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bench_prints_the_audit_figures_with_their_references() -> None:
    result = ledger("bench", "--json", "--only", "audit", "--audit-events", "3000")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    assert set(figures) == {"audit.verify", "memory.verify", "audit.export", "audit.prove", "memory.export"}
    assert set(figures["audit.verify"]["references"]) == {"sha256"}
    assert set(figures["memory.verify"]["references"]) == {"at_100k"}
    assert figures["memory.verify"]["unit"] == "MB"
    export = figures["audit.export"]
    assert (export["unit"], export["leaves"]) == ("leaves/s", 3000)
    assert set(export["references"]) == {"audit.verify"}
    assert export["value"] > 0
    assert export["references"]["audit.verify"] > 0
    assert set(export["ratios"]) == {"vs_audit.verify"}
    prove = figures["audit.prove"]
    assert prove["unit"] == "ms"
    assert set(prove["references"]) == {"at_10k"}
    assert prove["value"] > 0
    assert prove["references"]["at_10k"] > 0
    assert set(prove["ratios"]) == {"vs_at_10k"}
    memory = figures["memory.export"]
    assert memory["unit"] == "MB"
    assert set(memory["references"]) == {"at_100k"}
    assert memory["value"] > 0


def test_bench_prints_replay_and_memory_replay_with_their_references() -> None:
    result = ledger("bench", "--json", "--only", "replay", "--replay-events", "2000")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    assert set(figures) == {"replay", "memory.replay"}
    assert set(figures["replay"]["references"]) == {"raw_sqlite_scan"}
    assert figures["replay"]["events"] == 2000
    assert set(figures["memory.replay"]["references"]) == {"at_100k"}


def test_bench_prints_open_read_and_open_write_as_whole_processes_against_10k() -> None:
    result = ledger("bench", "--json", "--only", "open", "--replay-events", "3000")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)["figures"]
    assert set(figures) == {"open.read", "open.write"}
    for figure in figures.values():
        assert figure["unit"] == "s"
        assert figure["value"] > 0
        assert set(figure["references"]) == {"at_10k"}
        assert set(figure["ratios"]) == {"vs_at_10k"}


@pytest.mark.slow
def test_bench_prints_serve_http_beside_no_coalescing_and_the_in_process_batch() -> None:
    result = ledger("bench", "--json", "--only", "serve", "--requests", "1000")
    assert result.returncode == 0, result.stderr
    figure = json.loads(result.stdout)["figures"]["serve.http"]
    assert figure["unit"] == "commands/s"
    assert set(figure["references"]) == {"no_coalescing", "in_process_batch"}
    assert all(value > 0 for value in figure["references"].values())
    assert 0 < figure["p50_ms"] <= figure["p99_ms"]
    assert figure["statuses"] == {"200": 1000}
    assert figure["transactions"] < 1000 + 500  # coalesced: fewer transactions than requests
