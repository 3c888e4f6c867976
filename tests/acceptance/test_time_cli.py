"""The bank's time zone, the back-dating window and late commands, as a user meets them on the command line."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from tests.acceptance.cli import ledger, store_digest, write_batch

RELEASE_1 = Path(__file__).parent.parent / "fixtures" / "release-1"
# Dated, every one: a command the ledger's clock dates happens now, and a
# command dated months before now would be back-dated beyond the window.
MORNING = "2026-03-05T09:00:00Z"
WORLD: list[dict[str, object]] = [
    {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat", "ledger_time": MORNING},
    {"type": "onboard_client", "key": "c1", "client_id": "ales", "name": "Ales", "residency": "resident",
     "kind": "individual", "ledger_time": MORNING},
    {"type": "verify_kyc", "key": "k1", "client_id": "ales", "ledger_time": MORNING},
    {"type": "deposit", "key": "d1", "client_id": "ales", "asset": "BYN", "amount": "10.00", "reference": "in-1",
     "ledger_time": "2026-03-05T10:00:00Z"},
]  # fmt: skip


def initialised(tmp_path: Path, *options: str) -> Path:
    home = tmp_path / "sandbox"
    result = ledger("init", "--home", str(home), "--sandbox-key", "--at", "2026-03-01T00:00:00Z", *options)
    assert result.returncode == 0, result.stderr
    submitted = ledger("submit", str(write_batch(tmp_path / "world.jsonl", *WORLD)), "--home", str(home))
    assert submitted.returncode == 0, submitted.stderr
    return home


def submit(home: Path, tmp_path: Path, command: dict[str, object]) -> object:
    return ledger("submit", str(write_batch(tmp_path / "one.jsonl", command)), "--home", str(home))


def withdrawal(key: str, ledger_time: str) -> dict[str, object]:
    return {"type": "withdraw", "key": key, "client_id": "ales", "asset": "BYN", "amount": "99.00",
            "reference": key, "ledger_time": ledger_time}  # fmt: skip


def compliance(home: Path) -> dict[str, object]:
    result = ledger("report", "compliance", "--home", str(home), "--json")
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_an_unknown_time_zone_is_refused_at_init_and_nothing_is_created(tmp_path: Path) -> None:
    result = ledger("init", "--home", str(tmp_path / "sandbox"), "--sandbox-key", "--time-zone", "Mars/Olympus")
    assert result.returncode == 2, result.stderr
    assert "'Mars/Olympus' is not an IANA time zone name" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "sandbox").exists()


def test_a_command_reported_late_inside_the_window_is_marked_in_transactions_and_reports(tmp_path: Path) -> None:
    home = initialised(tmp_path)
    result = submit(home, tmp_path, withdrawal("late", "2026-03-04T10:00:00Z"))
    assert result.returncode == 0, result.stderr  # type: ignore[attr-defined]
    shown = ledger("transactions", "--key", "late", "--home", str(home), "--json")
    row = json.loads(shown.stdout)
    assert (row["rule"], row["late_by_seconds"]) == ("INSUFFICIENT_FUNDS", 86400)
    on_time = json.loads(ledger("transactions", "--key", "d1", "--home", str(home), "--json").stdout)
    assert on_time["late_by_seconds"] is None
    assert "late by 86400 s" in ledger("transactions", "--home", str(home), env={"COLUMNS": "300"}).stdout
    assert compliance(home)["late_commands"] == 1


def test_a_command_dated_beyond_the_window_is_refused_naming_both_times_and_writes_nothing(tmp_path: Path) -> None:
    home = initialised(tmp_path)
    before = store_digest(home)
    result = submit(home, tmp_path, withdrawal("too-late", "2026-02-26T09:59:59Z"))
    assert result.returncode == 2  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "BACKDATED_BEYOND_WINDOW" in stderr or "back-dating window of 7 days" in stderr
    assert "2026-02-26T09:59:59+00:00" in stderr
    assert "2026-03-05T10:00:00+00:00" in stderr
    assert store_digest(home) == before


def test_a_rejection_is_counted_on_its_minsk_day(tmp_path: Path) -> None:
    home = initialised(tmp_path)
    submit(home, tmp_path, withdrawal("evening", "2026-03-05T21:30:00Z"))  # 00:30 on 6 March in Minsk
    assert compliance(home)["by_day"] == {"2026-03-06": 1}


def test_a_utc_bank_counts_the_same_rejection_on_the_utc_day(tmp_path: Path) -> None:
    home = initialised(tmp_path, "--time-zone", "UTC")
    submit(home, tmp_path, withdrawal("evening", "2026-03-05T21:30:00Z"))
    assert compliance(home)["by_day"] == {"2026-03-05": 1}


def test_a_store_written_before_zones_were_recorded_keeps_its_utc_days(tmp_path: Path) -> None:
    home = tmp_path / "release-1"
    shutil.copytree(RELEASE_1 / "sqlite-home", home)
    assert ledger("migrate", "--home", str(home)).returncode == 0
    log = ledger("log", "--home", str(home), "--json", "--type", "CommandRejected", "--limit", "1000")
    assert log.returncode == 0, log.stderr
    utc_days = Counter(json.loads(line)["ledger_time"][:10] for line in log.stdout.splitlines())
    assert utc_days
    assert compliance(home)["by_day"] == dict(sorted(utc_days.items()))
    check = ledger("replay", "--check", "--home", str(home))
    assert check.returncode == 0, check.stderr
