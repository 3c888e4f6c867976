"""Opening a store's backend, as it is (see `ledger.store.schema.open_store`)."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from ledger.store.ports import Backend, StoreLocation

_log = logging.getLogger(__name__)


def open_backend(location: StoreLocation, *, create_tables: bool = False) -> Backend:
    """The backend of a store, as it is: nothing is checked or created unless
    `create_tables` (see `ledger.store.schema.open_store`, which decides)."""
    env = location.env() | {"CREATE_TABLE": "yes" if create_tables else "no"}
    if location.postgres is not None:
        # Imported here so that the embedded default needs no PostgreSQL driver.
        from ledger.store.postgres import PostgresBackend, ensure_postgres_schema  # noqa: PLC0415

        if create_tables:
            ensure_postgres_schema(location.postgres)
        backend: Backend = PostgresBackend(location, env)
    else:
        from ledger.store.sqlite import SQLiteBackend  # noqa: PLC0415

        assert location.sqlite_path is not None
        if create_tables:
            _create_owner_only(location.sqlite_path)
        backend = SQLiteBackend(location, env)
    _log.info("store opened", extra=_where(location, create_tables))
    return backend


def _where(location: StoreLocation, create_tables: bool) -> dict[str, object]:
    if location.postgres is not None:
        postgres = location.postgres
        where = {"conninfo": postgres.safe}  # the password masked
        return {"backend": "postgresql", "schema": postgres.schema, **where, "create_tables": create_tables}
    return {"backend": "sqlite", "path": str(location.sqlite_path), "create_tables": create_tables}


STORE_FILE_MODE = 0o600  # SQLite gives its -wal and -shm files the database file's mode
STORE_FOLDER_MODE = 0o700


def _create_owner_only(path: Path) -> None:
    """An empty SQLite file (SQLite takes an empty file as a new database)
    that only its owner may read, in a folder only its owner may enter."""
    path.parent.mkdir(mode=STORE_FOLDER_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, STORE_FILE_MODE))
