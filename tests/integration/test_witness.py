"""The supervisor's witness cosigns only a history consistent with what it cosigned before."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from domain.commands import Deposit, Withdraw
from ledger import Sandbox
from ledger.audit.bundle import export_bundle
from ledger.audit.verify import verify_bundle
from ledger.audit.witness import Witness, WitnessError
from tests.integration.test_audit_bundle import NOW, sandbox_with_history


def export(sandbox: Sandbox, directory: Path) -> Path:
    with sandbox.open(auto_checkpoint=False) as ledger:
        export_bundle(ledger.audit, sandbox.signer(), directory, NOW)
    return directory


def submit(sandbox: Sandbox, command: Deposit | Withdraw) -> None:
    with sandbox.open() as ledger:
        ledger.submit([command])


@pytest.fixture
def witness(tmp_path: Path) -> Witness:
    witness = Witness(tmp_path / "witness")
    witness.init("nbrb.example/witness", allow_unencrypted_key=True)
    return witness


def test_a_cosigned_bundle_verifies_with_the_witness_key_and_an_uncosigned_one_does_not(
    tmp_path: Path, witness: Witness
) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    bundle = export(sandbox, tmp_path / "b1")
    plain = Path(shutil.copytree(bundle, tmp_path / "plain"))
    witness.cosign_bundle(bundle, sandbox.verifier_key())
    witness_key = witness.verifier().encode()
    assert verify_bundle(bundle, sandbox.verifier_key(), witness_key=witness_key) == []
    findings = [str(f) for f in verify_bundle(plain, sandbox.verifier_key(), witness_key=witness_key)]
    assert any("no valid cosignature by the witness" in f for f in findings)


def test_the_witness_cosigns_a_later_consistent_bundle(tmp_path: Path, witness: Witness) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    witness.cosign_bundle(export(sandbox, tmp_path / "b1"), sandbox.verifier_key())
    submit(sandbox, Deposit(key="more", client_id="nord", asset="BYN", amount="1", reference="r"))
    later = export(sandbox, tmp_path / "b2")
    note = witness.cosign_bundle(later, sandbox.verifier_key())
    assert note.verified_by(witness.verifier())


def test_a_bank_showing_two_histories_cannot_get_both_cosigned(tmp_path: Path, witness: Witness) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    shutil.copytree(tmp_path / "bank", tmp_path / "fork")
    fork = Sandbox.at(tmp_path / "fork")
    submit(sandbox, Deposit(key="shown", client_id="nord", asset="BYN", amount="1", reference="r"))
    submit(fork, Withdraw(key="hidden", client_id="nord", asset="BYN", amount="1", reference="r"))
    witness.cosign_bundle(export(sandbox, tmp_path / "honest"), sandbox.verifier_key())
    forked = export(fork, tmp_path / "forked")
    with pytest.raises(WitnessError, match="forked history"):
        witness.cosign_bundle(forked, sandbox.verifier_key())
