"""Extracts for the supervisor over a period: IVMS101 travel-rule records, transactions and
rejections with their leaves."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.acceptance.cli import ledger, write_batch

WALLET = "0x6474C38c43c2717b9b594d1B56D67cedA593D5B8"
HOSTED = {
    "type": "withdraw", "key": "crypto-out-1", "client_id": "alesia", "asset": "USDT", "amount": "10.000000",
    "reference": "out-1", "wallet_address": WALLET,
    "ivms101": {
        "originator": {"originator_persons": [{"natural_person": {"name": {"primary_identifier": "Kowalska",
                       "secondary_identifier": "Alesia"}, "customer_identification": "alesia"}}],
                       "account_number": ["client:alesia"]},
        "beneficiary": {
            "beneficiary_persons": [{"legal_person": {"name": {"legal_person_name": "Novak Trading s.r.o."}}}],
            "account_number": [WALLET],
        },
        "beneficiary_vasp": {"beneficiary_vasp": {"legal_person": {"name": {"legal_person_name": "Kraken Ltd"}}}},
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("extract") / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    batch = write_batch(home.parent / "crypto.jsonl", HOSTED)
    submitted = ledger("submit", str(batch), "--home", str(home))
    assert submitted.returncode == 0, submitted.stderr
    return home, ledger("audit", "key", "--home", str(home)).stdout.strip()


def test_an_extract_holds_every_transaction_and_rejection_with_its_postings_and_leaves(
    bank: tuple[Path, str], tmp_path: Path
) -> None:
    home, key = bank
    out = tmp_path / "extract"
    made = ledger("report", "extract", "--out", str(out), "--home", str(home), "--json")
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    transactions = json.loads((out / "transactions.json").read_text())
    rejections = json.loads((out / "rejections.json").read_text())
    assert (summary["transactions"], summary["rejections"]) == (len(transactions), len(rejections))
    leaves = sorted(leaf for row in transactions + rejections for leaf in row["leaves"])
    assert leaves == list(range(summary["checkpoint"]))  # every leaf of the log is in exactly one row
    withdrawal = next(row for row in transactions if row["key"] == "crypto-out-1")
    assert withdrawal["postings"] == "client:alesia USDT -10.000000; system:external USDT 10.000000"
    foreign = next(row for row in rejections if row["rule"] == "FOREIGN_VENUE_FORBIDDEN")
    assert json.loads(foreign["details"])["venue"] == "offshore-x"
    with (out / "rejections.csv").open(newline="") as handle:
        assert {row["key"] for row in csv.DictReader(handle)} == {row["key"] for row in rejections}
    checked = ledger("report", "verify", str(out), "--key", key)
    assert checked.returncode == 0, checked.stderr


def test_travel_rule_records_are_ivms101_json_for_crypto_transfers_and_settlements(
    bank: tuple[Path, str], tmp_path: Path
) -> None:
    home, _ = bank
    out = tmp_path / "extract"
    assert ledger("report", "extract", "--out", str(out), "--home", str(home)).returncode == 0
    records = json.loads((out / "travel_rule.ivms101.json").read_text())
    crypto = next(r for r in records if r["transfer"]["kind"] == "crypto_withdrawal")
    person = crypto["ivms101"]["originator"]["originatorPersons"][0]["naturalPerson"]
    assert person["name"] == {
        "nameIdentifier": [
            {"primaryIdentifier": "Kowalska", "secondaryIdentifier": "Alesia", "nameIdentifierType": "LEGL"}
        ]
    }
    assert person["customerIdentification"] == "alesia"
    assert crypto["ivms101"]["beneficiary"]["accountNumber"] == [WALLET]
    vasp = crypto["ivms101"]["beneficiaryVASP"]["beneficiaryVASP"]["legalPerson"]["name"]["nameIdentifier"][0]
    assert vasp["legalPersonName"] == "Kraken Ltd"
    settlements = [r for r in records if r["transfer"]["kind"] == "settlement"]
    assert len(settlements) == 4
    originator = settlements[0]["ivms101"]["originator"]["originatorPersons"][0]["legalPerson"]
    assert originator["name"]["nameIdentifier"][0]["legalPersonName"] == "Nord Timber JSC"
    assert originator["countryOfRegistration"] == "BY"
    assert all(r["transfer"]["leaves"] for r in records)


def test_a_period_keeps_only_what_its_ledger_time_falls_in(bank: tuple[Path, str], tmp_path: Path) -> None:
    home, _ = bank
    whole = tmp_path / "whole"
    assert ledger("report", "extract", "--out", str(whole), "--home", str(home)).returncode == 0
    times = sorted(row["ledger_time"] for row in json.loads((whole / "transactions.json").read_text()))
    cut = times[len(times) // 2]
    later, earlier = tmp_path / "later", tmp_path / "earlier"
    assert ledger("report", "extract", "--out", str(later), "--since", cut, "--home", str(home)).returncode == 0
    assert ledger("report", "extract", "--out", str(earlier), "--until", cut, "--home", str(home)).returncode == 0
    after = json.loads((later / "transactions.json").read_text())
    before = json.loads((earlier / "transactions.json").read_text())
    assert all(row["ledger_time"] >= cut for row in after)
    assert all(row["ledger_time"] < cut for row in before)
    assert len(after) + len(before) == len(times)
    refused = ledger(
        "report", "extract", "--out", str(tmp_path / "x"), "--since", cut, "--until", cut, "--home", str(home)
    )
    assert refused.returncode == 2
    assert "is not before --until" in refused.stderr
