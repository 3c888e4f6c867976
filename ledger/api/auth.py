"""Who may do what: bearer keys checked per request, with a short cache, and the roles' permissions.

401 for a request without a valid key (missing, malformed, unknown, wrong
secret or revoked), 403 for a key whose role may not do it; neither writes
anything. A key's check is cached for `cache_seconds` (default 2 s), so a
revocation made by `ledger api-key revoke` reaches every server within that.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from enum import StrEnum

from starlette.concurrency import run_in_threadpool

from ledger.api.keys import ApiKey, Role, authenticate
from ledger.api.problems import ProblemError
from ledger.store.ports import Backend

KEY_CACHE_SECONDS = 2.0


class Permission(StrEnum):
    READ = "read"  # balances, transactions, events, reports
    WRITE = "write"  # commands and the sandbox's reset and clock
    AUDIT = "audit"  # the supervisor's endpoints


PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.OPERATOR: frozenset({Permission.READ, Permission.WRITE}),
    Role.SUPERVISOR: frozenset({Permission.READ, Permission.AUDIT}),
}


class KeyChecker:
    """Checks presented keys against the store, caching each answer briefly."""

    def __init__(self, lookup: Callable[[str], ApiKey | None], *, cache_seconds: float = KEY_CACHE_SECONDS) -> None:
        self._lookup = lookup
        self.cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[ApiKey, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def over(cls, backend: Backend, *, cache_seconds: float = KEY_CACHE_SECONDS) -> KeyChecker:
        return cls(lambda presented: authenticate(backend, presented), cache_seconds=cache_seconds)

    async def check(self, authorization: str | None, needs: Permission, *, seen: Callable[[ApiKey], None]) -> ApiKey:
        """The key of a request's `Authorization` header if it may do `needs`;
        otherwise a 401 or 403 problem. `seen` is told of a valid key before
        its role is checked (so that a refused request is logged with it).
        A key not in the cache is looked up on a worker thread, never on the
        event loop; only valid keys are cached (so unknown ones cannot push
        them out)."""
        presented = _presented(authorization)
        digest = hashlib.sha256(presented.encode()).digest()
        key = self._cached(digest)
        if key is None:
            key = await run_in_threadpool(self._lookup, presented)
            if key is None:
                raise _unauthorized("the key is not valid: unknown, mistyped or revoked")
            with self._lock:
                self._cache[digest] = (key, time.monotonic() + self.cache_seconds)
        seen(key)
        if needs not in PERMISSIONS[key.role]:
            raise ProblemError(
                403,
                "forbidden",
                "The key's role may not do this",
                f"key {key.key_id} has the role {key.role.value}, which may not {needs.value}; "
                f"roles that may: {', '.join(sorted(r.value for r, p in PERMISSIONS.items() if needs in p))}",
            )
        return key

    def _cached(self, digest: bytes) -> ApiKey | None:
        # Keyed by a digest, so that no secret is kept in memory longer than a request.
        with self._lock:
            found = self._cache.get(digest)
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]


def _presented(authorization: str | None) -> str:
    if authorization is None:
        raise _unauthorized("send 'Authorization: Bearer <key>' with a key from 'ledger api-key create'")
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise _unauthorized("the Authorization header must read 'Bearer <key>'")
    return presented.strip()


def _unauthorized(detail: str) -> ProblemError:
    error = ProblemError(401, "unauthorized", "No valid API key", detail)
    error.headers["WWW-Authenticate"] = 'Bearer realm="ledger"'
    return error
