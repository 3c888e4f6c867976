"""C2SP signed notes, checkpoints and cosignatures, with Ed25519.

A signed note is its text (ending in a newline), a blank line, and signature
lines `— <name> base64(key id || signature)`. A checkpoint's text is the
origin, the tree size and the base64 root hash, one per line. A cosignature
(C2SP tlog-cosignature) signs `cosignature/v1`, a `time` line and the
checkpoint text, with a timestamp in front of the signature.

Parsing is at least as strict as Go's golang.org/x/mod/sumdb/note and
sumdb/tlog: UTF-8 with no control character but LF (a CR is refused, not
normalised), lines split at LF only, base64 in its one canonical form, key ids
as 8 lowercase hex digits, tree sizes in ASCII decimal without a sign or
leading zeros and below 2**63. A signature line that names a known key (its
name and key id) must verify: when one does not, the note is rejected under
that key even if another line by it verifies (`SignatureStatus.INVALID`), as
note.Open rejects it.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIGNATURE_PREFIX = "\u2014 "
NOTE_SIZE_MAX = 1_000_000  # bytes of a whole signed note (Go's sumdb/tlog bound on a tree note)
SIGNATURES_MAX = 100  # signature lines in a note (Go's note.Open; the spec asks for at least 16)
TREE_SIZE_MAX = 2**63 - 1  # Go's int64 tree sizes
TIMESTAMP_MAX = 2**63 - 1  # tlog-cosignature: a timestamp MUST NOT exceed it
ED25519_SIGNATURE_SIZE = 64
KEY_ID_SIZE = 4


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or does not verify."""


_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile("0|[1-9][0-9]{0,18}", re.ASCII)
_KEY_ID_HEX = re.compile("[0-9a-f]{8}", re.ASCII)


def b64decode_strict(text: str) -> bytes:
    """Standard base64 in its canonical form only (padded, no stray bits, no
    whitespace); raises `ValueError` otherwise."""
    if not text.isascii():
        raise ValueError("not base64: non-ASCII characters")
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise ValueError("not base64 in its canonical form")
    return raw


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
        """A C2SP verifier key, exactly: no surrounding spaces, a lowercase
        8-digit key id that matches the key, an Ed25519 (0x01) or Ed25519
        cosigner (0x04) key."""
        name, _, rest = text.partition("+")
        hex_id, _, material = rest.partition("+")
        if not rest or not material:
            raise NoteError(f"verifier key {text[:100]!r} is not name+keyid+key")
        _check_name(name)
        try:
            if not _KEY_ID_HEX.fullmatch(hex_id):
                raise ValueError("the key id is not 8 lowercase hex digits")
            raw = b64decode_strict(material)
            claimed = bytes.fromhex(hex_id)
        except ValueError:
            raise NoteError(f"verifier key {text[:100]!r} has a malformed key id or key") from None
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError(f"verifier key {text[:100]!r} is not an Ed25519 key")
        try:
            verifier = cls(name, raw[0], Ed25519PublicKey.from_public_bytes(raw[1:]))
        except ValueError:
            raise NoteError(f"verifier key {text[:100]!r} is not an Ed25519 key") from None
        if verifier.key_id != claimed:
            raise NoteError(f"verifier key {text[:100]!r}: the key id does not match the key")
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


