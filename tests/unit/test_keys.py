"""The bank's verifier key is the C2SP string every signed-note tool reads."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.keys import verifier_key

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "signed-note.json"


def test_the_verifier_key_of_a_private_key_vector_matches_the_published_one() -> None:
    # The vectors must be there: a missing folder fails, it does not skip.
    vectors = json.loads(VECTORS.read_text())["vectors"]
    with_private_keys = [v for v in vectors if "private_key" in v]
    assert with_private_keys
    for vector in with_private_keys:
        _, _, name, _, encoded = vector["private_key"].split("+", 4)
        raw = base64.b64decode(encoded)
        assert raw[0] == 1
        key = Ed25519PrivateKey.from_private_bytes(raw[1:])
        assert verifier_key(name, key.public_key()) == vector["verifier_key"]
