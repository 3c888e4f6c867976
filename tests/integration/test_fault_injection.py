"""Faults on purpose: writers killed mid-batch, locks held too long, commands sent again.

Afterwards no acknowledged command is lost, none is applied twice, and the
views rebuilt from the log equal the live ones.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from domain.commands import Deposit
from ledger import Ledger
from ledger.replay import differences, replay_store
from ledger.store.ports import StoreLocation
from ledger.store.schema import open_store
from tests.world import setup_commands

DEPOSITS = 2400

# A writer that sends 2400 deposits in batches of 8 and appends each key to a
# file once its batch is acknowledged. Killed, it is simply started again and
# sends everything again: repeats with the same payload are idempotent.
WRITER = textwrap.dedent(
    f"""
    import os, sys
    from pathlib import Path
    from domain.commands import Deposit
    from ledger import Ledger
    from tests.world import setup_commands

    path, acks = Path(sys.argv[1]), Path(sys.argv[2])
    url = f"sqlite:///{{path}}"
    with Ledger.open(home=path.parent, database_url=url, create=True) as ledger, acks.open("a") as out:
        ledger.submit(setup_commands())
        for start in range(0, {DEPOSITS}, 8):
            batch = [Deposit(key=f"dep-{{n}}", client_id="nord", asset="BYN", amount="1.00", reference=f"r{{n}}")
                     for n in range(start, min(start + 8, {DEPOSITS}))]
            ledger.submit(batch)
            out.write("".join(f"{{c.key}}\\n" for c in batch))
            out.flush()
            os.fsync(out.fileno())
    """
)


def start_writer(path: Path, acks: Path) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(acks)], cwd=root)


def acknowledged_count(acks: Path) -> int:
    return acks.read_bytes().count(b"\n") if acks.exists() else 0


@pytest.mark.slow
def test_writers_killed_mid_batch_lose_no_acknowledged_command_and_apply_none_twice(tmp_path: Path) -> None:
    path, acks = tmp_path / "ledger.sqlite", tmp_path / "acks.txt"
    rng = random.Random(20260116)
    killed_while_writing = 0
    for _ in range(5):
        before = acknowledged_count(acks)
        writer = start_writer(path, acks)
        threshold = rng.randint(40, DEPOSITS // 2)  # a random point in the run, batches still coming
        while writer.poll() is None and acknowledged_count(acks) - before < threshold:
            time.sleep(0.005)
        killed_while_writing += writer.poll() is None
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert killed_while_writing == 5  # every kill landed while batches were being written
    assert start_writer(path, acks).wait(timeout=300) == 0
    acknowledged = set(acks.read_text().split())
    with Ledger.open(home=tmp_path, database_url=f"sqlite:///{path}", create=True) as ledger:
        with ledger.backend.views() as session:
            recorded = {row[0] for row in session.fetchall("SELECT key FROM ledger_commands")}
        deposits = [n for n in ledger.backend.notifications_after(0, 100_000) if n.topic.endswith(":FundsDeposited")]
        assert acknowledged <= recorded
        assert len(deposits) == DEPOSITS  # each exactly once, however often it was sent
        assert ledger.state.balance("client:nord", "BYN") == DEPOSITS * 100
        ledger.projector.catch_up()
        replica = open_store(StoreLocation(sqlite_path=tmp_path / "replica.sqlite"), create=True)
        replay_store(ledger.backend, ledger.projector.decode, replica)
        assert differences(ledger.backend, replica) == []
        replica.close()


def test_a_lock_held_too_long_times_out_cleanly_and_the_command_sent_again_lands_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLITE_LOCK_TIMEOUT", "1")
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(home=tmp_path, database_url=f"sqlite:///{path}", create=True) as ledger:
        ledger.submit(setup_commands())
        balances, position = dict(ledger.state.balances), ledger.state.position
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        command = Deposit(key="late", client_id="nord", asset="BYN", amount="5.00", reference="r")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            ledger.submit([command])
        assert (ledger.state.balances, ledger.state.position) == (balances, position)
        blocker.execute("ROLLBACK")
        blocker.close()
        (result,) = ledger.submit([command])
        (again,) = ledger.submit([command])
        assert result.accepted
        assert again.repeated
        assert ledger.state.balance("client:nord", "BYN") == 500


@pytest.mark.slow
def test_a_simulation_killed_and_run_again_keeps_the_views_true_to_the_log(tmp_path: Path) -> None:
    home = tmp_path / "sandbox"
    run = [sys.executable, "-m", "ledger"]
    assert subprocess.run([*run, "init", "--home", str(home), "--sandbox-key"], check=False).returncode == 0
    for delay in (0.8, 1.3):
        simulation = subprocess.Popen(
            [*run, "simulate", "--seed", "9", "--days", "40", "--home", str(home)], stdout=subprocess.DEVNULL
        )
        time.sleep(delay)
        simulation.send_signal(signal.SIGKILL)
        simulation.wait()
    finished = subprocess.run([*run, "simulate", "--seed", "9", "--days", "5", "--home", str(home)], check=False)
    assert finished.returncode == 0
    check = subprocess.run(
        [*run, "replay", "--check", "--home", str(home)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
