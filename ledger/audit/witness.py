"""The supervisor as a witness: it cosigns a checkpoint (C2SP tlog-cosignature v1)
only after checking that the bundle extends the last checkpoint it cosigned.

So the bank cannot show two different histories to anyone holding the
witness's cosignatures: the second would fail the consistency check and never
be cosigned. The witness keeps its own home: its key, its name, and the last
checkpoint it cosigned.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from ledger.audit.notes import COSIGNATURE_V1, Note, Verifier, cosign
from ledger.audit.verify import Finding, verify_bundle
from ledger.keys import check_can_create, create_signing_key, load_signing_key


class WitnessError(Exception):
    """The witness refuses, or cannot act; the message says why."""


@dataclass(frozen=True)
class Witness:
    home: Path

    @property
    def key_path(self) -> Path:
        return self.home / "witness-key.pem"

    @property
    def identity_path(self) -> Path:
        return self.home / "witness.json"

    @property
    def last_path(self) -> Path:
        return self.home / "last-cosigned"

    def init(self, name: str, *, allow_unencrypted_key: bool) -> str:
        if self.identity_path.exists():
            raise WitnessError(f"{self.home} is a witness home already")
        if not name or "+" in name or any(ch.isspace() for ch in name):
            raise WitnessError(f"witness name {name!r} must be non-empty, without spaces or '+'")
        check_can_create(self.key_path, allow_unencrypted=allow_unencrypted_key)
        create_signing_key(self.key_path, allow_unencrypted=allow_unencrypted_key)
        self.identity_path.write_text(json.dumps({"name": name}) + "\n")
        return self.verifier().encode()

    @property
    def name(self) -> str:
        if not self.identity_path.exists():
            raise WitnessError(f"{self.home} is not a witness home: run 'ledger audit witness-init' first")
        return str(json.loads(self.identity_path.read_text())["name"])

    def verifier(self) -> Verifier:
        return Verifier(self.name, COSIGNATURE_V1, load_signing_key(self.key_path).public_key())

    def cosign_bundle(self, bundle: Path, log_key: str, *, now: int | None = None) -> Note:
        """Checks the bundle against the last cosigned checkpoint, then cosigns its
        latest checkpoint, in the bundle and in the witness's home."""
        last = self.last_path.read_text() if self.last_path.exists() else None
        findings: list[Finding] = verify_bundle(bundle, log_key, trusted=last)
        if findings:
            details = "; ".join(str(f) for f in findings[:5])
            raise WitnessError(f"refusing to cosign: the bundle does not extend what was cosigned before ({details})")
        size = json.loads((bundle / "manifest.json").read_text())["tree_size"]
        path = bundle / "checkpoints" / str(size)
        note = Note.parse(path.read_text())
        if note.verified_by(self.verifier()):
            return note
        cosigned = cosign(note, self.name, load_signing_key(self.key_path), int(now or time.time()))
        path.write_text(cosigned.encode())
        self.last_path.write_text(cosigned.encode())
        return cosigned
