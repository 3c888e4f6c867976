"""Reading back from the command line: `ledger transactions` and `ledger log`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.cli import ledger, store_digest, write_batch

SPRING = {"campaign": "spring"}
# Every command dated, and the bank established before them: a command the
# ledger's clock dated would be today, and March would then be back-dated
# beyond the window.
ESTABLISHED_AT = "2026-02-28T00:00:00Z"
SET_UP_AT = "2026-02-28T09:00:00Z"
COMMANDS: list[dict[str, object]] = [
    {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat", "ledger_time": SET_UP_AT},
    *(
        {
            "type": "onboard_client",
            "key": f"c-{c}",
            "client_id": c,
            "name": c,
            "residency": "resident",
            "kind": "individual",
            "ledger_time": SET_UP_AT,
        }
        for c in ("ales", "nord")
    ),
    *({"type": "verify_kyc", "key": f"k-{c}", "client_id": c, "ledger_time": SET_UP_AT} for c in ("ales", "nord")),
    {
        "type": "deposit",
        "key": "d1",
        "client_id": "ales",
        "asset": "BYN",
        "amount": "12.50",
        "reference": "in-1",
        "ledger_time": "2026-03-01T10:00:00Z",
        "metadata": {**SPRING, "order_id": "A-1001"},
    },
    {
        "type": "withdraw",
        "key": "w1",
        "client_id": "nord",
        "asset": "BYN",
        "amount": "20",
        "reference": "out-1",
        "ledger_time": "2026-03-02T10:00:00Z",
    },
    {
        "type": "transfer",
        "key": "x1",
        "source_client_id": "ales",
        "target_client_id": "nord",
        "asset": "BYN",
        "amount": "2.50",
        "ledger_time": "2026-03-03T10:00:00Z",
        "metadata": SPRING,
    },
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "sandbox"
    result = ledger("init", "--home", str(home), "--sandbox-key", "--at", ESTABLISHED_AT)
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def filled(home: Path, tmp_path: Path) -> Path:
    result = ledger("submit", str(write_batch(tmp_path / "batch.jsonl", *COMMANDS)), "--home", str(home))
    assert result.returncode == 0, result.stderr
    return home


def transactions(home: Path, *args: str) -> dict[str, object]:
    result = ledger("transactions", "--home", str(home), "--json", *args)
    assert result.returncode == 0, result.stderr
    page: dict[str, object] = json.loads(result.stdout)
    return page


def keys(page: dict[str, object]) -> list[str]:
    return [str(item["key"]) for item in page["items"]]  # type: ignore[attr-defined]


def test_transactions_print_a_page_as_json_and_its_cursor_reads_on_to_the_oldest(filled: Path) -> None:
    everything = keys(transactions(filled, "--limit", "500"))
    assert everything[:3] == ["x1", "w1", "d1"]
    assert everything[-1] == "init:establish-bank"
    paged, cursor = [], None
    while True:
        page = transactions(filled, "--limit", "3", *(["--cursor", cursor] if cursor else []))
        paged += keys(page)
        if (cursor := page["next_cursor"]) is None:  # type: ignore[assignment]
            break
    assert paged == everything


def test_transactions_filter_by_metadata_client_status_type_and_ledger_time(filled: Path) -> None:
    assert keys(transactions(filled, "--metadata", "campaign=spring")) == ["x1", "d1"]
    assert keys(transactions(filled, "--metadata", "campaign=spring", "--metadata", "order_id=A-1001")) == ["d1"]
    assert keys(transactions(filled, "--client", "nord", "--status", "rejected")) == ["w1"]
    assert keys(transactions(filled, "--account", "client:ales", "--type", "transfer")) == ["x1"]
    window = transactions(filled, "--since", "2026-03-02T00:00:00Z", "--until", "2026-03-03T00:00:00Z")
    assert keys(window) == ["w1"]
    (rejection,) = window["items"]  # type: ignore[misc]
    assert (rejection["rule"], rejection["clients"], rejection["ledger_time"]) == (
        "INSUFFICIENT_FUNDS",
        ["nord"],
        "2026-03-02T10:00:00.000000Z",
    )


def test_one_transaction_is_shown_by_its_key_with_its_metadata(filled: Path) -> None:
    result = ledger("transactions", "--key", "d1", "--home", str(filled), "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert (row["command_type"], row["status"], row["metadata"]) == (
        "deposit",
        "accepted",
        {"campaign": "spring", "order_id": "A-1001"},
    )
    assert row["accounts"] == ["client:ales", "system:external"]
    shown = ledger("transactions", "--key", "d1", "--home", str(filled))
    assert '"order_id": "A-1001"' in shown.stdout


def test_the_table_shows_the_page_and_how_to_read_the_next(filled: Path) -> None:
    result = ledger("transactions", "--home", str(filled), "--limit", "2")
    assert result.returncode == 0, result.stderr
    assert "x1" in result.stdout
    assert "--cursor " in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cursor", "bm90LW91cnM"], "is not one this ledger made"),
        (["--limit", "0"], "limit must be a whole number from 1 to 500"),
        (["--limit", "501"], "limit must be a whole number from 1 to 500"),
        (["--status", "pending"], "status 'pending' is not one of accepted, rejected"),
        (["--since", "2026-03-01"], "needs a time zone"),
        (["--since", "yesterday"], "is not an RFC 3339 time"),
        (["--since", "2026-03-02T00:00:00Z", "--until", "2026-03-01T00:00:00Z"], "is not before until"),
        (["--metadata", "campaign"], "give it as KEY=VALUE"),
        (["--key", "nope"], "no transaction under key 'nope'"),
    ],
    ids=["cursor", "zero", "too-many", "status", "naive", "time", "window", "metadata", "key"],
)
def test_a_bad_option_is_one_line_exit_2_and_changes_nothing(filled: Path, args: list[str], message: str) -> None:
    before = store_digest(filled)
    result = ledger("transactions", "--home", str(filled), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert store_digest(filled) == before


def test_a_cursor_reused_with_other_filters_is_refused(filled: Path) -> None:
    cursor = transactions(filled, "--limit", "1", "--client", "ales")["next_cursor"]
    assert isinstance(cursor, str)
    result = ledger("transactions", "--home", str(filled), "--client", "nord", "--cursor", cursor)
    assert result.returncode == 2
    assert "made for other filters" in result.stderr


def test_the_log_prints_the_raw_events_as_json_lines_by_type_rule_and_position(filled: Path) -> None:
    result = ledger("log", "--home", str(filled), "--json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [event["position"] for event in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "BankEstablished"
    deposits = ledger("log", "--home", str(filled), "--json", "--type", "FundsDeposited", "--type", "FundsTransferred")
    assert [json.loads(line)["command_key"] for line in deposits.stdout.splitlines()] == ["d1", "x1"]
    (refusal,) = ledger("log", "--home", str(filled), "--json", "--rule", "INSUFFICIENT_FUNDS").stdout.splitlines()
    assert json.loads(refusal)["data"]["command"]["type"] == "withdraw"
    after = ledger("log", "--home", str(filled), "--json", "--after", str(len(events) - 2))
    assert [json.loads(line)["position"] for line in after.stdout.splitlines()] == [len(events) - 1, len(events)]
    tagged = next(event for event in events if event["command_key"] == "d1")
    assert tagged["data"]["metadata"] == {"campaign": "spring", "order_id": "A-1001"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "Deposit"], "unknown event type 'Deposit'"),
        (["--after", "-1"], "after must be a log position"),
        (["--limit", "1001"], "from 1 to 1000"),
    ],
)
def test_a_bad_log_option_is_one_line_exit_2(filled: Path, args: list[str], message: str) -> None:
    result = ledger("log", "--home", str(filled), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_metadata_beyond_its_limits_is_refused_naming_the_line_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    before = store_digest(home)
    bad = {**COMMANDS[0], "metadata": {"amount": 12}}
    result = ledger("submit", str(write_batch(tmp_path / "bad.jsonl", bad)), "--home", str(home))
    assert result.returncode == 2
    assert "bad.jsonl:1" in result.stderr
    assert "metadata value of 'amount' must be a string, not int" in result.stderr
    assert store_digest(home) == before


@pytest.mark.postgres
def test_transactions_read_back_from_postgresql(tmp_path: Path, postgres_url: str) -> None:
    home = tmp_path / "pg-home"
    store = ("--home", str(home), "--database-url", postgres_url)
    assert ledger("init", *store, "--sandbox-key", "--at", ESTABLISHED_AT).returncode == 0
    assert ledger("submit", str(write_batch(tmp_path / "batch.jsonl", *COMMANDS)), *store).returncode == 0
    result = ledger("transactions", *store, "--json", "--metadata", "campaign=spring")
    assert result.returncode == 0, result.stderr
    assert keys(json.loads(result.stdout)) == ["x1", "d1"]
    log = ledger("log", *store, "--json", "--rule", "INSUFFICIENT_FUNDS")
    assert [json.loads(line)["command_key"] for line in log.stdout.splitlines()] == ["w1"]
