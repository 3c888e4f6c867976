"""A witness process (C2SP tlog-witness) and a bank: checkpoints cosigned as they are signed, a fork refused."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.acceptance.cli import ledger, witness_serving, write_batch

pytestmark = pytest.mark.slow

ASSET = {"type": "register_asset", "key": "byn", "code": "BYN", "scale": 2, "kind": "fiat"}
CLIENT = {"type": "onboard_client", "key": "c", "client_id": "alesia", "name": "Alesia", "residency": "resident",
          "kind": "individual"}  # fmt: skip


def deposits(prefix: str, count: int) -> list[dict[str, object]]:
    return [{"type": "deposit", "key": f"{prefix}{n}", "client_id": "alesia", "asset": "BYN", "amount": "1.00",
             "reference": "r"} for n in range(count)]  # fmt: skip


def submit(home: Path, tmp_path: Path, *commands: dict[str, object]) -> subprocess.CompletedProcess[str]:
    return ledger("submit", str(write_batch(tmp_path / "batch.jsonl", *commands)), "--home", str(home))


def cosigners(note: str) -> list[str]:
    return [line.split(" ")[1] for line in note.splitlines() if line.startswith("\u2014 ")]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, str, Path, str]:
    witness_home = tmp_path / "nbrb"
    made = ledger("audit", "witness-init", "--witness-home", str(witness_home), "--name", "nbrb.example/witness",
                  "--sandbox-key")  # fmt: skip
    assert made.returncode == 0, made.stderr
    witness_key = made.stdout.strip().removeprefix("witness key: ")
    bank = tmp_path / "bank"
    made = ledger("init", "--home", str(bank), "--sandbox-key", "--checkpoint-every-events", "3")
    assert made.returncode == 0, made.stderr
    return witness_home, witness_key, bank, (bank / "keys" / "verifier-key.txt").read_text().strip()


def test_checkpoints_are_cosigned_as_signed_exported_with_the_cosignature_and_a_fork_is_refused(
    keys: tuple[Path, str, Path, str], tmp_path: Path
) -> None:
    witness_home, witness_key, bank, bank_key = keys
    with witness_serving(witness_home, bank_key) as url:
        assert ledger("audit", "witness", "add", url, witness_key, "--home", str(bank)).returncode == 0
        assert submit(bank, tmp_path, ASSET, CLIENT).returncode == 0
        fork = tmp_path / "fork"
        assert ledger("sandbox", "fork", str(fork), "--home", str(bank)).returncode == 0
        written = submit(bank, tmp_path, *deposits("d", 5))
        assert written.returncode == 0, written.stderr
        assert "did not cosign" not in written.stderr
        bundle = tmp_path / "bundle"
        assert ledger("audit", "export", str(bundle), "--home", str(bank)).returncode == 0
        latest = max(bundle.glob("checkpoints/*"), key=lambda path: int(path.name)).read_text()
        assert "nbrb.example/witness" in cosigners(latest)
        assert (bundle / "tiles" / "checkpoint").read_text() == latest
        verified = ledger("audit", "verify", str(bundle), "--key", bank_key, "--witness-key", witness_key)
        assert verified.returncode == 0, verified.stdout + verified.stderr

        # The fork tells another story from the same start: the witness cosigned the first, never this.
        forked = submit(fork, tmp_path, *deposits("other", 5))
        assert forked.returncode == 0, forked.stderr  # the fork's own writes go on
        assert "did not cosign" in forked.stderr
        retried = ledger("audit", "witness", "submit", "--home", str(fork))
        assert retried.returncode == 75
        fork_bundle = tmp_path / "fork-bundle"
        assert ledger("audit", "export", str(fork_bundle), "--home", str(fork)).returncode == 0
        fork_latest = max(fork_bundle.glob("checkpoints/*"), key=lambda path: int(path.name)).read_text()
        assert "nbrb.example/witness" not in cosigners(fork_latest)


def test_the_bank_keeps_writing_while_its_witness_is_down_and_is_cosigned_when_it_is_back(
    keys: tuple[Path, str, Path, str], tmp_path: Path
) -> None:
    witness_home, witness_key, bank, bank_key = keys
    with witness_serving(witness_home, bank_key) as url:
        assert ledger("audit", "witness", "add", url, witness_key, "--home", str(bank)).returncode == 0
        assert submit(bank, tmp_path, ASSET, CLIENT).returncode == 0
    down = submit(bank, tmp_path, *deposits("d", 5))
    assert down.returncode == 0, down.stderr
    assert "did not cosign" in down.stderr
    port = int(url.rsplit(":", 1)[1])
    with witness_serving(witness_home, bank_key, port) as again:  # back, where the bank knows it
        assert again == url
        retried = ledger("audit", "witness", "submit", "--home", str(bank))
        assert retried.returncode == 0, retried.stdout + retried.stderr
        again_nothing_to_do = ledger("audit", "witness", "submit", "--home", str(bank))
        assert again_nothing_to_do.returncode == 0, again_nothing_to_do.stdout  # held already: not a failure
        assert "1 of 1 witnesses hold a cosignature" in again_nothing_to_do.stdout


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            b"old 0\n\nunknown.example/log\n1\n"
            + base64.b64encode(bytes(32))
            + b"\n\n\xe2\x80\x94 unknown.example/log "
            + base64.b64encode(bytes(68))
            + b"\n",
            404,
        ),
        (b"old 01\n\nx\n", 400),
        (b"old 0\r\n\r\nx\r\n", 400),
        (b"new 0\n\nx\n", 400),
    ],
)
def test_the_witness_answers_malformed_or_unknown_submissions_as_the_spec_says(
    keys: tuple[Path, str, Path, str], body: bytes, status: int
) -> None:
    witness_home, _, _, bank_key = keys
    with witness_serving(witness_home, bank_key) as url:
        response = httpx.post(f"{url}/add-checkpoint", content=body)
    assert response.status_code == status, response.text
