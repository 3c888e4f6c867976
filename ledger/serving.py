"""The serving lock: every `ledger serve` of a store holds it shared; a reset takes it alone.

A reset replaces the store under every writer that has it open: a server's
writer would go on deciding on the old state (PostgreSQL), or commit into
the deleted file (SQLite) and acknowledge what nobody will read. So a reset
is refused while any other server serves the store: reset through that
server (`POST /v1/sandbox/reset`) or stop it first. On SQLite the lock is
`flock` on a file beside the database; on PostgreSQL a session advisory
lock on the schema's name, held on a connection of the server's own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from typing import Any

from ledger.store.ports import StoreLocation


class StoreServed(Exception):
    """Another server serves the store: the message says what to do instead."""


class ServingLock:
    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self._held = False
        self._file: int | None = None
        self._connection: Any = None

    def hold(self) -> None:
        """Held shared until `release`: waits only while a reset runs."""
        if self.location.postgres is not None:
            self._connection = self._connection or _connect(self.location)
            self._connection.execute("SELECT pg_advisory_lock_shared(hashtext(%s))", (self._name(),))
        else:
            self._file = self._file if self._file is not None else os.open(self._path(), os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._file, fcntl.LOCK_SH)
        self._held = True

    def keep(self) -> None:
        """Takes the lock again if PostgreSQL ended the connection that held
        it (a restart, an administrator): a session lock ends with its
        session. A server calls this every few seconds."""
        if not self._held or self._connection is None or self._alive():
            return
        with contextlib.suppress(Exception):
            self._connection.close()
        self._connection = None
        self.hold()

    def _alive(self) -> bool:
        import psycopg  # noqa: PLC0415 (the PostgreSQL extra's)

        try:
            self._connection.execute("")
        except psycopg.Error:
            return False
        return True

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        if self._connection is not None:
            if self._alive():
                self._connection.execute("SELECT pg_advisory_unlock_shared(hashtext(%s))", (self._name(),))
        elif self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)

    def close(self) -> None:
        self.release()
        if self._connection is not None:
            with contextlib.suppress(Exception):  # a connection the server ended holds nothing
                self._connection.close()
            self._connection = None
        if self._file is not None:
            os.close(self._file)
            self._file = None

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        """The lock alone (this lock's own shared hold let go meanwhile, and
        taken again after), or `StoreServed` at once if another server holds it."""
        was_held = self._held
        self.release()
        try:
            if self.location.postgres is not None:
                with _connect(self.location) as connection:
                    (taken,) = connection.execute(
                        "SELECT pg_try_advisory_lock(hashtext(%s))", (self._name(),)
                    ).fetchone()
                    if not taken:
                        raise _served(self.location)
                    yield
            else:
                descriptor = os.open(self._path(), os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    try:
                        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        raise _served(self.location) from None
                    yield
                finally:
                    os.close(descriptor)  # lets the lock go
        finally:
            if was_held:
                self.hold()

    def _path(self) -> str:
        assert self.location.sqlite_path is not None
        return str(self.location.sqlite_path.with_name(self.location.sqlite_path.name + ".serving"))

    def _name(self) -> str:
        assert self.location.postgres is not None
        return f"{self.location.postgres.schema}:serving"


def _connect(location: StoreLocation) -> Any:
    from ledger.store.postgres import admin_connection  # noqa: PLC0415 (psycopg is the PostgreSQL extra's)

    assert location.postgres is not None
    return admin_connection(location.postgres)


def _served(location: StoreLocation) -> StoreServed:
    where = f"PostgreSQL schema {location.postgres.schema!r}" if location.postgres else str(location.sqlite_path)
    return StoreServed(
        f"a 'ledger serve' is serving {where}: reset it through that service (POST /v1/sandbox/reset), "
        "or stop every server first"
    )
