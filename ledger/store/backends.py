"""Opening a store's backend, as it is (see `ledger.store.schema.open_store`)."""

from __future__ import annotations

from ledger.store.ports import Backend, StoreLocation


def open_backend(location: StoreLocation, *, create_tables: bool = False) -> Backend:
    """The backend of a store, as it is: nothing is checked or created unless
    `create_tables` (see `ledger.store.schema.open_store`, which decides)."""
    env = location.env() | {"CREATE_TABLE": "yes" if create_tables else "no"}
    if location.postgres is not None:
        # Imported here so that the embedded default needs no PostgreSQL driver.
        from ledger.store.postgres import PostgresBackend, ensure_postgres_schema  # noqa: PLC0415

        if create_tables:
            ensure_postgres_schema(location.postgres)
        return PostgresBackend(location, env)
    from ledger.store.sqlite import SQLiteBackend  # noqa: PLC0415

    assert location.sqlite_path is not None
    if create_tables:
        location.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteBackend(location, env)
