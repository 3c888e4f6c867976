"""The `ledger` command as a user runs it: in a subprocess, on a real sandbox."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

import ledger as package
from tests.acceptance.cli import ledger, store_digest, write_batch

VERIFIER_KEY = re.compile(r"^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$")


def test_init_creates_the_store_the_identity_and_an_owner_only_signing_key(tmp_path: Path) -> None:
    home = tmp_path / "sandbox"
    result = ledger("init", "--home", str(home), "--bank-name", "Nioman Crypto Bank JSC")
    assert result.returncode == 2
    assert "LEDGER_KEY_PASSPHRASE" in result.stderr
    assert not home.exists()

    result = ledger("init", "--home", str(home), env={"LEDGER_KEY_PASSPHRASE": "correct horse"})
    assert result.returncode == 0, result.stderr
    key_line = result.stdout.strip().splitlines()[-1].removeprefix("verifier key: ")
    assert VERIFIER_KEY.match(key_line), key_line
    key_file = home / "keys" / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert (home / "ledger.sqlite").exists()
    assert json.loads((home / "bank.json").read_text())["name"] == "Zubr Crypto Bank JSC"


def test_init_refuses_a_home_that_is_initialised_already(home: Path) -> None:
    before = store_digest(home)
    result = ledger("init", "--home", str(home), "--sandbox-key")
    assert result.returncode == 2
    assert "initialised already" in result.stderr
    assert store_digest(home) == before


def test_demo_runs_in_a_fresh_home_and_again_without_changing_anything(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    first = ledger("demo", "--home", str(home))
    assert first.returncode == 0, first.stderr
    assert "SUPPLY_CAP_EXCEEDED" in first.stdout
    assert "ISSUER_NOT_LICENSED" in first.stdout
    assert "nothing written" in first.stdout
    balances = ledger("balances", "--home", str(home), "--json")
    again = ledger("demo", "--home", str(home))
    assert again.returncode == 0, again.stderr
    assert "repeat: nothing written" in again.stdout
    assert ledger("balances", "--home", str(home), "--json").stdout == balances.stdout


def test_demo_runs_in_a_home_that_init_prepared(home: Path) -> None:
    result = ledger("demo", "--home", str(home))
    assert result.returncode == 0, result.stderr
    rows = json.loads(ledger("balances", "--home", str(home), "--json").stdout)
    assert {"account": "client:alesia", "asset": "SVT", "amount": "7500.00"} in rows


ONBOARD = {
    "type": "onboard_client",
    "key": "c1",
    "client_id": "ales",
    "name": "Ales",
    "residency": "resident",
    "kind": "individual",
}
KYC = {"type": "verify_kyc", "key": "k1", "client_id": "ales"}
BYN = {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat"}


def deposit(amount: object, **changes: object) -> dict[str, object]:
    return {
        "type": "deposit",
        "key": "d1",
        "client_id": "ales",
        "asset": "BYN",
        "amount": amount,
        "reference": "in-1",
        **changes,
    }


def test_submit_commits_a_batch_and_reports_each_result(home: Path, tmp_path: Path) -> None:
    batch = write_batch(
        tmp_path / "batch.jsonl",
        ONBOARD,
        KYC,
        BYN,
        deposit("12.50"),
        {
            "type": "withdraw",
            "key": "w1",
            "client_id": "ales",
            "asset": "BYN",
            "amount": "20",
            "reference": "out-1",
        },
    )
    result = ledger("submit", str(batch), "--home", str(home), "--json")
    assert result.returncode == 0, result.stderr
    statuses = [(r["key"], r["status"], r["rule"]) for r in json.loads(result.stdout)]
    assert statuses[-2:] == [("d1", "accepted", None), ("w1", "rejected", "INSUFFICIENT_FUNDS")]
    rows = json.loads(ledger("balances", "--home", str(home), "--json").stdout)
    assert rows == [{"account": "client:ales", "asset": "BYN", "amount": "12.50"}]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (deposit(12.5), "amount: Input should be a valid string"),
        (deposit("NaN"), "not a plain decimal number"),
        (deposit("12.505"), "BYN has 2 decimal places, 3 given"),
        (deposit("0"), "must be greater than zero"),
        (deposit("-5"), "not a plain decimal number"),
        (deposit("9" * 45), "exceeds the ledger's limit"),
        (deposit("1", asset="EUR"), "unknown asset 'EUR'"),
        (deposit("1", client_id="nobody"), "unknown client 'nobody'"),
        (deposit("1", reference=7), "reference: Input should be a valid string"),
        (deposit("1", colour="red"), "unknown field 'colour' in deposit (deposit takes key, ledger_time"),
        (deposit("1", referenc="r"), "unknown field 'referenc' in deposit: did you mean 'reference'?"),
        ({"type": "depositt", "key": "x"}, "unknown command type 'depositt': did you mean 'deposit'? (ledger scenario"),
        ({"type": "pay_bribe", "key": "x"}, "unknown command type 'pay_bribe' (ledger scenario schema lists them all)"),
        ({"key": "x", "amount": "1"}, 'a command names its type, like {"type": "deposit", ...}'),
        ({"type": ["deposit"], "key": "x"}, "unknown command type \"['deposit']\": did you mean 'deposit'?"),
        ('{"type": "deposit", "key": ', "Invalid JSON"),
        (
            {"type": "register_issuer", "key": "i", "issuer_id": "x", "name": "X", "licensed": "yes"},
            "licensed: Input should be a valid boolean",
        ),
    ],
    ids=[
        "float",
        "nan",
        "decimals",
        "zero",
        "negative",
        "huge",
        "asset",
        "client",
        "type",
        "extra",
        "extra-close",
        "command-close",
        "command",
        "no-type",
        "type-not-text",
        "json",
        "bool",
    ],
)
def test_malformed_input_gets_one_clear_line_and_writes_nothing(
    home: Path, tmp_path: Path, line: dict[str, object] | str, message: str
) -> None:
    ledger("submit", str(write_batch(tmp_path / "setup.jsonl", ONBOARD, KYC, BYN)), "--home", str(home))
    before = store_digest(home)
    batch = write_batch(tmp_path / "batch.jsonl", deposit("1.00", key="fine"), line)
    result = ledger("submit", str(batch), "--home", str(home))
    assert result.returncode == 2
    assert message in result.stderr
    assert f"{batch}:2" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert store_digest(home) == before


def test_a_refused_command_names_the_code_of_its_error_kind_in_text_and_json(home: Path, tmp_path: Path) -> None:
    ledger("submit", str(write_batch(tmp_path / "setup.jsonl", ONBOARD, KYC, BYN)), "--home", str(home))
    before = store_digest(home)
    batch = write_batch(tmp_path / "batch.jsonl", deposit("1.00", key="fine"), deposit("0", key="zero"))
    text = ledger("submit", str(batch), "--home", str(home))
    assert text.returncode == 2
    assert "must be greater than zero (code AMOUNT_NOT_POSITIVE)" in text.stderr
    as_json = ledger("submit", str(batch), "--home", str(home), "--json")
    assert as_json.returncode == 2
    assert as_json.stdout == ""  # refused outright, nothing written: an error, on stderr
    assert json.loads(as_json.stderr)["error"]["refused"] == {
        "position": 1,
        "key": "zero",
        "code": "AMOUNT_NOT_POSITIVE",
        "message": "invalid amount '0.00' for BYN: must be greater than zero",
    }
    assert store_digest(home) == before


def test_a_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = ledger("balances", "--home", str(tmp_path), "--database-url", "mysql://x/y")
    assert result.returncode == 2
    assert "expected postgresql://" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_read_from_standard_input(home: Path) -> None:
    result = ledger("submit", "-", "--home", str(home), stdin=json.dumps(BYN) + "\n")
    assert result.returncode == 0, result.stderr
    assert "a1: accepted" in result.stdout


def test_an_unreachable_postgresql_server_is_one_clear_line_and_a_temporary_failure(tmp_path: Path) -> None:
    result = ledger("balances", "--home", str(tmp_path), "--database-url", "postgresql://postgres@127.0.0.1:1/test")
    assert result.returncode == 75
    assert "the PostgreSQL store could not be used" in result.stderr
    assert "Traceback" not in result.stderr


def test_reading_a_home_that_has_no_ledger_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "typo"
    for args in (["balances"], ["report", "compliance"], ["venues", "list"], ["replay", "--check"]):
        result = ledger(*args, "--home", str(home))
        assert result.returncode == 2, args
        assert "no ledger at" in result.stderr or "not initialised" in result.stderr
    assert not home.exists()


def test_a_new_signing_key_refuses_a_passphrase_shorter_than_the_minimum(tmp_path: Path) -> None:
    home = tmp_path / "sandbox"
    result = ledger("init", "--home", str(home), env={"LEDGER_KEY_PASSPHRASE": "short"})
    assert result.returncode == 2
    assert "at least 12" in result.stderr
    assert not home.exists()


def test_a_writer_with_the_wrong_passphrase_is_refused_before_it_writes_anything(tmp_path: Path) -> None:
    home = tmp_path / "sandbox"
    made = ledger("init", "--home", str(home), env={"LEDGER_KEY_PASSPHRASE": "correct horse battery"})
    assert made.returncode == 0, made.stderr
    before = store_digest(home)
    batch = write_batch(tmp_path / "in.jsonl", BYN)
    wrong = ledger("submit", str(batch), "--home", str(home), env={"LEDGER_KEY_PASSPHRASE": "wrong horse battery"})
    assert wrong.returncode == 2
    assert "is not its passphrase" in wrong.stderr
    assert store_digest(home) == before
    unsigned = ledger("submit", str(batch), "--home", str(home))  # no passphrase at all: written, and said so
    assert unsigned.returncode == 0, unsigned.stderr
    assert "checkpoints are not signed as this process writes" in unsigned.stderr


def test_the_home_its_keys_and_store_and_a_bundle_are_their_owners_alone(home: Path, tmp_path: Path) -> None:
    ledger("submit", str(write_batch(tmp_path / "in.jsonl", BYN)), "--home", str(home))
    bundle = tmp_path / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0
    for root in (home, bundle):
        for path in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(path.stat().st_mode)
            assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"
    assert (home / "ledger.sqlite").is_file()


def test_ledger_prints_its_version_which_the_package_also_gives() -> None:
    result = ledger("--version")
    assert result.returncode == 0
    assert result.stdout == f"ledger {package.__version__}\n"
    assert package.__version__ != "0+unknown"


def test_output_to_a_pipe_is_never_wrapped_so_each_row_stays_on_its_line(tmp_path: Path) -> None:
    home = tmp_path / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    table = ledger("transactions", "--home", str(home), "--limit", "3").stdout.splitlines()
    header = next(line for line in table if "Key" in line)
    assert "Type" in header
    assert "Ledger time" in header  # the last column, on the header's own line
    assert max(map(len, table)) > 80
    rows = [line for line in table if "demo:" in line]
    assert len(rows) == 3
    assert all(re.search(r"\d{4}-\d\d-\d\dT", row) for row in rows)  # each row whole, its time at its end
