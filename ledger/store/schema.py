"""The store's schema lifecycle: created by `ledger init`, upgraded by `ledger migrate`, checked by every open.

The store records its schema version, and the bank it belongs to, in the
`ledger_store` table. Only `create` and `migrate` run DDL. Every other open
calls `check`, which reads that table in a read-only transaction and refuses,
with one line and nothing created, a store that does not exist, holds no
ledger (a mistyped PostgreSQL schema), was made by an earlier release and
needs `ledger migrate`, or is at a version this release does not know.

Migrations are ordered; each runs in one transaction that also records the
version it reaches, so a migration that fails leaves the store as it was and
one that succeeded is never run again. Version 0 is a store made before the
schema was versioned (the first release): it has the library's tables and
`ledger_commands` but no `ledger_store`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ledger.progress import ProgressStart, no_progress
from ledger.store.backends import open_backend
from ledger.store.ports import Backend, StoreFacts, StoreLocation, WriteSession
from ledger.tables import (
    API_KEYS_COLUMNS,
    API_KEYS_TABLE,
    AUDIT_TABLES,
    SNAPSHOTS_COLUMNS,
    SNAPSHOTS_TABLE,
    STORE_TABLE,
    VIEW_TABLES,
    VIEWS_TRACKING_NAME,
    create_view_statements,
)

_log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
_STORE_COLUMNS = "key TEXT PRIMARY KEY, value TEXT NOT NULL"


class StoreNotReady(Exception):
    """The store cannot be opened as it is: missing, empty, or at another
    schema version. The message says which, and what to run."""


def stored_facts(backend: Backend) -> StoreFacts | None:
    """What the store records about itself, at any version (0: made before
    versions were recorded, by the first release); None for no ledger."""
    if not backend.exists():
        return None
    with backend.read() as session:
        if session.has_table(STORE_TABLE):
            rows = dict(session.fetchall(f"SELECT key, value FROM {STORE_TABLE}"))  # noqa: S608
            return StoreFacts.of({"schema_version": "0", **rows})
        return StoreFacts(0) if session.has_table(backend.events_table) else None


def check(backend: Backend) -> StoreFacts:
    """The store's facts, if this release can open it as it is; otherwise
    `StoreNotReady`, naming the store and what to do."""
    where = backend.describe()
    facts = stored_facts(backend)
    if facts is None:
        raise StoreNotReady(f"no ledger at {where} (check the name if it exists): run 'ledger init' first")
    if facts.schema_version > SCHEMA_VERSION:
        raise StoreNotReady(
            f"{where} is at schema version {facts.schema_version}; this release knows versions up to "
            f"{SCHEMA_VERSION}: upgrade the ledger to open it"
        )
    if facts.schema_version < SCHEMA_VERSION:
        raise StoreNotReady(
            f"{where} is at schema version {facts.schema_version}, this release needs {SCHEMA_VERSION}: "
            "run 'ledger migrate' first"
        )
    backend.facts = facts
    return facts


def open_store(location: StoreLocation, *, create: bool = False) -> Backend:
    """The backend of a store this release can use as it is. With `create`, a
    store that holds no ledger yet is created (as by `ledger init`); a store
    that exists is only checked, so an ordinary open runs no DDL."""
    backend = open_backend(location)
    try:
        if create and stored_facts(backend) is None:
            backend.close()
            backend = open_backend(location, create_tables=True)
            create_store(backend)
        check(backend)
    except BaseException:
        backend.close()
        raise
    return backend


def create_store(backend: Backend) -> None:
    """Creates every table, guard and view of a new store at the current
    version. The library's own tables are made by its recorders as the
    backend opens with `create`."""
    backend.tracking  # noqa: B018 (the library makes its tracking table on first use, before its guards)
    backend.set_up()
    with backend.views() as session:
        for statement in _tables(session.dialect):
            session.execute(statement)
        _record(session, {"schema_version": str(SCHEMA_VERSION)})


def migrate_store(location: StoreLocation, progress: ProgressStart = no_progress) -> list[int]:
    """Upgrades the store at `location` (see `migrate`); refuses, creating
    nothing, a store that holds no ledger."""
    backend = open_backend(location)
    try:
        if stored_facts(backend) is None:
            raise StoreNotReady(f"no ledger at {backend.describe()}: run 'ledger init' first")
    finally:
        backend.close()
    backend = open_backend(location, create_tables=True)
    try:
        return migrate(backend, progress)
    finally:
        backend.close()


def migrate(backend: Backend, progress: ProgressStart = no_progress) -> list[int]:
    """Upgrades the store to the current version, one migration at a time;
    returns the versions reached (none if it was current). The views a
    migration changed are brought up to the log's head again, and `progress`
    hears of the events applied (`ledger.progress`)."""
    facts = stored_facts(backend)
    if facts is None:
        raise StoreNotReady(f"no ledger at {backend.describe()}: run 'ledger init' first")
    version = facts.schema_version
    if version > SCHEMA_VERSION:
        raise StoreNotReady(f"{backend.describe()} is at schema version {version}, newer than this release")
    reached = []
    for target, step in MIGRATIONS.items():
        if target > version:
            backend.tracking  # noqa: B018
            backend.set_up()  # the guards, the commands and audit tables, idempotently
            with backend.views() as session:
                step(session)
                _record(session, {"schema_version": str(target)})
            reached.append(target)
            _log.info("schema migrated to version %d", target, extra={"schema_version": target})
    if reached:
        _rebuild_views(backend, progress)
    return reached


def _rebuild_views(backend: Backend, progress: ProgressStart) -> None:
    from ledger.projections import Projector  # noqa: PLC0415 (the schema's readers need no projector)

    with backend.read() as session:
        behind = backend.max_notification_id() - session.tracking_position(VIEWS_TRACKING_NAME)
    _log.info("views catching up: %d events", behind, extra={"events": behind})
    with progress("rebuilding views", total=behind, unit="events") as advance:
        Projector(backend).catch_up(progress=advance)


def record_bank(backend: Backend, *, origin: str, verifier_key: str) -> None:
    """Records the bank this store belongs to; refuses a store that has one."""
    with backend.views("store") as session:
        rows = dict(session.fetchall(f"SELECT key, value FROM {STORE_TABLE}"))  # noqa: S608
        if "verifier_key" in rows:
            raise StoreNotReady(f"{backend.describe()} belongs to {rows.get('origin')} already")
        _record(session, {"origin": origin, "verifier_key": verifier_key})
    backend.facts = StoreFacts.of({**rows, "origin": origin, "verifier_key": verifier_key})


def replace_verifier_key(backend: Backend, verifier_key: str) -> None:
    """After a key rotation: the store's key is the new one."""
    with backend.views("store") as session:
        session.execute(f"UPDATE {STORE_TABLE} SET value = ? WHERE key = 'verifier_key'", (verifier_key,))  # noqa: S608


