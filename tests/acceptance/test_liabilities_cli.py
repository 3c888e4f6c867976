"""Proof of liabilities from the command line: the bank builds at a checkpoint,
a client checks their proof, the supervisor checks the totals against the
bundle's replay; a bank that understates what it owes, or points at another
checkpoint, is caught."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.audit.liabilities import parse_statement
from ledger.audit.notes import Note, sign
from ledger.sandbox import Sandbox
from tests.acceptance.cli import ledger


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path, Path]:
    """A demo bank, its key, its exported bundle and its liabilities build."""
    root = tmp_path_factory.mktemp("liabilities")
    home = root / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    key = ledger("audit", "key", "--home", str(home)).stdout.strip()
    bundle = root / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0
    built = ledger("audit", "liabilities", "build", "--out", str(root / "pol"), "--home", str(home), "--json")
    assert built.returncode == 0, built.stderr
    return home, key, bundle, root / "pol"


def client_in(build: Path) -> str:
    tree = json.loads((build / "tree.json").read_text())
    return str(tree["assets"]["BYN"][0]["client_id"])


def test_a_build_states_each_assets_client_total_at_the_latest_checkpoint(bank: tuple[Path, str, Path, Path]) -> None:
    home, _, bundle, build = bank
    statement = parse_statement(Note.parse((build / "liabilities.note").read_text()).text)
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert statement.checkpoint_size == manifest["tree_size"]
    assert {a.asset for a in statement.assets} >= {"BYN", "USDT", "BTC"}
    balances = json.loads(ledger("balances", "--home", str(home), "--json").stdout)
    clients = [row for row in balances if row["asset"] == "BYN" and row["account"].startswith("client:")]
    assert statement.asset("BYN").total == sum(Decimal(row["amount"]) * 100 for row in clients)
    assert oct((build / "tree.json").stat().st_mode & 0o777) == "0o600"


def test_a_client_verifies_their_proof_offline_and_the_supervisor_against_the_bundle(
    bank: tuple[Path, str, Path, Path], tmp_path: Path
) -> None:
    home, key, bundle, build = bank
    client = client_in(build)
    proof = tmp_path / "proof.json"
    proved = ledger("audit", "liabilities", "prove", "--client", client, "--tree", str(build), "--out", str(proof),
                    "--home", str(home))  # fmt: skip
    assert proved.returncode == 0, proved.stderr
    alone = ledger("audit", "liabilities", "verify", str(proof), "--key", key)
    assert alone.returncode == 0, alone.stderr
    assert f"of which client {client} holds:" in alone.stdout
    checked = ledger("audit", "liabilities", "verify", str(proof), "--key", key, "--bundle", str(bundle), "--json")
    assert checked.returncode == 0, checked.stdout
    result = json.loads(checked.stdout)
    assert result["verified"] is True
    assert result["kind"] == "proof"
    assert set(result["balances"][client]) == {e["asset"] for e in json.loads(proof.read_text())["entries"]}
    whole = ledger("audit", "liabilities", "verify", str(build), "--key", key, "--bundle", str(bundle))
    assert whole.returncode == 0, whole.stderr
    assert "its totals equal the bundle's replay" in whole.stdout


def lying(build: Path, home: Path, tmp_path: Path, old: str, new: str) -> Path:
    """The bank's statement with `old` changed to `new`, signed again by the bank's own key."""
    note = Note.parse((build / "liabilities.note").read_text())
    assert old in note.text
    forged = tmp_path / "forged.note"
    forged.write_text(sign(note.text.replace(old, new, 1), [Sandbox.at(home).signer()]))
    return forged


def test_a_bank_that_signs_an_understated_total_is_caught_by_the_bundles_replay(
    bank: tuple[Path, str, Path, Path], tmp_path: Path
) -> None:
    home, key, bundle, build = bank
    statement = parse_statement(Note.parse((build / "liabilities.note").read_text()).text)
    byn = statement.asset("BYN")
    forged = lying(
        build, home, tmp_path, f"asset BYN 2 {byn.clients} {byn.total} ", f"asset BYN 2 {byn.clients} {byn.total - 1} "
    )
    assert (
        ledger("audit", "liabilities", "verify", str(forged), "--key", key).returncode == 0
    )  # signed, so alone it holds
    result = ledger("audit", "liabilities", "verify", str(forged), "--key", key, "--bundle", str(bundle))
    assert result.returncode == 1
    assert f"BYN: the statement says {byn.total - 1} minor units" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_statement_pointing_at_another_checkpoint_is_caught(
    bank: tuple[Path, str, Path, Path], tmp_path: Path
) -> None:
    home, key, bundle, build = bank
    statement = parse_statement(Note.parse((build / "liabilities.note").read_text()).text)
    size = statement.checkpoint_size
    forged = lying(build, home, tmp_path, f"checkpoint {size} ", f"checkpoint {size - 1} ")
    result = ledger("audit", "liabilities", "verify", str(forged), "--key", key, "--bundle", str(bundle))
    assert result.returncode == 1
    assert f"checkpoint of {size - 1} leaves is not the bundle's tree at that size" in result.stderr


def test_a_tree_with_a_balance_changed_in_it_fails_and_names_the_asset(
    bank: tuple[Path, str, Path, Path], tmp_path: Path
) -> None:
    _, key, _, build = bank
    tree = json.loads((build / "tree.json").read_text())
    tree["assets"]["BYN"][0]["balance_minor"] = str(int(tree["assets"]["BYN"][0]["balance_minor"]) + 1)
    (tmp_path / "tree.json").write_text(json.dumps(tree))
    result = ledger("audit", "liabilities", "verify", str(tmp_path / "tree.json"), "--key", key)
    assert result.returncode == 1
    assert "BYN: the leaves sum to" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prove", "--client", "nobody"], "client 'nobody' holds nothing"),
        (["build", "--size", "7"], "no signed checkpoint of 7 leaves"),
        (["verify", "missing.json", "--key", "k"], "missing.json: no such file"),
    ],
)
def test_wrong_requests_are_one_line_errors(
    bank: tuple[Path, str, Path, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    home, _, _, build = bank
    extra = {"prove": ["--tree", str(build), "--out", str(tmp_path / "p.json"), "--home", str(home)],
             "build": ["--out", str(tmp_path / "out"), "--home", str(home)], "verify": []}[args[0]]  # fmt: skip
    result = ledger("audit", "liabilities", *args, *extra)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
