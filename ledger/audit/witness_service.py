"""The supervisor's witness as a service: C2SP tlog-witness `add-checkpoint` over HTTP.

A log sends `old <size>`, a consistency proof from that size, a blank line and
its new checkpoint. The witness checks the log's signature (404 for an origin
it does not know, 403 without a valid signature by a key it trusts, or with a
failing one that claims such a key), that `old` is the size it last cosigned
(409 with that size otherwise), and the proof (422), then records the new
checkpoint and answers its cosignature line. The check and the record are
one step under a lock, and the record is on disk (written whole, then
renamed) before the answer: a witness never rolls a log back, nor cosigns two
histories.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ledger.audit.merkle import EMPTY_ROOT, ProofError, verify_consistency
from ledger.audit.notes import Checkpoint, Note, NoteError, Verifier, cosign
from ledger.audit.witness import Witness
from ledger.keys import load_signing_key

BODY_BYTES_MAX = 64 * 1024
PROOF_LINES_MAX = 63
SIZE_MEDIA_TYPE = "text/x.tlog.size"
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,19})")
_HASH_LINE = re.compile(r"[A-Za-z0-9+/]{43}=")


class Refusal(Exception):
    def __init__(self, status: int, detail: str, *, body: str | None = None, media_type: str = "text/plain") -> None:
        super().__init__(detail)
        self.status, self.body, self.media_type = status, body if body is not None else detail + "\n", media_type


def parse_submission(body: bytes) -> tuple[int, list[bytes], str]:
    """The old size, proof hashes and checkpoint text of a request body, read
    as the spec says (LF-terminated lines, ASCII decimal, base64 hashes)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the body is not UTF-8") from None
    head, separator, note = text.partition("\n\n")
    lines = head.split("\n")
    if not separator or "\r" in text or not _OLD_LINE.fullmatch(lines[0]):
        raise Refusal(400, "expected 'old N', proof lines, a blank line and the checkpoint, each line ending in LF")
    if len(lines) - 1 > PROOF_LINES_MAX or not all(_HASH_LINE.fullmatch(line) for line in lines[1:]):
        raise Refusal(400, f"at most {PROOF_LINES_MAX} proof lines, each one base64 SHA-256 hash")
    return int(lines[0].removeprefix("old ")), [base64.b64decode(line) for line in lines[1:]], note


class WitnessService:
    """The witness's state: the logs it trusts and the last checkpoint it cosigned for each."""

    def __init__(self, witness: Witness, log_keys: list[str], clock: Callable[[], float] = time.time) -> None:
        self.witness = witness
        self.name = witness.name
        self.key = load_signing_key(witness.key_path)  # before serving: a wrong passphrase fails here
        self.logs: dict[str, list[Verifier]] = {}
        for key in log_keys:
            verifier = Verifier.parse(key)
            self.logs.setdefault(verifier.name, []).append(verifier)
        self.clock = clock
        self._lock = threading.Lock()
        (witness.home / "logs").mkdir(mode=0o700, exist_ok=True)

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for a submission, or a `Refusal`."""
        old, proof, note_text = parse_submission(body)
        try:
            note = Note.parse(note_text)
            checkpoint = Checkpoint.parse(note.text)
        except NoteError as error:
            raise Refusal(400, f"the checkpoint is malformed: {error}") from None
        verifiers = self.logs.get(checkpoint.origin)
        if verifiers is None:
            raise Refusal(404, f"this witness does not know the log {checkpoint.origin!r}")
        self._check_signatures(note, verifiers)
        if old > checkpoint.size:
            raise Refusal(400, f"old size {old} is beyond the checkpoint's size {checkpoint.size}")
        if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
            raise Refusal(422, "a checkpoint of size 0 has the empty tree's root")
        with self._lock:
            last_size, last_root = self._last(checkpoint.origin)
            if old != last_size:
                raise Refusal(
                    409, f"the last cosigned size is {last_size}", body=f"{last_size}\n", media_type=SIZE_MEDIA_TYPE
                )
            self._check_consistency(old, last_root, proof, checkpoint)
            timestamp = int(self.clock())
            cosigned = cosign(note, self.name, self.key, timestamp)
            self._record(checkpoint, cosigned)
        name, blob = cosigned.signatures[-1]
        return f"\u2014 {name} {base64.b64encode(blob).decode()}\n"

    @staticmethod
    def _check_signatures(note: Note, verifiers: list[Verifier]) -> None:
        trusted = [v for v in verifiers if note.verified_by(v)]
        claimed = {(v.name, v.key_id) for v in verifiers}
        failing = [
            name
            for name, blob in note.signatures
            if (name, blob[:4]) in claimed and not _verifies(note, name, blob, verifiers)
        ]
        if not trusted or failing:
            raise Refusal(403, "no valid signature by a key this witness trusts for the log")

    @staticmethod
    def _check_consistency(old: int, last_root: bytes, proof: list[bytes], checkpoint: Checkpoint) -> None:
        if old == 0:
            if proof:
                raise Refusal(422, "from size 0 the consistency proof is empty")
            return
        try:
            verify_consistency(old, checkpoint.size, last_root, checkpoint.root, proof)
        except ProofError as error:
            raise Refusal(422, f"the checkpoint is not consistent with the one cosigned before: {error}") from None

    def _state_path(self, origin: str) -> Path:
        return self.witness.home / "logs" / hashlib.sha256(origin.encode()).hexdigest()

    def _last(self, origin: str) -> tuple[int, bytes]:
        path = self._state_path(origin)
        if not path.exists():
            return 0, EMPTY_ROOT
        state = json.loads(path.read_text())
        return int(state["size"]), base64.b64decode(state["root"])

    def _record(self, checkpoint: Checkpoint, cosigned: Note) -> None:
        path = self._state_path(checkpoint.origin)
        state = {"origin": checkpoint.origin, "size": checkpoint.size,
                 "root": base64.b64encode(checkpoint.root).decode(), "checkpoint": cosigned.encode()}  # fmt: skip
        scratch = path.with_suffix(".new")
        descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(json.dumps(state) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)


def _verifies(note: Note, name: str, blob: bytes, verifiers: list[Verifier]) -> bool:
    alone = Note(note.text, ((name, blob),))
    return any(alone.verified_by(v) for v in verifiers if v.name == name and v.key_id == blob[:4])


def create_witness_app(service: WitnessService) -> Starlette:
    async def add_checkpoint(request: Request) -> Response:
        try:
            line = service.add_checkpoint(await _body(request))
        except Refusal as refusal:
            return PlainTextResponse(refusal.body, status_code=refusal.status, media_type=refusal.media_type)
        return PlainTextResponse(line)

    return Starlette(routes=[Route("/add-checkpoint", add_checkpoint, methods=["POST"])])


async def _body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > BODY_BYTES_MAX:
            raise Refusal(413, f"a body of at most {BODY_BYTES_MAX} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


__all__ = ["Refusal", "WitnessService", "create_witness_app", "parse_submission"]
