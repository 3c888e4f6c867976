"""The SQLite side of the event store: the library's file, sessions of our own, the guards.

Writes go through the library's connection pool, in `BEGIN IMMEDIATE`
transactions; reads open a connection of their own that cannot write, in
WAL mode, so that they never wait for a writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from ledger.store.ports import (
    COMMANDS_TABLE,
    NOTIFICATION_PAGE_SIZE,
    Backend,
    LogEntry,
    ReadSession,
    WriteSession,
    _log_entry,
)
from ledger.tables import AUDIT_TABLES, VIEWS_TRACKING_NAME

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.sqlite import SQLiteDatastore

# The library is imported where a write uses it: a read needs none of it.


def _refuse(name: str, timing: str, table: str, condition: str, message: str) -> str:
    """A guard: a trigger that aborts the statement when `condition` holds."""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {name} {timing} ON {table} WHEN {condition} "
        f"BEGIN SELECT RAISE(ABORT, '{table} {message}'); END"
    )


def _no_change(table: str) -> list[str]:
    return [
        _refuse(f"{table}_no_{verb.lower()}", f"BEFORE {verb}", table, "1", f"is append-only: {verb} refused")
        for verb in ("UPDATE", "DELETE")
    ]


def _append_only(table: str, key_exists: str) -> list[str]:
    """UPDATE and DELETE refused, and any insert of a key already there. The
    insert's guard fires before conflict resolution: `INSERT OR REPLACE`,
    `REPLACE INTO` and upserts would otherwise delete or rewrite the row with
    no UPDATE or DELETE trigger fired (SQLite fires none for REPLACE unless
    the connection turns recursive_triggers on)."""
    message = "is append-only: a row with that key exists"
    return [*_no_change(table), _refuse(f"{table}_no_replace", "BEFORE INSERT", table, key_exists, message)]


_LEAVES = "(SELECT coalesce(max(leaf_index), -1) + 1 FROM audit_leaves)"
_LAST_LEAF_EVENT = "(SELECT notification_id FROM audit_leaves ORDER BY leaf_index DESC LIMIT 1)"
# A checkpoint's body (origin, size, root) ends at its first blank line; the signatures follow.
_BODY = "substr({row}.note, 1, instr(OLD.note, char(10) || char(10)))"

_SQLITE_SET_UP = [
    f"CREATE TABLE IF NOT EXISTS {COMMANDS_TABLE} ("
    "key TEXT PRIMARY KEY, digest TEXT NOT NULL, result TEXT NOT NULL) WITHOUT ROWID",
    *(f"CREATE TABLE IF NOT EXISTS {table} ({columns})" for table, columns in AUDIT_TABLES.items()),
    # History: the events, the idempotency records, the audit log's leaf hashes and checkpoints.
    *_append_only(
        "stored_events",
        "EXISTS (SELECT 1 FROM stored_events WHERE originator_id = NEW.originator_id "
        "AND originator_version = NEW.originator_version) "
        # (NEW.rowid is -1 here unless the insert names one.)
        "OR EXISTS (SELECT 1 FROM stored_events WHERE rowid = NEW.rowid)",
    ),
    *_append_only(COMMANDS_TABLE, f"EXISTS (SELECT 1 FROM {COMMANDS_TABLE} WHERE key = NEW.key)"),  # noqa: S608
    *_no_change("audit_leaves"),
    _refuse(
        "audit_leaves_in_order",
        "BEFORE INSERT",
        "audit_leaves",
        f"NEW.leaf_index IS NOT {_LEAVES} OR NEW.notification_id <= {_LAST_LEAF_EVENT}",
        "grows by the next leaf only, of a later event",
    ),
    # The tree's full tiles and the witnesses' cosignatures: written once, never changed.
    *_append_only(
        "audit_tiles",
        "EXISTS (SELECT 1 FROM audit_tiles WHERE tile_level = NEW.tile_level AND tile_index = NEW.tile_index)",
    ),
    *_append_only(
        "audit_cosignatures",
        "EXISTS (SELECT 1 FROM audit_cosignatures WHERE tree_size = NEW.tree_size AND witness = NEW.witness)",
    ),
    _refuse("audit_checkpoints_no_delete", "BEFORE DELETE", "audit_checkpoints", "1", "is append-only: DELETE refused"),
    _refuse(
        "audit_checkpoints_no_replace",
        "BEFORE INSERT",
        "audit_checkpoints",
        "EXISTS (SELECT 1 FROM audit_checkpoints WHERE tree_size = NEW.tree_size)",
        "is append-only: a checkpoint of that size exists",
    ),
    # A key rotation signs the same checkpoint again, with both keys (see AuditLog.hand_over).
    _refuse(
        "audit_checkpoints_signatures_only",
        "BEFORE UPDATE",
        "audit_checkpoints",
        f"NEW.tree_size IS NOT OLD.tree_size OR {_BODY.format(row='NEW')} IS NOT {_BODY.format(row='OLD')}",
        "is append-only: only the signatures of a checkpoint may change",
    ),
    # The audit tree, one row, and the followers' positions: they only move forward.
    _refuse("audit_tree_no_delete", "BEFORE DELETE", "audit_tree", "1", "only grows: DELETE refused"),
    _refuse(
        "audit_tree_first",
        "BEFORE INSERT",
        "audit_tree",
        f"EXISTS (SELECT 1 FROM audit_tree) OR NEW.singleton IS NOT 1 OR NEW.tree_size IS NOT {_LEAVES}",  # noqa: S608
        "only grows: one row, the size of the leaves",
    ),
    _refuse(
        "audit_tree_grows",
        "BEFORE UPDATE",
        "audit_tree",
        f"NEW.singleton IS NOT 1 OR NEW.tree_size <= OLD.tree_size OR NEW.tree_size IS NOT {_LEAVES}",
        "only grows, to the size of the leaves",
    ),
    _refuse(
        "tracking_no_going_back",
        "BEFORE INSERT",
        "tracking",
        "EXISTS (SELECT 1 FROM tracking WHERE application_name = NEW.application_name "
        "AND notification_id > NEW.notification_id)",
        "positions only move forward",
    ),
    _refuse(
        "tracking_forward_only",
        "BEFORE UPDATE",
        "tracking",
        "NEW.application_name IS NOT OLD.application_name OR NEW.notification_id < OLD.notification_id",
        "positions only move forward",
    ),
    # The views are rebuilt from the log (Projector.clear, migrations): their position alone starts over.
    _refuse(
        "tracking_no_delete",
        "BEFORE DELETE",
        "tracking",
        f"OLD.application_name IS NOT '{VIEWS_TRACKING_NAME}'",
        "positions only move forward: only that of the views may start over",
    ),
]


class _SQLiteReading:
    """What reading and writing sessions share: reading the log and the tables."""

    connection: sqlite3.Connection
    dialect = "sqlite"

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        # Plain tuples: the library's connections make `sqlite3.Row`s.
        return [tuple(row) for row in self.connection.execute(statement, params)]

    def tracking_position(self, name: str) -> int:
        rows = self.fetchall("SELECT max(notification_id) FROM tracking WHERE application_name = ?", (name,))
        return int(rows[0][0] or 0)

    def notifications_after(self, position: int, limit: int) -> Sequence[LogEntry]:
        return _sqlite_notifications_after(self.connection, position, limit)

    def notifications_of(self, topics: Sequence[str], position: int, limit: int) -> Sequence[LogEntry]:
        marks = ",".join("?" * len(topics))
        where = f"WHERE rowid > ? AND topic IN ({marks}) ORDER BY rowid LIMIT ?"
        return _entries(self.connection, where, (position, *topics, limit))

    def notifications_at(self, ids: Sequence[int]) -> Sequence[LogEntry]:
        marks = ",".join("?" * len(ids))
        return _entries(self.connection, f"WHERE rowid IN ({marks}) ORDER BY rowid", tuple(ids))

    def max_notification_id(self) -> int:
        (last,) = self.connection.execute("SELECT max(rowid) FROM stored_events").fetchone()
        return int(last or 0)

    def has_table(self, name: str) -> bool:
        statement = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return bool(self.connection.execute(statement, (name,)).fetchall())


class SQLiteWriteSession(_SQLiteReading, WriteSession):
    def __init__(self, connection: sqlite3.Connection, tracking: Any) -> None:
        self.connection = connection
        self.tracking = tracking

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.connection.execute(statement, params)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(statement, rows)

    def insert_rows(
        self, table: str, types: Sequence[str], rows: Sequence[Sequence[Any]], *, conflict: str = ""
    ) -> None:
        marks = ", ".join("?" * len(types))
        self.connection.executemany(f"INSERT INTO {table} VALUES ({marks}) {conflict}", rows)  # noqa: S608 (ours)

    def advance_tracking(self, name: str, position: int) -> None:
        from eventsourcing.persistence import Tracking  # noqa: PLC0415 (see the module's imports)

        self.tracking._insert_tracking(self.connection.cursor(), Tracking(name, position))  # noqa: SLF001

    def reset_tracking(self, name: str) -> None:
        self.connection.execute("DELETE FROM tracking WHERE application_name = ?", (name,))

    def known_commands(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(keys, 500):
            marks = ",".join("?" * len(chunk))
            rows = self.connection.execute(
                # Only placeholders are interpolated; the keys travel as parameters.
                f"SELECT key, digest, result FROM {COMMANDS_TABLE} WHERE key IN ({marks})",  # noqa: S608
                chunk,
            )
            found.update({key: (digest, result) for key, digest, result in rows})
        return found

    def append(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        # One executemany instead of the library's insert per row. Under the
        # write lock, in a table nothing is ever deleted from, SQLite gives the
        # rows the ids after the last one, in order; checked after the insert.
        (last,) = self.connection.execute("SELECT max(rowid) FROM stored_events").fetchone()
        self.connection.executemany(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
            [(_uuid_text(e.originator_id), e.originator_version, e.topic, e.state) for e in stored_events],
        )
        first = (last or 0) + 1
        ids = range(first, first + len(stored_events))
        (now_last,) = self.connection.execute("SELECT max(rowid) FROM stored_events").fetchone()
        if stored_events and now_last != ids[-1]:
            from eventsourcing.persistence import PersistenceError  # noqa: PLC0415

            raise PersistenceError(f"event ids {first}..{now_last} are not the {len(stored_events)} expected")
        return ids

    def remember_commands(self, rows: Sequence[tuple[str, str, str]]) -> None:
        self.connection.executemany("INSERT INTO ledger_commands VALUES (?, ?, ?)", rows)


class SQLiteReadSession(_SQLiteReading, ReadSession):
    """A read transaction on a connection of its own, opened read-only: in WAL
    mode it reads the snapshot it began with while writers go on."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection


