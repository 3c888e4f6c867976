"""Exit statuses a script can act on: 0 done, 1 refused or unverified, 2 fix your input, 75 retry, 70 a bug."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.acceptance.cli import ledger, store_digest, write_batch
from tests.acceptance.test_trading_cli import TRADE, prepared

BYN = {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat"}
ALESIA = {"type": "onboard_client", "key": "c1", "client_id": "alesia", "name": "Alesia K.",
          "residency": "resident", "kind": "individual"}  # fmt: skip


def test_a_command_that_is_done_exits_0(home: Path, tmp_path: Path) -> None:
    result = ledger("submit", str(write_batch(tmp_path / "in.jsonl", BYN)), "--home", str(home))
    assert result.returncode == 0, result.stderr


def test_a_command_refused_by_a_rule_exits_1_and_is_recorded(home: Path, tmp_path: Path) -> None:
    prepared(home, tmp_path)
    result = ledger("trade", "--key", "t-abroad", "--venue", "offshore", *TRADE, "--home", str(home))
    assert result.returncode == 1, result.stderr
    assert "rejected" in result.stdout


def test_a_bundle_that_does_not_verify_exits_1(home: Path, tmp_path: Path) -> None:
    ledger("submit", str(write_batch(tmp_path / "in.jsonl", BYN, ALESIA)), "--home", str(home))
    bundle = tmp_path / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0
    events = bundle / "events.jsonl"
    events.write_bytes(events.read_bytes().replace(b"Alesia", b"Alexia"))
    key = (home / "keys" / "verifier-key.txt").read_text().strip()
    result = ledger("audit", "verify", str(bundle), "--key", key)
    assert result.returncode == 1, result.stderr


def test_malformed_input_exits_2_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    before = store_digest(home)
    result = ledger("submit", str(write_batch(tmp_path / "in.jsonl", '{"type": "deposit",')), "--home", str(home))
    assert result.returncode == 2
    assert store_digest(home) == before


def test_a_store_locked_by_another_writer_for_longer_than_the_lock_timeout_exits_75(home: Path, tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "in.jsonl", BYN)
    holder = sqlite3.connect(home / "ledger.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
    try:
        result = ledger("submit", str(batch), "--home", str(home), env={"SQLITE_LOCK_TIMEOUT": "1"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 75, result.stderr
    assert "locked" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    retried = ledger("submit", str(batch), "--home", str(home))
    assert retried.returncode == 0, retried.stderr


def test_a_database_that_cannot_be_reached_exits_75(tmp_path: Path) -> None:
    result = ledger("balances", "--home", str(tmp_path), "--database-url", "postgresql://postgres@127.0.0.1:1/test")
    assert result.returncode == 75, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
def test_a_database_that_does_not_exist_exits_2_retrying_would_not_help(tmp_path: Path, postgres_url: str) -> None:
    server = postgres_url.partition("?")[0].rpartition("/")[0]
    result = ledger("balances", "--home", str(tmp_path), "--database-url", f"{server}/no_such_database")
    assert result.returncode == 2, result.stderr
    assert "does not exist" in result.stderr


def test_a_bug_is_one_line_exit_70_and_its_traceback_in_a_file_only_its_owner_reads(home: Path, tmp_path: Path) -> None:
    crashes = tmp_path / "crashes"
    program = (
        "import sys\n"
        "from ledger import sandbox\n"
        "from ledger.cli import main\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('a bug planted by the test')\n"
        "sandbox.Sandbox.open_reader = broken\n"
        "sys.argv = ['ledger', 'balances', '--home', sys.argv[1]]\n"
        "main()\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    environment["LEDGER_CRASH_DIR"] = str(crashes)
    result = subprocess.run(
        [sys.executable, "-c", program, str(home)], capture_output=True, text=True, env=environment, check=False
    )
    assert result.returncode == 70
    (line,) = result.stderr.strip().splitlines()
    assert "internal error (RuntimeError: a bug planted by the test)" in line
    assert "Traceback" not in result.stderr
    (report,) = crashes.iterdir()
    assert str(report) in line
    assert "Traceback" in report.read_text()
    assert "ledger balances --home" in report.read_text()
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_the_readme_documents_every_exit_status() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("Exit status, for scripts") :][:1500]
    for status in ("0 done", "1 ", "2 ", "70 ", "75 "):
        assert status in section, status


def test_an_error_quoting_text_that_looks_like_markup_prints_it_as_it_is(home: Path, tmp_path: Path) -> None:
    before = store_digest(home)
    result = ledger("submit", str(write_batch(tmp_path / "in.jsonl", '{"type": "[/x]", "key": "[red]k"}')), "--home",
                    str(home))  # fmt: skip
    assert result.returncode == 2
    assert "[/x]" in result.stderr
    assert "Traceback" not in result.stderr
    assert store_digest(home) == before
