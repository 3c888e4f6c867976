"""Reads survive any stored event: awkward but valid text goes in through real commands and comes out intact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.cli import ledger, write_batch

# Every plane (1, 2, 3, the tags of 14, private use of 15 and 16), right-to-left
# text with its marks, overrides and isolates, combining marks, joiners, quotes,
# markup for HTML and for the terminal, and a backslash.
PLANES = "\U00010348\U00020000\U00030000\U000e0041\U000f0000\U0010fffd"
RTL = "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627\u200f \u202eabc\u202c \u2067x\u2069"
MARKS = "e\u0301\u0308 \u200b\u200d\ufeff \U0001f469\u200d\U0001f469\u200d\U0001f467"
QUOTES = "\"'` \\ <script>alert(1)</script> &amp; [bold]x[/bold] [/x] {0} %s"
NAME = (PLANES + " " + RTL + " " + MARKS + " " + QUOTES)[:200]
REFERENCE = (QUOTES + PLANES * 40)[:128]
NOTE = (RTL + "\u2028" + QUOTES + "\u2029" + PLANES * 100)[:500]
METADATA = {"note": NOTE, "order_id": "<b>A-1</b>"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "sqlite":
        yield {}
    else:
        yield {"LEDGER_DATABASE_URL": str(request.getfixturevalue("postgres_url"))}


def commands() -> list[dict[str, object]]:
    return [
        {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"},
        {"type": "onboard_client", "key": "c", "client_id": "nord", "name": NAME, "residency": "resident",
         "kind": "company", "metadata": METADATA},
        {"type": "verify_kyc", "key": "k", "client_id": "nord"},
        {"type": "deposit", "key": "d", "client_id": "nord", "asset": "BYN", "amount": "50000.00",
         "reference": REFERENCE, "metadata": METADATA},
        {"type": "withdraw", "key": "w", "client_id": "nord", "asset": "BYN", "amount": "90000.00",
         "reference": REFERENCE, "metadata": METADATA},
        {"type": "list_venue", "key": "v", "venue_id": "far", "name": NAME, "kind": "foreign_exchange",
         "assets": ["BYN"]},
        {"type": "delist_venue", "key": "v2", "venue_id": "far", "reason": REFERENCE},
        {"type": "initiate_settlement", "key": "s", "settlement_id": "EXP-1", "client_id": "nord",
         "direction": "export", "counterparty": NAME, "country": "DE", "contract_reference": REFERENCE,
         "asset": "BYN", "amount": "40000.00", "metadata": METADATA,
         "originator": {"name": NAME, "account": "client:nord", "customer_id": "NT-1", "country": "BY"},
         "beneficiary": {"name": NAME, "account": REFERENCE, "address": NAME, "country": "DE"}},
    ]  # fmt: skip


def read(*args: str, env: dict[str, str]) -> str:
    result = ledger(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


@pytest.mark.slow
def test_awkward_text_is_stored_and_every_report_reads_it_back_intact(tmp_path: Path, env: dict[str, str]) -> None:
    home = ["--home", str(tmp_path / "home")]
    read("init", *home, "--sandbox-key", env=env)
    submitted = json.loads(
        read("submit", str(write_batch(tmp_path / "b.jsonl", *commands())), *home, "--json", env=env)
    )
    assert [result["status"] for result in submitted].count("rejected") == 1  # the withdrawal: more than it holds

    transactions = json.loads(read("transactions", *home, "--json", "--limit", "500", env=env))["items"]
    assert {row["key"] for row in transactions if row["metadata"] == METADATA} == {"c", "d", "w", "s"}
    assert json.loads(read("transactions", "--key", "w", *home, "--json", env=env))["metadata"] == METADATA
    log = [json.loads(line) for line in read("log", *home, "--json", "--limit", "1000", env=env).splitlines()]
    stored = json.dumps([event["data"] for event in log], ensure_ascii=False)
    for text in (NAME, REFERENCE, NOTE):
        assert json.dumps(text, ensure_ascii=False)[1:-1] in stored
    assert NAME in read("report", "settlements", *home, "--json", env=env).encode().decode(
        "unicode_escape", "ignore"
    ) or (json.dumps(NAME)[1:-1] in read("report", "settlements", *home, "--json", env=env))
    read("report", "compliance", *home, "--json", env=env)
    for readable in (["balances"], ["transactions"], ["log"], ["report", "compliance"], ["report", "settlements"]):
        read(*readable, *home, env=env)

    out = tmp_path / "supervisor"
    read("report", "supervisor", "--out", str(out), *home, env=env)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)" in page
    read("replay", "--check", *home, env=env)
