"""Supply equals holdings from the command line: the treasury sells only what it holds, tokens stay on the ledger."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.acceptance.cli import ledger, store_digest, write_batch

SETUP = [
    {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat"},
    {"type": "register_asset", "key": "a2", "code": "USDT", "scale": 6, "kind": "crypto"},
    {"type": "register_issuer", "key": "i1", "issuer_id": "svislach", "name": "Svislach", "licensed": True},
    {"type": "register_token", "key": "t1", "code": "SVT", "scale": 2, "issuer_id": "svislach", "supply_cap": "1000"},
    *(
        {"type": "onboard_client", "key": f"c-{c}", "client_id": c, "name": c, "residency": "resident",
         "kind": "company"}
        for c in ("ales", "olga")
    ),
    {"type": "verify_kyc", "key": "k1", "client_id": "ales"},
    {"type": "verify_kyc", "key": "k2", "client_id": "olga"},
    {"type": "deposit", "key": "d1", "client_id": "ales", "asset": "BYN", "amount": "100", "reference": "r1"},
    {"type": "issue_tokens", "key": "m1", "issuer_id": "svislach", "asset": "SVT", "client_id": "olga",
     "amount": "600"},
    {"type": "list_venue", "key": "v1", "venue_id": "minsk", "name": "Minsk", "kind": "htp_platform",
     "assets": ["BYN", "SVT"]},
]  # fmt: skip


def prepared(home: Path, tmp_path: Path) -> Path:
    result = ledger("submit", str(write_batch(tmp_path / "setup.jsonl", *SETUP)), "--home", str(home))
    assert result.returncode == 0, result.stderr
    return home


def submit(home: Path, command: dict[str, object]) -> subprocess.CompletedProcess[str]:
    return ledger("submit", "-", "--home", str(home), stdin=json.dumps(command) + "\n")


def trade(home: Path, key: str, *args: str) -> dict[str, object]:
    result = ledger("trade", "--key", key, "--quote", "BYN", "--home", str(home), "--json", *args)
    assert result.returncode in (0, 1), result.stderr
    outcome: dict[str, object] = json.loads(result.stdout)
    return outcome


def balances(home: Path) -> dict[tuple[str, str], str]:
    rows = json.loads(ledger("balances", "--system", "--home", str(home), "--json").stdout)
    return {(row["account"], row["asset"]): row["amount"] for row in rows}


def supply_row(home: Path, tmp_path: Path, name: str) -> dict[str, object]:
    out = tmp_path / name
    made = ledger("report", "supervisor", "--out", str(out), "--home", str(home))
    assert made.returncode == 0, made.stderr
    (row,) = json.loads((out / "tables" / "supply.json").read_text())
    assert isinstance(row, dict)
    return row


def test_tokens_nobody_holds_are_neither_sold_by_the_bank_nor_bought_from_a_venue(home: Path, tmp_path: Path) -> None:
    prepared(home, tmp_path)
    before = balances(home)
    sold = trade(home, "bank-sells", "--base", "SVT", "--base-amount", "500", "--quote-amount", "5", "--buyer", "ales")
    assert (sold["status"], sold["rule"]) == ("rejected", "INSUFFICIENT_FUNDS")
    outside = ("--venue", "minsk", "--base", "SVT", "--base-amount", "500", "--quote-amount", "5", "--buyer", "ales")
    bought = trade(home, "venue-sells", *outside)
    assert (bought["status"], bought["rule"]) == ("rejected", "TOKEN_OUTSIDE_LEDGER")
    assert balances(home) == before
    row = supply_row(home, tmp_path, "report")
    assert (row["supply"], row["held_by_clients"], row["held_by_bank"], row["matches"]) == (
        "600.00",
        "600.00",
        "0.00",
        True,
    )


def test_a_treasury_funded_from_outside_buys_tokens_and_the_report_still_matches(home: Path, tmp_path: Path) -> None:
    prepared(home, tmp_path)
    funding = {"type": "fund_treasury", "key": "f1", "asset": "BYN", "amount": "50.00", "reference": "capital"}
    funded = submit(home, funding)
    assert funded.returncode == 0, funded.stderr
    bought = trade(
        home, "bank-buys", "--base", "SVT", "--base-amount", "200", "--quote-amount", "20", "--seller", "olga"
    )
    assert bought["status"] == "accepted", bought
    held = balances(home)
    assert held[("system:treasury", "SVT")] == "200.00"
    assert held[("system:treasury", "BYN")] == "30.00"
    row = supply_row(home, tmp_path, "report")
    assert (row["supply"], row["held_by_clients"], row["held_by_bank"], row["matches"]) == (
        "600.00",
        "400.00",
        "200.00",
        True,
    )


def test_the_treasury_takes_no_token_from_outside_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    prepared(home, tmp_path)
    before = store_digest(home)
    funding = {"type": "fund_treasury", "key": "f1", "asset": "SVT", "amount": "5", "reference": "mint?"}
    refused = submit(home, funding)
    assert refused.returncode == 2, refused.stdout
    assert "TOKEN_OUTSIDE_ISSUANCE" in refused.stderr
    assert store_digest(home) == before


def test_an_amount_with_a_line_break_or_space_anywhere_is_refused_and_writes_nothing(
    home: Path, tmp_path: Path
) -> None:
    prepared(home, tmp_path)
    before = store_digest(home)
    for amount in ("10\n", " 10", "1 0", "10\t", "\n10", "10\r\n"):
        deposit = {
            "type": "deposit",
            "key": "d9",
            "client_id": "ales",
            "asset": "BYN",
            "amount": amount,
            "reference": "r",
        }
        refused = submit(home, deposit)
        assert refused.returncode == 2, (amount, refused.stdout)
        assert "amount" in refused.stderr, refused.stderr
    assert store_digest(home) == before
