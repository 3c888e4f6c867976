"""Signed notes, checkpoints and cosignatures against the C2SP vectors."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.notes import Checkpoint, Note, NoteError, Signer, Verifier, cosign, open_checkpoint, sign

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "signed-note.json").read_text()
)["vectors"]


def signer_of(private_key: str) -> Signer:
    _, _, name, _, encoded = private_key.split("+", 4)
    return Signer(name, Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded)[1:]))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["name"])
def test_signed_note_vectors_verify_exactly_when_valid(vector: dict[str, Any]) -> None:
    verifier = Verifier.parse(vector["verifier_key"])
    assert verifier.encode() == vector["verifier_key"]
    assert Note.parse(vector["note"]).verified_by(verifier) is vector["valid"]


@pytest.mark.parametrize("vector", [v for v in VECTORS if "private_key" in v], ids=lambda v: v["name"])
def test_signing_reproduces_the_deterministic_signature(vector: dict[str, Any]) -> None:
    signer = signer_of(vector["private_key"])
    assert signer.verifier.encode() == vector["verifier_key"]
    assert sign(vector["text"], [signer]) == vector["note"]


def make_signer(name: str = "bank.example/log") -> Signer:
    return Signer(name, Ed25519PrivateKey.generate())


def test_a_checkpoint_round_trips_through_a_signed_note() -> None:
    signer = make_signer()
    checkpoint = Checkpoint("bank.example/log", 42, bytes(range(32)))
    note = sign(checkpoint.text(), [signer])
    opened, _ = open_checkpoint(note, [signer.verifier])
    assert opened == checkpoint


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    note = sign(Checkpoint("bank.example/log", 1, bytes(32)).text(), [make_signer()])
    with pytest.raises(NoteError, match="no valid signature"):
        open_checkpoint(note, [make_signer().verifier])


@pytest.mark.parametrize(
    "text",
    [
        "bank\n-1\nAAAA\n",
        "bank\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "\n1\nAAA=\n",
        "bank\n1\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_a_cosignature_verifies_under_the_witness_key_only() -> None:
    bank, witness = make_signer(), Ed25519PrivateKey.generate()
    note = Note.parse(sign(Checkpoint("bank.example/log", 7, bytes(32)).text(), [bank]))
    cosigned = cosign(note, "supervisor.example/witness", witness, 1_790_000_000)
    reparsed = Note.parse(cosigned.encode())
    witness_key = Verifier("supervisor.example/witness", 0x04, witness.public_key())
    assert reparsed.verified_by(witness_key)
    assert reparsed.verified_by(bank.verifier)
    other = Verifier("supervisor.example/witness", 0x04, Ed25519PrivateKey.generate().public_key())
    assert not reparsed.verified_by(other)
    assert Verifier.parse(witness_key.encode()) == witness_key
