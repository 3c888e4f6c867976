"""C2SP signed notes, checkpoints and cosignatures, with Ed25519.

A signed note is its text (ending in a newline), a blank line, and signature
lines `— <name> base64(key id || signature)`. A checkpoint's text is the
origin, the tree size and the base64 root hash, one per line. A cosignature
(C2SP tlog-cosignature) signs `cosignature/v1`, a `time` line and the
checkpoint text, with a timestamp in front of the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "
NOTE_SIZE_MAX = 1_000_000
SIGNATURES_MAX = 100


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or does not verify."""


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, algorithm: int, public_key: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + _raw(public_key)).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A named public key, as a C2SP verifier key `name+hexkeyid+base64(type || key)`."""

    name: str
    algorithm: int
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.algorithm, self.public_key)

    def encode(self) -> str:
        material = base64.b64encode(bytes([self.algorithm]) + _raw(self.public_key)).decode()
        return f"{self.name}+{self.key_id.hex()}+{material}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError(f"verifier key {text!r} is not name+keyid+key")
        name, hex_id, material = parts
        try:
            raw = base64.b64decode(material, validate=True)
            claimed = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise NoteError(f"verifier key {text!r} has a malformed key id or key") from None
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError(f"verifier key {text!r} is not an Ed25519 key")
        verifier = cls(name, raw[0], Ed25519PublicKey.from_public_bytes(raw[1:]))
        _check_name(name)
        if verifier.key_id != claimed:
            raise NoteError(f"verifier key {text!r}: the key id does not match the key")
        return verifier


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, ED25519, self.private_key.public_key())

    def sign_line(self, text: str) -> str:
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[tuple[str, bytes], ...]  # (key name, key id || signature)

    @classmethod
    def parse(cls, note: str) -> Note:
        if len(note) > NOTE_SIZE_MAX:
            raise NoteError("the note is too large")
        if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
            raise NoteError("the note has control characters")
        if not note.endswith("\n"):
            raise NoteError("the note does not end in a newline")
        split = note.rfind("\n\n")
        if split < 0:
            raise NoteError("the note has no blank line before its signatures")
        text, lines = note[: split + 1], note[split + 2 :].splitlines()
        if not lines or len(lines) > SIGNATURES_MAX:
            raise NoteError("the note has no signatures, or too many")
        return cls(text, tuple(_signature(line) for line in lines))

    def encode(self) -> str:
        lines = "".join(
            f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode()}\n" for name, blob in self.signatures
        )
        return f"{self.text}\n{lines}"

    def verified_by(self, verifier: Verifier) -> bool:
        """True when a signature line by this verifier's name and key id verifies."""
        message = self.text.encode()
        for name, blob in self.signatures:
            if name != verifier.name or blob[:4] != verifier.key_id:
                continue
            if verifier.algorithm == COSIGNATURE_V1:
                if len(blob) != 4 + 8 + 64:
                    continue
                (timestamp,) = struct.unpack(">Q", blob[4:12])
                message = cosigned_message(self.text, timestamp)
                signature = blob[12:]
            else:
                signature = blob[4:]
            try:
                verifier.public_key.verify(signature, message)
            except InvalidSignature:
                continue
            return True
        return False


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _signature(line: str) -> tuple[str, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"signature line {line[:40]!r} does not start with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    _check_name(name)
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError(f"the signature of {name!r} is not base64") from None
    if len(blob) < 5:
        raise NoteError(f"the signature of {name!r} is too short")
    return name, blob


def sign(text: str, signers: list[Signer]) -> str:
    assert text.endswith("\n"), "a note's text ends in a newline"
    return text + "\n" + "".join(signer.sign_line(text) for signer in signers)


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def cosign(note: Note, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> Note:
    """Adds a C2SP tlog-cosignature v1 line to a checkpoint note."""
    verifier = Verifier(name, COSIGNATURE_V1, private_key.public_key())
    signature = private_key.sign(cosigned_message(note.text, timestamp))
    blob = verifier.key_id + struct.pack(">Q", timestamp) + signature
    return Note(note.text, (*note.signatures, (name, blob)))


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash, each on its own line")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not origin:
            raise NoteError("the checkpoint's origin is empty")
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError(f"the checkpoint's tree size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise NoteError("the checkpoint's root hash is not base64") from None
        if len(root) != 32:
            raise NoteError(f"the checkpoint's root hash has {len(root)} bytes, not 32")
        return cls(origin, int(size_text), root)


def open_checkpoint(note_text: str, verifiers: list[Verifier]) -> tuple[Checkpoint, Note]:
    """Parses a signed checkpoint and returns it if any of `verifiers` signed it."""
    note = Note.parse(note_text)
    if not any(note.verified_by(verifier) for verifier in verifiers):
        names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers)
        raise NoteError(f"no valid signature by {names}")
    return Checkpoint.parse(note.text), note
