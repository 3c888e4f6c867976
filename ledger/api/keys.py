"""Bearer keys for the HTTP service: made once, stored hashed, revocable, each with a role.

A key reads `ledger_<key id>_<secret>`: the key id (12 hex digits) names
it in logs and in `ledger api-key list`; the secret is 256 random bits,
printed once at creation and stored only as its SHA-256 (a slow password
hash buys nothing for a secret of that strength). The table lives in the
store, so every server on one PostgreSQL schema knows the same keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ledger.store.ports import Backend
from ledger.tables import API_KEYS_TABLE

KEY_PATTERN = re.compile(r"^ledger_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LABEL_LENGTH_MAX = 200


class Role(StrEnum):
    """operator submits and reads; viewer reads; supervisor reads everything, the audit endpoints too."""

    OPERATOR = "operator"
    VIEWER = "viewer"
    SUPERVISOR = "supervisor"


class ApiKeyError(Exception):
    """A key that cannot be made or revoked as asked; the message says why."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    role: Role
    label: str
    created_at: str
    revoked_at: str | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "key_id": self.key_id,
            "role": self.role.value,
            "label": self.label,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def create_key(backend: Backend, role: Role, *, label: str, now: datetime) -> tuple[ApiKey, str]:
    """A new key with `role`; returns it and its whole text, which is not stored."""
    if len(label) > LABEL_LENGTH_MAX:
        raise ApiKeyError(f"a label has at most {LABEL_LENGTH_MAX} characters, {len(label)} given")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(key_id, role, label, now.isoformat(), None)
    with backend.views("api-keys") as session:
        session.execute(
            f"INSERT INTO {API_KEYS_TABLE} VALUES (?, ?, ?, ?, ?, NULL)",  # noqa: S608 (a constant)
            (key_id, role.value, _digest(secret), label, key.created_at),
        )
    return key, f"ledger_{key_id}_{secret}"


def list_keys(backend: Backend) -> list[ApiKey]:
    with backend.read() as session:
        rows = session.fetchall(
            f"SELECT key_id, role, label, created_at, revoked_at FROM {API_KEYS_TABLE} ORDER BY created_at, key_id"  # noqa: S608
        )
    return [ApiKey(key_id, Role(role), label, created, revoked) for key_id, role, label, created, revoked in rows]


def revoke_key(backend: Backend, key_id: str, *, now: datetime) -> ApiKey:
    """Revokes the key `key_id` from now on; refuses one that is unknown or revoked already."""
    with backend.views("api-keys") as session:
        rows = session.fetchall(
            f"SELECT role, label, created_at, revoked_at FROM {API_KEYS_TABLE} WHERE key_id = ?",  # noqa: S608
            (key_id,),
        )
        if not rows:
            raise ApiKeyError(f"no API key with id {key_id!r} (see 'ledger api-key list')")
        role, label, created, revoked = rows[0]
        if revoked is not None:
            raise ApiKeyError(f"API key {key_id} was revoked already, at {revoked}")
        session.execute(
            f"UPDATE {API_KEYS_TABLE} SET revoked_at = ? WHERE key_id = ?",  # noqa: S608
            (now.isoformat(), key_id),
        )
    return ApiKey(key_id, Role(role), label, created, now.isoformat())


def authenticate(backend: Backend, presented: str) -> ApiKey | None:
    """The live key that `presented` is, or None (unknown, malformed, wrong
    secret or revoked: the caller cannot tell which)."""
    match = KEY_PATTERN.match(presented)
    if match is None:
        return None
    key_id, secret = match.groups()
    with backend.read() as session:
        rows = session.fetchall(
            f"SELECT role, secret_sha256, label, created_at, revoked_at FROM {API_KEYS_TABLE} WHERE key_id = ?",  # noqa: S608
            (key_id,),
        )
    if not rows:
        return None
    role, stored, label, created, revoked = rows[0]
    if not hmac.compare_digest(stored, _digest(secret)) or revoked is not None:
        return None
    return ApiKey(key_id, Role(role), label, created, revoked)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
