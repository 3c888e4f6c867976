"""`ledger replay` as a supervisor runs it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.acceptance.cli import ledger


def demo(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    return home, ledger("audit", "key", "--home", str(home)).stdout.strip()


def test_replay_checks_the_live_views_and_names_a_tampered_one(tmp_path: Path) -> None:
    home, _ = demo(tmp_path)
    clean = ledger("replay", "--check", "--home", str(home), "--json")
    assert clean.returncode == 0, clean.stderr
    report = json.loads(clean.stdout)
    assert report["check"] == {"equal": True, "differences": []}
    assert len(report["digests"]) >= 7
    connection = sqlite3.connect(home / "ledger.sqlite")
    connection.execute("UPDATE view_venues SET listed = 0")
    connection.commit()
    connection.close()
    tampered = ledger("replay", "--check", "--home", str(home))
    assert tampered.returncode == 1
    assert "view_venues" in tampered.stdout


def test_a_bundle_replays_to_the_same_digests_as_the_store(tmp_path: Path) -> None:
    home, key = demo(tmp_path)
    bundle = next(home.glob("audit-bundle-*"))
    from_store = json.loads(ledger("replay", "--home", str(home), "--json").stdout)
    from_bundle = ledger("replay", "--bundle", str(bundle), "--key", key, "--into", str(tmp_path / "replica"), "--json")
    assert from_bundle.returncode == 0, from_bundle.stderr
    assert json.loads(from_bundle.stdout)["digests"] == from_store["digests"]
    assert (tmp_path / "replica" / "ledger.sqlite").exists()


def test_as_of_a_checkpoint_and_a_leaf_count_agree(tmp_path: Path) -> None:
    home, key = demo(tmp_path)
    bundle = next(home.glob("audit-bundle-*"))
    first = min(int(p.name) for p in (bundle / "checkpoints").iterdir())
    by_checkpoint = ledger(
        "replay", "--home", str(home), "--as-of", str(bundle / "checkpoints" / str(first)), "--key", key, "--json"
    )
    by_count = ledger("replay", "--home", str(home), "--as-of", str(first), "--json")
    assert by_checkpoint.returncode == 0, by_checkpoint.stderr
    assert json.loads(by_checkpoint.stdout) == json.loads(by_count.stdout)
    assert json.loads(by_count.stdout)["events"] == first


def test_replay_mistakes_are_one_clear_line(tmp_path: Path) -> None:
    home, _ = demo(tmp_path)
    for args, message in (
        (["--as-of", "yesterday"], "not a checkpoint file"),
        (["--as-of", "2026-03-01T00:00:00"], "needs a time zone"),
        (["--check", "--as-of", "3"], "drop --as-of"),
        (["--bundle", str(tmp_path)], "--bundle needs --key"),
    ):
        result = ledger("replay", "--home", str(home), *args)
        assert result.returncode == 2, (args, result.stdout)
        assert message in result.stderr
        assert "Traceback" not in result.stderr
