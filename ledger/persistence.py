"""The event store: `eventsourcing`'s recorders on SQLite or PostgreSQL.

The library provides the tables, the connection pools, the insert statements
and the notification log. This module adds what the ledger needs on top:

- `PydanticMapper`: events are pydantic models, stored as their JSON (the
  pattern of the library's "aggregate 7" example, without a transcoder pass);
- append-only tables enforced by the database (triggers reject UPDATE, DELETE
  and, on PostgreSQL, TRUNCATE);
- a write session per batch: the write lock is taken first, the session reads
  the notifications it has not seen, looks up idempotency keys, inserts the
  events into the library's table (one statement per batch, where the
  library's recorder makes one per event) and remembers the keys, all in one
  database transaction.
"""

from __future__ import annotations

import json
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, cast
from urllib.parse import parse_qs, unquote, urlparse
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, PersistenceError, StoredEvent, Tracking
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import get_topic, resolve_topic

from domain.events import LedgerEvent

NOTIFICATION_PAGE_SIZE = 1000
COMMANDS_TABLE = "ledger_commands"
_SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class StoreFacts:
    """What a store records about itself: its schema version, and the bank
    it belongs to (the log's origin and verifier key, once `init` recorded them)."""

    schema_version: int
    origin: str | None = None
    verifier_key: str | None = None

    @classmethod
    def of(cls, rows: dict[str, str]) -> StoreFacts:
        return cls(int(rows["schema_version"]), rows.get("origin"), rows.get("verifier_key"))


class StoreConfigError(ValueError):
    """The database URL or home directory cannot be used."""


class LogEntry(NamedTuple):
    """One event as the ledger's own readers get it from the log: the fields of
    the library's `Notification` in a plain tuple, cheap to make by the million.
    The stream id stays as the database gave it (text on SQLite): decoding
    reads it from the state."""

    id: int
    originator_id: UUID | str
    originator_version: int
    topic: str
    state: bytes


# Makes a LogEntry of a row without a Python frame (LogEntry._make has one):
# a replay makes millions.
_log_entry = partial(tuple.__new__, LogEntry)


class PydanticMapper(Mapper[UUID]):
    """Stores a `LedgerEvent` as its JSON; reads it back with its class's
    validation, upcasting older class versions first."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        event = cast(LedgerEvent, domain_event)
        # The serializer itself: model_dump_json's wrapper costs a third again.
        state = type(event).__pydantic_serializer__.to_json(event)
        if type(event).class_version > 1:
            data = json.loads(state)
            data["class_version"] = type(event).class_version
            state = json.dumps(data, separators=(",", ":")).encode()
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=get_topic(type(event)),
            state=self._seal(state),
        )

    def to_domain_event(self, stored_event: StoredEvent | LogEntry) -> Any:
        cls: type[LedgerEvent] = resolve_topic(stored_event.topic)
        state = self.open_state(stored_event.state)
        if cls.class_version == 1:
            event = cls.model_validate_json(state)
        else:
            event = cls.model_validate(_upcast(cls, json.loads(state)))
        assert event.originator_version == stored_event.originator_version, stored_event
        return event

    def _seal(self, state: bytes) -> bytes:
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return state

    @property
    def is_sealed(self) -> bool:
        """Whether stored states are compressed or enciphered."""
        return bool(self.compressor or self.cipher)

    def open_state(self, state: bytes) -> bytes:
        """The event's JSON, deciphered and decompressed when the store is."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state


def _upcast(cls: type[LedgerEvent], data: dict[str, Any]) -> dict[str, Any]:
    version = data.pop("class_version", 1)
    while version < cls.class_version:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(data)
        version += 1
    return data


class LedgerStore(Application[UUID]):
    """The library's application, used for its infrastructure: the factory,
    the recorder and the mapper. Tables on PostgreSQL are named after it."""

    name = "ledger"
    env = {"MAPPER_TOPIC": get_topic(PydanticMapper)}  # noqa: RUF012 (the library's API)


