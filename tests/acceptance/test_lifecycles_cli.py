"""Lifecycles and corrections as a user reads them: `ledger clients`, `ledger transactions`, the supervisor report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.cli import ledger, write_batch

COMMANDS: list[dict[str, object]] = [
    {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat"},
    *(
        {
            "type": "onboard_client",
            "key": f"c-{c}",
            "client_id": c,
            "name": c,
            "residency": "resident",
            "kind": "individual",
        }
        for c in ("ales", "nord", "olga")
    ),
    {"type": "verify_kyc", "key": "k-ales", "client_id": "ales", "expires_on": "2027-03-01"},
    {"type": "verify_kyc", "key": "k-nord", "client_id": "nord"},
    {"type": "deposit", "key": "d1", "client_id": "ales", "asset": "BYN", "amount": "12.50", "reference": "in-1"},
    {
        "type": "reverse_transaction",
        "key": "rev-d1",
        "original_key": "d1",
        "reason": "booked twice",
        "reference": "TICKET-9",
    },
    {"type": "freeze_client", "key": "fz", "client_id": "nord", "reason": "court order 2-117"},
    {"type": "offboard_client", "key": "off", "client_id": "olga", "reason": "never completed KYC"},
]


@pytest.fixture
def filled(home: Path, tmp_path: Path) -> Path:
    result = ledger("submit", str(write_batch(tmp_path / "batch.jsonl", *COMMANDS)), "--home", str(home))
    assert result.returncode == 0, result.stderr
    return home


def read_json(*args: str) -> object:
    result = ledger(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_reversal_and_its_original_are_shown_linked(filled: Path) -> None:
    original = read_json("transactions", "--key", "d1", "--home", str(filled))
    reversal = read_json("transactions", "--key", "rev-d1", "--home", str(filled))
    assert (original["reversed_by"], original["reverses"]) == ("rev-d1", None)  # type: ignore[index]
    assert (reversal["reverses"], reversal["command_type"]) == ("d1", "reverse_transaction")  # type: ignore[index]
    page = read_json("transactions", "--client", "ales", "--home", str(filled))
    linked = {item["key"]: (item["reversed_by"], item["reverses"]) for item in page["items"]}  # type: ignore[index]
    assert linked["d1"] == ("rev-d1", None)
    assert linked["rev-d1"] == (None, "d1")


def test_clients_show_their_lifecycle(filled: Path) -> None:
    rows = {row["client_id"]: row for row in read_json("clients", "--home", str(filled))}  # type: ignore[union-attr]
    assert (rows["ales"]["kyc"], rows["ales"]["kyc_expires_on"], rows["ales"]["frozen"]) == (
        "verified",
        "2027-03-01",
        False,
    )
    assert (rows["nord"]["frozen"], rows["nord"]["frozen_reason"]) == (True, "court order 2-117")
    assert (rows["olga"]["offboarded"], rows["olga"]["kyc"]) == (True, "pending")
    table = ledger("clients", "--home", str(filled))  # the readable table runs too
    assert table.returncode == 0, table.stderr
    assert "nord" in table.stdout


def test_the_supervisor_report_lists_reversals_and_lifecycle_changes(filled: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    made = ledger("report", "supervisor", "--out", str(out), "--home", str(filled))
    assert made.returncode == 0, made.stderr
    files = {path.name for path in out.rglob("*")}
    assert {"reversals.json", "lifecycle_changes.json", "clients.json"} <= files, files
    (reversal,) = json.loads(next(out.rglob("reversals.json")).read_text())
    assert (reversal["original_key"], reversal["reversal_key"], reversal["reason"]) == ("d1", "rev-d1", "booked twice")
    changes = [
        (row["subject_id"], row["change"]) for row in json.loads(next(out.rglob("lifecycle_changes.json")).read_text())
    ]
    assert {("nord", "frozen"), ("olga", "offboarded"), ("ales", "kyc_verified")} <= set(changes)