class SQLiteBackend(Backend):
    events_table = "stored_events"

    def describe(self) -> str:
        return str(self.location.sqlite_path)

    def exists(self) -> bool:
        assert self.location.sqlite_path is not None
        return self.location.sqlite_path.is_file()

    @property
    def datastore(self) -> SQLiteDatastore:
        return cast("SQLiteDatastore", self.store.factory.datastore)  # type: ignore[attr-defined]

    def set_up(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for statement in _SQLITE_SET_UP:
                cursor.execute(statement)

    def notifications_after(self, position: int, limit: int = NOTIFICATION_PAGE_SIZE) -> Sequence[LogEntry]:
        with self.datastore.get_connection(commit=False) as pooled:
            return _sqlite_notifications_after(pooled._sqlite_conn, position, limit)  # noqa: SLF001

    def event_states_after(self, position: int, limit: int) -> Sequence[tuple[int, str, bytes]]:
        with self.datastore.get_connection(commit=False) as pooled:
            cursor = pooled._sqlite_conn.cursor()  # noqa: SLF001
            cursor.row_factory = None  # plain tuples
            statement = "SELECT rowid, topic, state FROM stored_events WHERE rowid > ? ORDER BY rowid LIMIT ?"
            return cursor.execute(statement, (position, limit)).fetchall()

    def notification_id_of(self, stream: UUID, version: int) -> int | None:
        with self.read() as session:
            rows = session.fetchall(
                "SELECT rowid FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                (stream.hex, version),
            )
        return int(rows[0][0]) if rows else None

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        with self._immediate() as session:
            yield session

    def views(self, lock: str = "views") -> AbstractContextManager[WriteSession]:  # noqa: ARG002 (one lock here)
        # SQLite has one writer at a time: every session that writes takes the same lock.
        return self._immediate()

    @contextmanager
    def read(self) -> Iterator[ReadSession]:
        assert self.location.sqlite_path is not None
        connection = connect_read_only(self.location.sqlite_path)
        try:
            connection.execute("BEGIN")  # deferred: the first read fixes the snapshot
            yield SQLiteReadSession(connection)
        finally:
            connection.close()  # ends the read transaction; it wrote nothing

    @contextmanager
    def _immediate(self) -> Iterator[WriteSession]:
        tracking = self.tracking
        with self.datastore.get_connection(commit=True) as pooled:
            # The library begins deferred transactions; the write path reads
            # before it writes, so it must hold the write lock from the start
            # or two writers could both read, then one fail to upgrade.
            connection: sqlite3.Connection = pooled._sqlite_conn  # noqa: SLF001
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteWriteSession(connection, tracking)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write (query_only) nor create the file
    (mode=rw). Not mode=ro: a read-only connection leaves the WAL files
    behind when it closes, where a last connection otherwise removes them."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None)
    connection.execute("PRAGMA query_only = ON")
    return connection


def _uuid_text(stream: UUID | str) -> str:
    """As the library stores stream ids in SQLite: 32 hex digits."""
    return stream.hex if isinstance(stream, UUID) else stream


_SELECT_ENTRIES = "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "


def entries_between(connection: sqlite3.Connection, after: int, upto: int) -> list[LogEntry]:
    """The events with notification ids in (after, upto], from an SQLite log."""
    return _entries(connection, "WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (after, upto))


def _sqlite_notifications_after(connection: sqlite3.Connection, position: int, limit: int) -> list[LogEntry]:
    return _entries(connection, "WHERE rowid > ? ORDER BY rowid LIMIT ?", (position, limit))


def _entries(connection: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[LogEntry]:
    # A plain tuple cursor: the library's connections make `sqlite3.Row`s.
    cursor = connection.cursor()
    cursor.row_factory = None
    return list(map(_log_entry, cursor.execute(_SELECT_ENTRIES + where, params).fetchall()))


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
