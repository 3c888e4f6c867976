"""The simulator: a seed reproduces a log byte for byte, and a sandbox continues where it stopped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ledger import ManualClock, Sandbox
from ledger.audit.bundle import export_bundle
from ledger.simulate import SIM_START, SimulationConfig, simulate

ESTABLISHED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def fresh(home: Path) -> Sandbox:
    sandbox = Sandbox.at(home)
    clock = ManualClock(ESTABLISHED)
    sandbox.init(allow_unencrypted_key=True, clock=clock, ledger_clock=clock)
    return sandbox


def run(sandbox: Sandbox, seed: int, days: int) -> None:
    with sandbox.open(clock=ManualClock(SIM_START), ledger_clock=ManualClock(SIM_START)) as ledger:
        simulate(ledger, SimulationConfig(seed=seed, clients=25, days=days, operations_per_day=40))


def leaves(sandbox: Sandbox, directory: Path) -> bytes:
    with sandbox.open(auto_checkpoint=False) as ledger:
        export_bundle(ledger.audit, sandbox.signer(), directory, SIM_START)
    return (directory / "events.jsonl").read_bytes()


def test_the_same_seed_in_two_fresh_sandboxes_gives_byte_identical_logs(tmp_path: Path) -> None:
    first, second = fresh(tmp_path / "a"), fresh(tmp_path / "b")
    run(first, seed=11, days=6)
    run(second, seed=11, days=6)
    assert first.verifier_key() != second.verifier_key()
    one, two = leaves(first, tmp_path / "a-bundle"), leaves(second, tmp_path / "b-bundle")
    assert one == two
    assert one.count(b"\n") > 200


def test_another_seed_gives_another_log(tmp_path: Path) -> None:
    first, second = fresh(tmp_path / "a"), fresh(tmp_path / "b")
    run(first, seed=11, days=3)
    run(second, seed=12, days=3)
    assert leaves(first, tmp_path / "a-bundle") != leaves(second, tmp_path / "b-bundle")


def test_a_second_run_continues_from_the_sandboxs_ledger_time(tmp_path: Path) -> None:
    in_two, in_one = fresh(tmp_path / "two"), fresh(tmp_path / "one")
    run(in_two, seed=5, days=3)
    run(in_two, seed=5, days=3)
    run(in_one, seed=5, days=6)
    assert leaves(in_two, tmp_path / "two-bundle") == leaves(in_one, tmp_path / "one-bundle")
    with in_two.open() as ledger:
        ledger.projector.catch_up()
        with ledger.backend.views() as session:
            (latest,) = session.fetchall("SELECT ledger_time FROM view_ledger_time")[0]
    assert latest.startswith("2026-01-22")  # six days after the setup on the 16th
