"""The bank's Ed25519 signing key: created at `ledger init`, kept in the sandbox home.

The private key is PKCS#8 PEM, file mode 0600, encrypted with the passphrase in
`LEDGER_KEY_PASSPHRASE`, or typed at a prompt when that is empty and a person
is at the terminal; it is stored unencrypted only when the caller asks for a
sandbox key explicitly. The public half is published as a C2SP verifier
key, `name+hexkeyid+base64(0x01 || public key)`.
"""

from __future__ import annotations

import getpass
import os
import sys
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.audit.notes import ED25519, Verifier
from ledger.home import SigningKeyError

PASSPHRASE_ENV = "LEDGER_KEY_PASSPHRASE"  # noqa: S105 (the variable's name, not its value)
KEY_FILE_MODE = 0o600
KEYS_FOLDER_MODE = 0o700
PASSPHRASE_MIN_LENGTH = 12  # characters, for a new key; an existing key opens with the passphrase it has


class PassphraseMissing(SigningKeyError):
    """The key is encrypted and no passphrase was given (none set, no terminal to ask at)."""


@cache
def passphrase(*, confirm: bool = False) -> str:
    """The environment's passphrase, or one typed at the terminal (asked once a process)."""
    given = os.environ.get(PASSPHRASE_ENV, "")
    if given or sys.stdin is None or not sys.stdin.isatty():  # no terminal (CI, pipes): never prompt
        return given
    typed = getpass.getpass("Signing key passphrase: ")
    if confirm and typed != getpass.getpass("Again, to confirm: "):
        raise SigningKeyError("the two passphrases differ")
    return typed


def check_can_create(path: Path, *, allow_unencrypted: bool) -> None:
    """Refuses before anything is written: an existing key, no passphrase, or one too short."""
    if path.exists():
        raise SigningKeyError(f"{path} exists already: refusing to overwrite a signing key")
    secret = os.environ.get(PASSPHRASE_ENV, "") or ("" if allow_unencrypted else passphrase(confirm=True))
    if not allow_unencrypted and not secret:
        raise SigningKeyError(
            f"set {PASSPHRASE_ENV} to encrypt the signing key, "
            "or pass --sandbox-key to store it unencrypted in a sandbox"
        )
    if secret and len(secret) < PASSPHRASE_MIN_LENGTH:
        raise SigningKeyError(
            f"the passphrase is {len(secret)} characters long; a signing key's needs at least {PASSPHRASE_MIN_LENGTH}"
        )


def create_signing_key(path: Path, *, allow_unencrypted: bool) -> Ed25519PrivateKey:
    check_can_create(path, allow_unencrypted=allow_unencrypted)
    key = Ed25519PrivateKey.generate()
    write_signing_key(path, key, allow_unencrypted=allow_unencrypted)
    return key


def write_signing_key(path: Path, key: Ed25519PrivateKey, *, allow_unencrypted: bool) -> None:
    """Writes a new key file, mode 0600, encrypted unless a sandbox key is asked
    for and no passphrase is set."""
    secret = os.environ.get(PASSPHRASE_ENV, "") or ("" if allow_unencrypted else passphrase(confirm=True))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret.encode()) if secret else serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.parent.mkdir(mode=KEYS_FOLDER_MODE, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        raise SigningKeyError(f"no signing key at {path}: run 'ledger init' first")
    data = path.read_bytes()
    encrypted = b"ENCRYPTED" in data
    secret = passphrase().encode() if encrypted else b""
    if encrypted and not secret:
        raise PassphraseMissing(f"the signing key at {path} is encrypted: set {PASSPHRASE_ENV}")
    try:
        key = serialization.load_pem_private_key(data, password=secret or None)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"cannot read the signing key at {path}: the passphrase in {PASSPHRASE_ENV} is not its passphrase"
            if encrypted
            else f"cannot read the signing key at {path}: it is not a PEM private key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """The C2SP verifier key: name+hex(key id)+base64(0x01 || public key)."""
    return Verifier(name, ED25519, public_key).encode()
