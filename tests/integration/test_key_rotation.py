"""Key rotation: the hand-over checkpoint carries both signatures, and trust passes only through it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key

from domain.commands import Deposit
from ledger import Sandbox
from ledger.audit.bundle import export_bundle
from ledger.audit.notes import Checkpoint, Note, Signer, Verifier, sign
from ledger.audit.verify import verify_bundle
from tests.integration.test_audit_bundle import NOW, sandbox_with_history


def deposit(sandbox: Sandbox, key: str) -> None:
    with sandbox.open() as ledger:
        ledger.submit([Deposit(key=key, client_id="nord", asset="BYN", amount="1", reference="r")])


def export(sandbox: Sandbox, directory: Path) -> Path:
    with sandbox.open(auto_checkpoint=False) as ledger:
        export_bundle(ledger.audit, sandbox.signer(), directory, NOW, verifier_keys=sandbox.verifier_keys())
    return directory


def test_a_rotated_log_verifies_under_the_old_key_and_under_the_new(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    deposit(sandbox, "before")
    old, new, hand_over = sandbox.rotate_key(allow_unencrypted_key=True)
    note = Note.parse(hand_over.note)
    assert note.verified_by(Verifier.parse(old))
    assert note.verified_by(Verifier.parse(new))
    deposit(sandbox, "after")
    bundle = export(sandbox, tmp_path / "bundle")
    assert json.loads((bundle / "manifest.json").read_text())["verifier_keys"] == [old, new]
    assert sandbox.verifier_key() == new
    assert verify_bundle(bundle, old) == []
    assert verify_bundle(bundle, new) == []


def test_the_new_key_is_not_trusted_without_the_hand_over(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    old, _, hand_over = sandbox.rotate_key(allow_unencrypted_key=True)
    deposit(sandbox, "after")
    bundle = export(sandbox, tmp_path / "bundle")
    copy = Path(shutil.copytree(bundle, tmp_path / "copy"))
    # Strip the new key's signature from the hand-over: nothing links the keys any more.
    note = Note.parse((copy / "checkpoints" / str(hand_over.size)).read_text())
    old_only = Note(note.text, tuple(s for s in note.signatures if s[1][:4] == Verifier.parse(old).key_id))
    (copy / "checkpoints" / str(hand_over.size)).write_text(old_only.encode())
    findings = [str(f) for f in verify_bundle(copy, old)]
    assert any("not signed by the given key" in f for f in findings), findings


def test_the_old_key_may_not_sign_after_the_hand_over(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    retired_key_file = sandbox.home.signing_key_path.read_bytes()
    old, _, _ = sandbox.rotate_key(allow_unencrypted_key=True)
    deposit(sandbox, "after")
    bundle = Path(shutil.copytree(export(sandbox, tmp_path / "bundle"), tmp_path / "copy"))
    manifest = json.loads((bundle / "manifest.json").read_text())
    latest = manifest["tree_size"]
    # Someone holding the retired key signs the latest checkpoint with it alone.
    retired = load_pem_private_key(retired_key_file, password=None)
    text = Note.parse((bundle / "checkpoints" / str(latest)).read_text()).text
    forged = sign(Checkpoint.parse(text).text(), [Signer(Verifier.parse(old).name, retired)])  # type: ignore[arg-type]
    (bundle / "checkpoints" / str(latest)).write_text(forged)
    findings = [str(f) for f in verify_bundle(bundle, old)]
    assert any(f"checkpoint {latest}: signed by a key retired before it" in f for f in findings), findings