class SignatureStatus(enum.Enum):
    """What a note's signature lines say about one key."""

    ABSENT = "no signature line names the key"
    VALID = "signed by the key"
    INVALID = "a signature line names the key but does not verify"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[tuple[str, bytes], ...]  # (key name, key id || signature)

    @classmethod
    def parse(cls, note: str) -> Note:
        """The text and signature lines of a signed note, by the rules of C2SP
        signed-note and Go's note.Open; raises `NoteError` for anything else."""
        if len(note) > NOTE_SIZE_MAX:  # a character is at least a byte: refused before encoding it
            raise NoteError(f"the note is larger than {NOTE_SIZE_MAX} bytes")
        try:
            size = len(note.encode())
        except UnicodeEncodeError:
            raise NoteError("the note is not valid UTF-8") from None
        if size > NOTE_SIZE_MAX:
            raise NoteError(f"the note is larger than {NOTE_SIZE_MAX} bytes")
        control = _CONTROL.search(note)
        if control:
            raise NoteError(f"the note has a control character ({control.group()!r}); only LF ends a line")
        split = note.rfind("\n\n")
        if split < 0:
            raise NoteError("the note has no blank line before its signatures")
        text, block = note[: split + 1], note[split + 2 :]
        if not block.endswith("\n"):
            raise NoteError("the note does not end in a newline after a signature line")
        lines = block[:-1].split("\n")
        if len(lines) > SIGNATURES_MAX:
            raise NoteError(f"the note has more than {SIGNATURES_MAX} signatures")
        return cls(text, tuple(_signature(line) for line in lines))

    def encode(self) -> str:
        lines = "".join(
            f"{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode()}\n" for name, blob in self.signatures
        )
        return f"{self.text}\n{lines}"

    def signature_by(self, verifier: Verifier) -> SignatureStatus:
        """VALID when a line names this verifier's key (its name and key id) and
        every such line verifies; INVALID when any such line fails, even beside
        one that verifies; ABSENT when no line names the key."""
        status = SignatureStatus.ABSENT
        for name, blob in self.signatures:
            if name != verifier.name or blob[:KEY_ID_SIZE] != verifier.key_id:
                continue  # another key's, to be ignored, even if it shares the name or the id
            if not _verifies(verifier, self.text, blob[KEY_ID_SIZE:]):
                return SignatureStatus.INVALID
            status = SignatureStatus.VALID
        return status

    def verified_by(self, verifier: Verifier) -> bool:
        """True when the note is signed by this verifier's key and no line naming the key fails."""
        return self.signature_by(verifier) is SignatureStatus.VALID


def _verifies(verifier: Verifier, text: str, signature: bytes) -> bool:
    message = text.encode()
    if verifier.algorithm == COSIGNATURE_V1:
        if len(signature) != 8 + ED25519_SIGNATURE_SIZE:
            return False
        (timestamp,) = struct.unpack(">Q", signature[:8])
        if timestamp > TIMESTAMP_MAX:
            return False
        message, signature = cosigned_message(text, timestamp), signature[8:]
    if len(signature) != ED25519_SIGNATURE_SIZE:
        return False
    try:
        verifier.public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError(f"key name {name[:100]!r} must be non-empty, without spaces or '+'")


def _signature(line: str) -> tuple[str, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"signature line {line[:40]!r} does not start with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    _check_name(name)
    try:
        blob = b64decode_strict(encoded)
    except ValueError:
        raise NoteError(f"the signature of {name[:100]!r} is not base64") from None
    if len(blob) < KEY_ID_SIZE + 1:
        raise NoteError(f"the signature of {name[:100]!r} is too short")
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
        """A C2SP tlog-checkpoint body: origin, tree size, root hash, then any
        non-empty extension lines, each ending in LF."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash, each on its own line")
        origin, size_text, root_text, extensions = lines[0], lines[1], lines[2], lines[3:-1]
        if not origin:
            raise NoteError("the checkpoint's origin is empty")
        if not _DECIMAL.fullmatch(size_text) or int(size_text) > TREE_SIZE_MAX:
            raise NoteError(
                f"the checkpoint's tree size {size_text[:40]!r} is not ASCII decimal without leading zeros, "
                f"at most {TREE_SIZE_MAX}"
            )
        try:
            root = b64decode_strict(root_text)
        except ValueError:
            raise NoteError("the checkpoint's root hash is not base64") from None
        if len(root) != 32:
            raise NoteError(f"the checkpoint's root hash has {len(root)} bytes, not 32")
        if any(not line for line in extensions):
            raise NoteError("the checkpoint has an empty extension line")
        return cls(origin, int(size_text), root)


def signer_of(note: Note, verifiers: Sequence[Verifier]) -> Verifier:
    """The first of `verifiers` that signed `note`; `NoteError` when none did,
    or when a signature line naming one of them fails."""
    statuses = [(verifier, note.signature_by(verifier)) for verifier in verifiers]
    for verifier, status in statuses:
        if status is SignatureStatus.INVALID:
            raise NoteError(f"the signature line of {verifier.name}+{verifier.key_id.hex()} does not verify")
    signed = [verifier for verifier, status in statuses if status is SignatureStatus.VALID]
    if not signed:
        names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers)
        raise NoteError(f"no valid signature: not signed by {names}")
    return signed[0]


def open_checkpoint(note_text: str, verifiers: list[Verifier]) -> tuple[Checkpoint, Note]:
    """Parses a signed checkpoint and returns it if any of `verifiers` signed it
    and no signature line naming one of them fails."""
    note = Note.parse(note_text)
    signer_of(note, verifiers)
    return Checkpoint.parse(note.text), note