def _tables(dialect: str) -> list[str]:
    return [
        f"CREATE TABLE IF NOT EXISTS {STORE_TABLE} ({_STORE_COLUMNS})",
        *create_view_statements(dialect),
        *(f"CREATE TABLE IF NOT EXISTS {table} ({columns})" for table, columns in AUDIT_TABLES.items()),
        f"CREATE TABLE IF NOT EXISTS {SNAPSHOTS_TABLE} ({SNAPSHOTS_COLUMNS})",
        f"CREATE TABLE IF NOT EXISTS {API_KEYS_TABLE} ({API_KEYS_COLUMNS})",
    ]


def _record(session: WriteSession, facts: dict[str, str]) -> None:
    session.executemany(
        f"INSERT INTO {STORE_TABLE} VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",  # noqa: S608
        list(facts.items()),
    )


def _to_version_1(session: WriteSession) -> None:
    """From the first release: the store table, the bank's view (new), and
    the views rebuilt from the log so that it is filled."""
    _new_tables_and_views_rebuilt(session)


def _to_version_2(session: WriteSession) -> None:
    """The HTTP service's bearer keys, and the views rebuilt from the log
    so that any view new in this version is filled."""
    _new_tables_and_views_rebuilt(session)


def _new_tables_and_views_rebuilt(session: WriteSession) -> None:
    for statement in _tables(session.dialect):
        session.execute(statement)
    for table in VIEW_TABLES:
        session.execute(f"DELETE FROM {table}")  # noqa: S608 (table names are constants)
    session.reset_tracking(VIEWS_TRACKING_NAME)


def _to_version_3(session: WriteSession) -> None:
    """The guards that keep history from being rewritten through REPLACE and
    upserts, and that keep the audit tree and the followers' positions moving
    forward only: made, as every version's guards, by `Backend.set_up` before
    each step (idempotently), so this step has nothing more to do."""


def _to_version_4(session: WriteSession) -> None:
    """The lifecycle views (clients' status, every lifecycle change), the
    reversals beside their originals, the late commands (`view_late`), the
    crypto transfers' travel-rule data and the operations each AML notice
    covers: the new tables and column made, then every view rebuilt from the
    log (where nothing was marked late, and each notice names its operations)."""
    # A store older than version 1 got the table with the column from version 1's step.
    if session.dialect == "sqlite":
        columns = {str(row[1]) for row in session.fetchall("PRAGMA table_info(view_aml)")}
        if "operations" not in columns:
            session.execute("ALTER TABLE view_aml ADD COLUMN operations TEXT NOT NULL DEFAULT ''")
    else:
        session.execute("ALTER TABLE view_aml ADD COLUMN IF NOT EXISTS operations TEXT NOT NULL DEFAULT ''")
    _new_tables_and_views_rebuilt(session)


MIGRATIONS: dict[int, Callable[[WriteSession], None]] = {
    1: _to_version_1,
    2: _to_version_2,
    3: _to_version_3,
    4: _to_version_4,
}