@dataclass(frozen=True)
class StoreLocation:
    """Where the events live: an SQLite file, or a PostgreSQL database and schema."""

    sqlite_path: Path | None = None
    postgres: dict[str, str] | None = None

    @classmethod
    def parse(cls, *, home: Path, database_url: str | None) -> StoreLocation:
        if not database_url:
            return cls(sqlite_path=home / "ledger.sqlite")
        if database_url.startswith("sqlite:///"):
            return cls(sqlite_path=Path(database_url.removeprefix("sqlite:///")))
        return cls(postgres=parse_postgres_url(database_url))

    def env(self) -> dict[str, str]:
        if self.sqlite_path is not None:
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(self.sqlite_path)}
        assert self.postgres is not None
        return {"PERSISTENCE_MODULE": "eventsourcing.postgres", **self.postgres}


def parse_postgres_url(url: str) -> dict[str, str]:
    """`postgresql://user[:password]@host[:port]/dbname[?schema=name]` to the
    library's environment keys."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise StoreConfigError(f"database URL {url!r}: expected postgresql://user@host:port/dbname or sqlite:///path")
    dbname = parsed.path.lstrip("/")
    if not dbname or not parsed.hostname:
        raise StoreConfigError(f"database URL {url!r}: a host and a database name are needed")
    schema = parse_qs(parsed.query).get("schema", ["public"])[0]
    if not _SCHEMA_PATTERN.match(schema):
        raise StoreConfigError(f"database URL {url!r}: schema {schema!r} is not a plain lower-case name")
    return {
        "POSTGRES_HOST": parsed.hostname,
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_USER": unquote(parsed.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parsed.password or ""),
        "POSTGRES_SCHEMA": schema,
    }


class ReadSession(ABC):
    """One read-only database transaction: it sees every event and view row
    committed before it began, and nothing committed after. SQL given to
    `fetchall` uses `?` placeholders and unqualified table names on both
    backends."""

    @abstractmethod
    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def tracking_position(self, name: str) -> int:
        """The last notification id the named projection applied (0 for none)."""

    @abstractmethod
    def notifications_after(self, position: int, limit: int) -> Sequence[LogEntry]: ...

    def head(self) -> int:
        """The notification id of the last event in the log (0 for none)."""
        return self.max_notification_id()

    @abstractmethod
    def max_notification_id(self) -> int: ...

    @abstractmethod
    def has_table(self, name: str) -> bool:
        """Whether the ledger's schema has this table."""


