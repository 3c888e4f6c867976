"""The bank's side of C2SP tlog-witness: every new checkpoint goes to the witnesses configured for it.

Witnesses are kept in the home's `witnesses.json` (`ledger audit witness add
URL KEY`). After a checkpoint is signed, each witness is sent it with a
consistency proof from the last size that witness cosigned; its cosignature
line is checked against the witness's key and stored beside the checkpoint
(`audit_cosignatures`, append-only), so the checkpoint is served and exported
with it. A witness that is down, slow or refuses costs a warning and is tried
again with the next checkpoint (or `ledger audit witness submit`); the ledger
goes on writing. A 409 names the size the witness holds: the submission is
made again from there when this log signed that size, and refused otherwise
(a witness holding a size this log never signed has seen another history).
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.audit.log import AuditLog, StoredCheckpoint
from ledger.audit.merkle import consistency_proof
from ledger.audit.notes import Note, NoteError, Verifier

WITNESSES_FILE = "witnesses.json"
SUBMIT_TIMEOUT_SECONDS = 3.0
_log = logging.getLogger(__name__)


class WitnessConfigError(Exception):
    """A witness that cannot be added as given; the message says why."""


@dataclass(frozen=True)
class WitnessEndpoint:
    url: str  # the submission prefix: add-checkpoint is POSTed to <url>/add-checkpoint
    key: str  # the witness's cosignature/v1 verifier key

    @property
    def verifier(self) -> Verifier:
        return Verifier.parse(self.key)

    @property
    def label(self) -> str:
        return f"{self.verifier.name}+{self.verifier.key_id.hex()}"


def configured(home: Path) -> list[WitnessEndpoint]:
    path = home / WITNESSES_FILE
    if not path.exists():
        return []
    return [WitnessEndpoint(item["url"], item["key"]) for item in json.loads(path.read_text())]


def add_witness(home: Path, url: str, key: str) -> WitnessEndpoint:
    if not url.startswith(("http://", "https://")):
        raise WitnessConfigError(f"{url!r}: a witness's submission prefix is an http:// or https:// URL")
    try:
        Verifier.parse(key)
    except NoteError as error:
        raise WitnessConfigError(f"{key!r} is not a witness key: {error}") from None
    endpoint = WitnessEndpoint(url.rstrip("/"), key)
    witnesses = [w for w in configured(home) if w.key != key]
    witnesses.append(endpoint)
    (home / WITNESSES_FILE).write_text(json.dumps([w.__dict__ for w in witnesses], indent=2) + "\n")
    return endpoint


def cosigned_sizes(audit: AuditLog, witness: WitnessEndpoint) -> list[int]:
    with audit.backend.read() as session:
        rows = session.fetchall(
            "SELECT tree_size FROM audit_cosignatures WHERE witness = ? ORDER BY tree_size", (witness.label,)
        )
    return [int(size) for (size,) in rows]


def submit_latest(audit: AuditLog, witnesses: list[WitnessEndpoint], timeout: float = SUBMIT_TIMEOUT_SECONDS) -> int:
    """Sends the latest checkpoint to every witness that has not cosigned it;
    returns how many cosigned it now."""
    latest = audit.latest_checkpoint()
    if latest is None or not witnesses:
        return 0
    import httpx  # noqa: PLC0415 (only with witnesses configured: opening a writer needs none of it)

    done = 0
    with httpx.Client(timeout=timeout) as client:
        for witness in witnesses:
            try:
                done += _submit(audit, client, witness, latest)
            except (httpx.HTTPError, WitnessRefused) as error:
                _log.warning(
                    "witness %s did not cosign the checkpoint of %d leaves: %s", witness.label, latest.size, error
                )
    return done


class WitnessRefused(Exception):
    pass


def _submit(audit: AuditLog, client: Any, witness: WitnessEndpoint, latest: StoredCheckpoint) -> int:
    sizes = cosigned_sizes(audit, witness)
    if sizes and sizes[-1] >= latest.size:
        return 0
    old = sizes[-1] if sizes else 0
    for _ in range(2):  # once from what we know, once from what a 409 says the witness holds
        response = client.post(f"{witness.url}/add-checkpoint", content=_body(audit, old, latest))
        _log.info(
            "checkpoint of %d leaves submitted to witness %s: %d",
            latest.size,
            witness.label,
            response.status_code,
            extra={"witness": witness.label, "size": latest.size, "old_size": old, "status": response.status_code},
        )
        if response.status_code == 200:
            _store(audit, witness, latest, response.text)
            return 1
        if response.status_code != 409:
            raise WitnessRefused(f"{response.status_code}: {response.text.strip()[:200]}")
        held = response.text.strip()
        if not held.isdecimal() or int(held) not in {c.size for c in audit.checkpoints()} | {0}:
            raise WitnessRefused(f"the witness holds size {held}, which this log never signed: another history?")
        old = int(held)
    raise WitnessRefused("the witness moved on while it was being asked")


def _body(audit: AuditLog, old: int, latest: StoredCheckpoint) -> bytes:
    lines = [f"old {old}"]
    if 0 < old < latest.size:
        with audit.tiled() as tiled:
            lines += [base64.b64encode(h).decode() for h in consistency_proof(old, latest.size, tiled.hash_range)]
    return ("\n".join(lines) + "\n\n" + latest.note).encode()


def _store(audit: AuditLog, witness: WitnessEndpoint, latest: StoredCheckpoint, answer: str) -> None:
    """Keeps the witness's own line, checked against its key (others it sent are ignored)."""
    note = Note.parse(latest.note)
    for line in answer.splitlines():
        candidate = Note.parse(note.encode() + line + "\n")
        if line.startswith("\u2014 ") and Note(note.text, candidate.signatures[-1:]).verified_by(witness.verifier):
            with audit.backend.views("audit") as session:
                session.execute(  # once: the table is append-only, and its guard refuses a key twice
                    "INSERT INTO audit_cosignatures SELECT ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM audit_cosignatures WHERE tree_size = ? AND witness = ?)",
                    (latest.size, witness.label, line, latest.size, witness.label),
                )
            return
    raise WitnessRefused("its answer carries no valid cosignature by its key")


def with_cosignatures(audit: AuditLog, checkpoint: StoredCheckpoint) -> str:
    """The checkpoint's note with the witnesses' cosignature lines after the log's."""
    with audit.backend.read() as session:
        if not session.has_table("audit_cosignatures"):
            return checkpoint.note
        rows = session.fetchall(
            "SELECT line FROM audit_cosignatures WHERE tree_size = ? ORDER BY witness", (checkpoint.size,)
        )
    return checkpoint.note + "".join(line + "\n" for (line,) in rows)
