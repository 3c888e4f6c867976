"""The supervisor as a witness: it cosigns a checkpoint (C2SP tlog-cosignature v1)
only after checking that the bundle extends the last checkpoint it cosigned.

So the bank cannot show two different histories to anyone holding the
witness's cosignatures: the second would fail the consistency check and never
be cosigned. The witness keeps its own home: its key, its name, and the last
checkpoint it cosigned.

The witness cosigns exactly the checkpoint bytes the verifier read and
verified (not the file read again), holds a lock on its home while it does,
and records the new checkpoint in its home before it writes the cosignature
into the bundle, so that no cosignature leaves it that its record does not
hold. Files are written as `ledger.audit.files` writes them: never through a
link, never outside the bundle or the home.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ledger.audit.files import CHECKPOINTS, FileProblem, Folder
from ledger.audit.notes import COSIGNATURE_V1, NOTE_SIZE_MAX, Checkpoint, Note, SignatureStatus, Verifier, cosign
from ledger.audit.verify import check_bundle
from ledger.keys import check_can_create, create_signing_key, load_signing_key

IDENTITY_SIZE_MAX = 64 << 10
FINDINGS_SHOWN = 5


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
        if self.identity_path.exists() or self.identity_path.is_symlink():
            raise WitnessError(f"{self.home} is a witness home already")
        if not name or "+" in name or any(ch.isspace() for ch in name):
            raise WitnessError(f"witness name {name!r} must be non-empty, without spaces or '+'")
        check_can_create(self.key_path, allow_unencrypted=allow_unencrypted_key)
        create_signing_key(self.key_path, allow_unencrypted=allow_unencrypted_key)
        with self._home() as home:
            home.write_new(self.identity_path.name, (json.dumps({"name": name}) + "\n").encode(), durable=True)
        return self.verifier().encode()

    @property
    def name(self) -> str:
        with self._home() as home:
            if home.kind(self.identity_path.name) is None:
                raise WitnessError(f"{self.home} is not a witness home: run 'ledger audit witness-init' first")
            data = home.read(self.identity_path.name, IDENTITY_SIZE_MAX)
        try:
            identity = json.loads(data)
            name = identity["name"]
        except (ValueError, KeyError, TypeError):
            raise WitnessError(f"{self.identity_path}: not a witness identity") from None
        if not isinstance(name, str):
            raise WitnessError(f"{self.identity_path}: not a witness identity")
        return name

    def verifier(self) -> Verifier:
        return Verifier(self.name, COSIGNATURE_V1, load_signing_key(self.key_path).public_key())

    def cosign_bundle(self, bundle: Path, log_key: str, *, now: int | None = None) -> Note:
        """Checks the bundle against the last cosigned checkpoint, then cosigns its
        latest checkpoint, in the witness's home and then in the bundle."""
        verifier = self.verifier()
        with self._home() as home, _locked(home), _bundle(bundle) as folder:
            last = home.read(self.last_path.name, NOTE_SIZE_MAX) if home.kind(self.last_path.name) else None
            check = check_bundle(folder, log_key, trusted=last)
            if check.findings or check.latest is None:
                details = "; ".join(str(f) for f in check.findings[:FINDINGS_SHOWN])
                raise WitnessError(
                    f"refusing to cosign: the bundle does not extend what was cosigned before ({details})"
                )
            note = check.latest
            status = note.signature_by(verifier)
            if status is SignatureStatus.VALID:
                return note
            if status is SignatureStatus.INVALID:
                raise WitnessError(
                    f"refusing to cosign: the checkpoint has a line in {verifier.name}'s name that fails"
                )
            cosigned = cosign(note, verifier.name, load_signing_key(self.key_path), int(now or time.time()))
            encoded = cosigned.encode().encode()
            home.replace(self.last_path.name, encoded)
            size = str(Checkpoint.parse(note.text).size)
            try:
                with folder.folder(CHECKPOINTS) as checkpoints:
                    checkpoints.replace(size, encoded)
            except FileProblem as error:
                raise WitnessError(
                    f"cosigned, but the cosignature could not be written into the bundle: {error}"
                ) from None
        return cosigned

    @contextlib.contextmanager
    def _home(self) -> Iterator[Folder]:
        try:
            with Folder.open(self.home) as home:
                yield home
        except FileProblem as error:
            raise WitnessError(str(error)) from None


@contextlib.contextmanager
def _bundle(path: Path) -> Iterator[Folder]:
    """The bundle's folder, open from before it is verified until the cosignature is written into it."""
    try:
        folder = Folder.open(path, follow=False)
    except FileProblem as error:
        raise WitnessError(f"refusing to cosign: {error}") from None
    with folder:
        yield folder


_LOCK = ".lock"


@contextlib.contextmanager
def _locked(home: Folder) -> Iterator[None]:
    """One cosigning at a time per witness home: two at once could each cosign one of two forks."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(_LOCK, flags, 0o600, dir_fd=home.descriptor)
    except OSError as error:
        raise WitnessError(f"{home.where(_LOCK)}: cannot be opened as the witness's lock: {error.strerror}") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
