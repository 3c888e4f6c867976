"""Venues, trades and the compliance report from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from domain.errors import RULE_VIOLATIONS
from tests.acceptance.cli import ledger, store_digest, write_batch

SETUP = [
    {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat"},
    {"type": "register_asset", "key": "a2", "code": "USDT", "scale": 6, "kind": "crypto"},
    *(
        {
            "type": "onboard_client",
            "key": f"c-{cid}",
            "client_id": cid,
            "name": cid,
            "residency": "resident",
            "kind": "individual",
        }
        for cid in ("ales", "olga")
    ),
    {"type": "verify_kyc", "key": "k1", "client_id": "ales"},
    {"type": "verify_kyc", "key": "k2", "client_id": "olga"},
    {"type": "deposit", "key": "d1", "client_id": "ales", "asset": "BYN", "amount": "100", "reference": "r1"},
    {
        "type": "deposit",
        "key": "d2",
        "client_id": "olga",
        "asset": "USDT",
        "amount": "100",
        "reference": "r2",
    },
]
TRADE = [
    "--base",
    "USDT",
    "--base-amount",
    "10",
    "--quote",
    "BYN",
    "--quote-amount",
    "33",
    "--buyer",
    "ales",
    "--seller",
    "olga",
]


def prepared(home: Path, tmp_path: Path) -> Path:
    result = ledger("submit", str(write_batch(tmp_path / "setup.jsonl", *SETUP)), "--home", str(home))
    assert result.returncode == 0, result.stderr
    for venue, kind in (("minsk", "htp_platform"), ("offshore", "foreign_exchange")):
        added = ledger(
            "venues",
            "add",
            venue,
            "--name",
            venue.title(),
            "--kind",
            kind,
            "--assets",
            "BYN,USDT",
            "--key",
            f"v-{venue}",
            "--home",
            str(home),
        )
        assert added.returncode == 0, added.stderr
    return home


def test_a_domestic_trade_is_accepted_and_a_foreign_one_recorded_as_rejected(home: Path, tmp_path: Path) -> None:
    prepared(home, tmp_path)
    accepted = ledger("trade", "--key", "t1", "--venue", "minsk", *TRADE, "--fee", "0.50", "--home", str(home))
    assert accepted.returncode == 0, accepted.stderr
    refused = ledger("trade", "--key", "t2", "--venue", "offshore", *TRADE, "--home", str(home), "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["rule"] == "FOREIGN_VENUE_FORBIDDEN"
    balances = json.loads(ledger("balances", "--home", str(home), "--json").stdout)
    assert {"account": "client:ales", "asset": "BYN", "amount": "66.50"} in balances
    report = json.loads(ledger("report", "compliance", "--home", str(home), "--json").stdout)
    assert set(report["by_rule"]) == set(RULE_VIOLATIONS)
    assert report["by_rule"]["FOREIGN_VENUE_FORBIDDEN"] == 1
    assert report["by_venue"] == {"offshore": 1}
    assert report["by_client"] == {"ales": 1}
    readable = ledger("report", "compliance", "--home", str(home))
    assert "FOREIGN_VENUE_FORBIDDEN" in readable.stdout


def test_a_delisted_venue_shows_as_such_and_refuses_trades(home: Path, tmp_path: Path) -> None:
    prepared(home, tmp_path)
    delisted = ledger("venues", "delist", "minsk", "--reason", "licence lapsed", "--key", "dl", "--home", str(home))
    assert delisted.returncode == 0, delisted.stderr
    venues = {v["venue_id"]: v for v in json.loads(ledger("venues", "list", "--home", str(home), "--json").stdout)}
    assert venues["minsk"]["listed"] is False
    assert venues["offshore"]["domestic"] is False
    refused = ledger("trade", "--key", "t3", "--venue", "minsk", *TRADE, "--home", str(home))
    assert refused.returncode == 1
    assert "VENUE_NOT_LISTED" in refused.stdout


def test_a_malformed_trade_is_one_clear_line_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    prepared(home, tmp_path)
    before = store_digest(home)
    bad = [*TRADE[:-1], "nobody"]
    for args in (
        ["--venue", "minsk", *bad],
        ["--venue", "nowhere", *TRADE],
        ["--venue", "minsk", *TRADE[:3], "10.0000001", *TRADE[4:]],
    ):
        result = ledger("trade", "--key", "t9", *args, "--home", str(home))
        assert result.returncode == 2, result.stdout
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert store_digest(home) == before