class WriteSession(ReadSession):
    """One database transaction holding a lock: the write lock for the write
    path, the views' lock for projections. SQL given to `execute` and
    `executemany` uses `?` placeholders and unqualified table names too."""

    @abstractmethod
    def execute(self, statement: str, params: Sequence[Any] = ()) -> None: ...

    @abstractmethod
    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def lock_views(self) -> None:
        """Takes the views' lock inside this transaction (where it is not the
        write lock already), before a writer brings the views to the head."""

    @abstractmethod
    def advance_tracking(self, name: str, position: int) -> None:
        """Records the new position; the library refuses one that does not advance."""

    @abstractmethod
    def reset_tracking(self, name: str) -> None: ...

    @abstractmethod
    def known_commands(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """The (digest, result) already recorded for any of these keys."""

    @abstractmethod
    def append(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        """Inserts the events and returns their notification ids."""

    @abstractmethod
    def remember_commands(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Records (key, digest, result) for each newly decided command."""


class Backend(ABC):
    """The ledger's view of one store: set-up, the write session, reading the log."""

    def __init__(self, store: LedgerStore, location: StoreLocation) -> None:
        self.store = store
        self.location = location
        self.facts: StoreFacts | None = None  # set by `ledger.schema.check`

    @abstractmethod
    def set_up(self) -> None:
        """Creates the ledger's own tables and the append-only guards, idempotently."""

    @property
    @abstractmethod
    def events_table(self) -> str:
        """The library's table of stored events."""

    @abstractmethod
    def describe(self) -> str:
        """The store, named for a message (never with a password)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the file or schema is there at all (a ledger in it or not)."""

    @abstractmethod
    def write(self) -> AbstractContextManager[WriteSession]:
        """A context manager giving a `WriteSession` that commits on success."""

    @abstractmethod
    def views(self) -> AbstractContextManager[WriteSession]:
        """A context manager giving a session under the views' lock, which
        serialises projectors but not writers."""

    @abstractmethod
    def read(self) -> AbstractContextManager[ReadSession]:
        """A context manager giving a read-only transaction: no lock, never
        waiting for a writer (SQLite in WAL mode; PostgreSQL READ ONLY)."""

    @property
    def mapper(self) -> PydanticMapper:
        return cast(PydanticMapper, self.store.mapper)

    @property
    def tracking(self) -> Any:
        """The library's tracking recorder (it creates its table on first use)."""
        if not hasattr(self, "_tracking"):
            self._tracking = self.store.factory.tracking_recorder()
        return self._tracking

    def notifications_after(self, position: int, limit: int = NOTIFICATION_PAGE_SIZE) -> Sequence[LogEntry]:
        notifications = self.store.recorder.select_notifications(start=position, limit=limit, inclusive_of_start=False)
        return [LogEntry(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]

    def max_notification_id(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    @abstractmethod
    def notification_id_of(self, stream: UUID, version: int) -> int | None:
        """The position in the log of one event, named by its stream and version."""

    def close(self) -> None:
        self.store.close()


# SQLite.

_SQLITE_SET_UP = [
    f"CREATE TABLE IF NOT EXISTS {COMMANDS_TABLE} ("
    "key TEXT PRIMARY KEY, digest TEXT NOT NULL, result TEXT NOT NULL) WITHOUT ROWID",
    *(
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
        for table in ("stored_events", COMMANDS_TABLE)
        for verb in ("UPDATE", "DELETE")
    ),
]


class SQLiteWriteSession(WriteSession):
    def __init__(self, connection: sqlite3.Connection, tracking: Any) -> None:
        self.connection = connection
        self.tracking = tracking

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.connection.execute(statement, params)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(statement, rows)

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.connection.execute(statement, params)]

    def tracking_position(self, name: str) -> int:
        return self.tracking._max_tracking_id(name, self.connection.cursor()) or 0  # noqa: SLF001

    def advance_tracking(self, name: str, position: int) -> None:
        self.tracking._insert_tracking(self.connection.cursor(), Tracking(name, position))  # noqa: SLF001

    def reset_tracking(self, name: str) -> None:
        self.connection.execute("DELETE FROM tracking WHERE application_name = ?", (name,))

    def notifications_after(self, position: int, limit: int) -> Sequence[LogEntry]:
        return _sqlite_notifications_after(self.connection, position, limit)

    def max_notification_id(self) -> int:
        return _sqlite_head(self.connection)

    def has_table(self, name: str) -> bool:
        return _sqlite_has_table(self.connection, name)

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
            raise PersistenceError(f"event ids {first}..{now_last} are not the {len(stored_events)} expected")
        return ids

    def remember_commands(self, rows: Sequence[tuple[str, str, str]]) -> None:
        self.connection.executemany("INSERT INTO ledger_commands VALUES (?, ?, ?)", rows)


class SQLiteReadSession(ReadSession):
    """A read transaction on a connection of its own, opened read-only: in WAL
    mode it reads the snapshot it began with while writers go on."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.execute(statement, params).fetchall()

    def tracking_position(self, name: str) -> int:
        rows = self.fetchall("SELECT max(notification_id) FROM tracking WHERE application_name = ?", (name,))
        return int(rows[0][0] or 0)

    def notifications_after(self, position: int, limit: int) -> Sequence[LogEntry]:
        return _sqlite_notifications_after(self.connection, position, limit)

    def max_notification_id(self) -> int:
        return _sqlite_head(self.connection)

    def has_table(self, name: str) -> bool:
        return _sqlite_has_table(self.connection, name)


class SQLiteBackend(Backend):
    events_table = "stored_events"

    def describe(self) -> str:
        return str(self.location.sqlite_path)

    def exists(self) -> bool:
        assert self.location.sqlite_path is not None
        return self.location.sqlite_path.is_file()

    @property
    def datastore(self) -> SQLiteDatastore:
        return cast(SQLiteDatastore, self.store.factory.datastore)  # type: ignore[attr-defined]

    def set_up(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            for statement in _SQLITE_SET_UP:
                cursor.execute(statement)

    def notifications_after(self, position: int, limit: int = NOTIFICATION_PAGE_SIZE) -> Sequence[LogEntry]:
        with self.datastore.get_connection(commit=False) as pooled:
            return _sqlite_notifications_after(pooled._sqlite_conn, position, limit)  # noqa: SLF001

    def notification_id_of(self, stream: UUID, version: int) -> int | None:
        with self.views() as session:
            rows = session.fetchall(
                "SELECT rowid FROM stored_events WHERE originator_id = ? AND originator_version = ?",
                (stream.hex, version),
            )
        return int(rows[0][0]) if rows else None

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        with self._immediate() as session:
            yield session

    def views(self) -> AbstractContextManager[WriteSession]:
        # SQLite has one writer at a time: the views take the same lock.
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


def open_backend(location: StoreLocation, *, create_tables: bool = False) -> Backend:
    """The backend of a store, as it is: nothing is checked or created unless
    `create_tables` (see `ledger.schema.open_store`, which decides)."""
    env = location.env() | {"CREATE_TABLE": "yes" if create_tables else "no"}
    if location.postgres is not None:
        # Imported here so that the embedded default needs no PostgreSQL driver.
        from ledger.postgres import PostgresBackend, ensure_postgres_schema  # noqa: PLC0415

        if create_tables:
            ensure_postgres_schema(location.postgres)
        return PostgresBackend(LedgerStore(env=env), location)
    assert location.sqlite_path is not None
    if create_tables:
        location.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteBackend(LedgerStore(env=env), location)


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write (query_only) nor create the file
    (mode=rw). Not mode=ro: a read-only connection leaves the WAL files
    behind when it closes, where a last connection otherwise removes them."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None)
    connection.execute("PRAGMA query_only = ON")
    return connection


def _sqlite_has_table(connection: sqlite3.Connection, name: str) -> bool:
    return bool(connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchall())


def _sqlite_head(connection: sqlite3.Connection) -> int:
    (last,) = connection.execute("SELECT max(rowid) FROM stored_events").fetchone()
    return int(last or 0)


def _uuid_text(stream: UUID | str) -> str:
    """As the library stores stream ids in SQLite: 32 hex digits."""
    return stream.hex if isinstance(stream, UUID) else stream


_SELECT_ENTRIES = "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "


def entries_between(connection: sqlite3.Connection, after: int, upto: int) -> list[LogEntry]:
    """The events with notification ids in (after, upto], from an SQLite log."""
    return _entries(connection, "WHERE rowid > ? AND rowid <= ? ORDER BY rowid", (after, upto))


def _sqlite_notifications_after(connection: sqlite3.Connection, position: int, limit: int) -> list[LogEntry]:
    return _entries(connection, "WHERE rowid > ? ORDER BY rowid LIMIT ?", (position, limit))


def _entries(connection: sqlite3.Connection, where: str, params: tuple[int, int]) -> list[LogEntry]:
    # A plain tuple cursor: the library's connections make `sqlite3.Row`s.
    cursor = connection.cursor()
    cursor.row_factory = None
    return list(map(_log_entry, cursor.execute(_SELECT_ENTRIES + where, params).fetchall()))


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
