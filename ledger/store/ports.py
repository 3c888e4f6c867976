"""The store's ports: what the ledger asks of a store, whatever holds it.

`Backend` is one store (an SQLite file, or a PostgreSQL schema); it gives
read-only sessions (`read`), the write path's session under the write lock
(`write`) and the projectors' session under the views' lock (`views`). SQL
given to sessions uses `?` placeholders and unqualified table names on both
backends. This module imports neither the library nor the domain's events:
a read (`ledger balances`) needs neither, and pays for neither. The
library's application (`LedgerStore`, `ledger.store.codec`) is made on
first use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple
from uuid import UUID

if TYPE_CHECKING:
    from eventsourcing.persistence import StoredEvent
    from pydantic import ValidationError

    from ledger.store.codec import LedgerStore, PydanticMapper
    from ledger.store.pgconninfo import PostgresTarget

NOTIFICATION_PAGE_SIZE = 1000
COMMANDS_TABLE = "ledger_commands"


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


class UnreadableEvent(Exception):
    """An event in the log does not decode as its class: the store was
    written by something else, or edited."""

    @classmethod
    def at(cls, entry: LogEntry, error: ValidationError) -> UnreadableEvent:  # a pydantic error
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the event"
        return cls(f"event {entry.id} of the log ({entry.topic}) cannot be read: {where}: {problem['msg']}")


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


@dataclass(frozen=True)
class StoreLocation:
    """Where the events live: an SQLite file, or a PostgreSQL database and schema."""

    sqlite_path: Path | None = None
    postgres: PostgresTarget | None = None

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
        return self.postgres.env()


def parse_postgres_url(url: str) -> PostgresTarget:
    """A PostgreSQL URL or libpq keyword/value string, and the ledger's
    `schema` parameter (see `ledger.store.pgconninfo`)."""
    try:
        from ledger.store.pgconninfo import PostgresTarget  # noqa: PLC0415 (the PostgreSQL driver is optional)
    except ImportError as error:
        from ledger.extras import POSTGRES  # noqa: PLC0415 (only on this path)

        raise StoreConfigError(f"a PostgreSQL database URL needs psycopg ({error}): {POSTGRES.install_hint}") from None
    return PostgresTarget.parse(url)


class ReadSession(ABC):
    """One read-only database transaction: it sees every event and view row
    committed before it began, and nothing committed after. SQL given to
    `fetchall` uses `?` placeholders and unqualified table names on both
    backends; `dialect` ('sqlite' or 'postgresql') names the backend, for the
    little DDL that differs."""

    dialect: ClassVar[str]

    @abstractmethod
    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def tracking_position(self, name: str) -> int:
        """The last notification id the named projection applied (0 for none)."""

    @abstractmethod
    def notifications_after(self, position: int, limit: int) -> Sequence[LogEntry]: ...

    @abstractmethod
    def notifications_of(self, topics: Sequence[str], position: int, limit: int) -> Sequence[LogEntry]:
        """The events of these topics after `position`, in log order. The
        log has no index on topics: a rare topic costs a scan of the log from
        `position` (in the database, without decoding anything)."""

    @abstractmethod
    def notifications_at(self, ids: Sequence[int]) -> Sequence[LogEntry]:
        """The events at these notification ids, in log order."""

    @abstractmethod
    def max_notification_id(self) -> int:
        """The notification id of the last event in the log (0 for none)."""

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

    @abstractmethod
    def insert_rows(
        self, table: str, types: Sequence[str], rows: Sequence[Sequence[Any]], *, conflict: str = ""
    ) -> None:
        """Inserts `rows` into `table` (a table of the ledger's own) in one
        statement: `types` are its columns' SQL types (PostgreSQL receives
        each column as one binary array of them, where a statement per row
        would cost a round of the protocol each); `conflict` is an
        `ON CONFLICT ...` clause, or empty."""

    def lock_views(self, lock: str = "views") -> None:
        """Takes a follower's lock (the views', or the audit log's) inside
        this transaction (where it is not the write lock already), before a
        writer brings that follower to the head."""

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

    def __init__(self, location: StoreLocation, env: dict[str, str]) -> None:
        self.location = location
        self.env = env
        self.facts: StoreFacts | None = None  # set by `ledger.store.schema.check`

    @cached_property
    def store(self) -> LedgerStore:
        """The library's application over this store: its factory, recorder
        and mapper. Made on first use: reading the views needs none of it."""
        from ledger.store.codec import LedgerStore  # noqa: PLC0415 (see the module's docstring)

        return LedgerStore(env=self.env)

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
    def views(self, lock: str = "views") -> AbstractContextManager[WriteSession]:
        """A context manager giving a session under the named lock (the
        views', the audit log's, the snapshots'...), which serialises the
        followers that take it but not the others, nor readers. A writer
        takes the views' lock inside its batch, so the views' lock alone is
        held by whoever the write path may wait for."""

    @abstractmethod
    def read(self) -> AbstractContextManager[ReadSession]:
        """A context manager giving a read-only transaction: no lock, never
        waiting for a writer (SQLite in WAL mode; PostgreSQL READ ONLY)."""

    @property
    def mapper(self) -> PydanticMapper:
        return self.store.mapper  # type: ignore[return-value]

    @property
    def tracking(self) -> Any:
        """The library's tracking recorder (it creates its table on first use)."""
        if not hasattr(self, "_tracking"):
            self._tracking = self.store.factory.tracking_recorder()
        return self._tracking

    def notifications_after(self, position: int, limit: int = NOTIFICATION_PAGE_SIZE) -> Sequence[LogEntry]:
        notifications = self.store.recorder.select_notifications(start=position, limit=limit, inclusive_of_start=False)
        return [LogEntry(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]

    def event_states_after(self, position: int, limit: int) -> Sequence[tuple[int, str, bytes]]:
        """(notification id, topic, stored state) of the events after
        `position`, in log order: what a reader of the events' stored JSON
        needs (an export's leaves), cheaper by the million than `LogEntry`s."""
        return [(entry.id, entry.topic, entry.state) for entry in self.notifications_after(position, limit)]

    def max_notification_id(self) -> int:
        return self.store.recorder.max_notification_id() or 0

    @abstractmethod
    def notification_id_of(self, stream: UUID, version: int) -> int | None:
        """The position in the log of one event, named by its stream and version."""

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
