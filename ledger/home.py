"""The sandbox home: where a ledger keeps its SQLite file, its keys and its identity."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from domain.parties import PartyName

DEFAULT_HOME = Path("ledger-sandbox")
BATCH_SIZE_MAX = 10_000  # commands in one batch (one database transaction)
IDENTITY_FILE = "bank.json"
SIGNING_KEY_FILE = "keys/signing-key.pem"
VERIFIER_KEY_FILE = "keys/verifier-key.txt"
HOME_FOLDER_MODE = 0o700  # the home and its keys/ folder: only their owner may enter
ORIGIN_PATTERN = r"^[a-z0-9][a-z0-9.-]*(/[a-z0-9._-]+)*$"


class BankIdentity(BaseModel):
    """Who signs the audit trail: `origin` names the log in its checkpoints
    and the signing key in its verifier key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PartyName
    origin: str = Field(pattern=ORIGIN_PATTERN, max_length=200)
    nbrb_register_entry: str = Field(min_length=1, max_length=64)
    htp_resident: bool = True
    checkpoint_every_events: int = Field(default=1000, ge=1, le=10_000_000)
    checkpoint_every_seconds: int = Field(default=3600, ge=1, le=31_536_000)
    # Every write batch is signed at once as the signer's head (beside its
    # key); the checkpoints above are the ones kept in the store and bundles.
    sign_every_batch: bool = True


class SigningKeyError(Exception):
    """The signing key cannot be created or read; the message says why."""


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def identity_path(self) -> Path:
        return self.root / IDENTITY_FILE

    @property
    def signing_key_path(self) -> Path:
        return self.root / SIGNING_KEY_FILE

    def is_initialised(self) -> bool:
        return self.identity_path.exists()

    def read_identity(self) -> BankIdentity:
        return BankIdentity.model_validate_json(self.identity_path.read_text())

    def write_identity(self, identity: BankIdentity) -> None:
        self.root.mkdir(mode=HOME_FOLDER_MODE, parents=True, exist_ok=True)
        self.identity_path.write_text(json.dumps(identity.model_dump(), indent=2) + "\n")

    @property
    def verifier_key_path(self) -> Path:
        return self.root / VERIFIER_KEY_FILE

    def read_verifier_key(self) -> str | None:
        """The public half of the signing key, kept beside it so that opening
        the store can be checked without the passphrase (None in a home made
        before it was kept)."""
        path = self.verifier_key_path
        return path.read_text().strip() if path.exists() else None

    def write_verifier_key(self, verifier_key: str) -> None:
        self.verifier_key_path.parent.mkdir(mode=HOME_FOLDER_MODE, parents=True, exist_ok=True)
        self.verifier_key_path.write_text(verifier_key + "\n")
