"""The PostgreSQL side of the event store: the write session and the guards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg.conninfo import make_conninfo
from psycopg.sql import SQL, Composed, Identifier, Literal
from psycopg_pool import ConnectionPool

from ledger.store.pgconninfo import PostgresTarget
from ledger.store.ports import COMMANDS_TABLE, Backend, LogEntry, ReadSession, WriteSession
from ledger.tables import AUDIT_TABLES, VIEWS_TRACKING_NAME


class _PostgresReading:
    """What reading and writing sessions share: the log's own statements."""

    cursor: psycopg.Cursor[Any]
    recorder: PostgresApplicationRecorder
    dialect = "postgresql"

    def _read_statements(self) -> None:
        schema = Identifier(self.recorder.datastore.schema)
        # Unqualified names in the projections' SQL resolve to the ledger's schema.
        self.cursor.execute(SQL("SET LOCAL search_path TO {}").format(schema))
        table = Identifier(self.recorder.events_table_name)
        self.select_after = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, table=table)
        self.select_head = SQL("SELECT max(notification_id) AS head FROM {schema}.{table}").format(
            schema=schema, table=table
        )
        self.select_of = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE notification_id > %s AND topic = ANY(%s) ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, table=table)
        self.select_at = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table} "
            "WHERE notification_id = ANY(%s) ORDER BY notification_id"
        ).format(schema=schema, table=table)

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(_placeholders(statement), params)
        return [tuple(row.values()) for row in self.cursor.fetchall()]

    def notifications_after(self, position: int, limit: int) -> Sequence[LogEntry]:
        self.cursor.execute(self.select_after, (position, limit))
        return self._entries()

    def notifications_of(self, topics: Sequence[str], position: int, limit: int) -> Sequence[LogEntry]:
        self.cursor.execute(self.select_of, (position, list(topics), limit))
        return self._entries()

    def notifications_at(self, ids: Sequence[int]) -> Sequence[LogEntry]:
        self.cursor.execute(self.select_at, (list(ids),))
        return self._entries()

    def _entries(self) -> list[LogEntry]:
        return [
            LogEntry(
                row["notification_id"],
                row["originator_id"],
                row["originator_version"],
                row["topic"],
                bytes(row["state"]),
            )
            for row in self.cursor.fetchall()
        ]

    def max_notification_id(self) -> int:
        self.cursor.execute(self.select_head)
        row = self.cursor.fetchone()
        return int(row["head"] or 0) if row else 0

    def has_table(self, name: str) -> bool:
        self.cursor.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = %s", (self.recorder.datastore.schema, name)
        )
        return self.cursor.fetchone() is not None


class PostgresReadSession(_PostgresReading, ReadSession):
    def __init__(self, cursor: psycopg.Cursor[Any], recorder: PostgresApplicationRecorder, tracking_table: str) -> None:
        self.cursor = cursor
        self.recorder = recorder
        self.tracking_table = tracking_table
        self._read_statements()

    def tracking_position(self, name: str) -> int:
        statement = SQL("SELECT max(notification_id) AS position FROM {} WHERE application_name = %s").format(
            Identifier(self.tracking_table)
        )
        self.cursor.execute(statement, (name,))
        row = self.cursor.fetchone()
        return int(row["position"] or 0) if row else 0


class PostgresWriteSession(_PostgresReading, WriteSession):
    def __init__(self, cursor: psycopg.Cursor[Any], recorder: PostgresApplicationRecorder, tracking: Any) -> None:
        self.cursor = cursor
        self.recorder = recorder
        self.tracking = tracking
        self._read_statements()
        schema = Identifier(recorder.datastore.schema)
        self.select_commands = SQL("SELECT key, digest, result FROM {schema}.{table} WHERE key = ANY(%s)").format(
            schema=schema, table=Identifier(COMMANDS_TABLE)
        )
        # One statement per batch, parameters sent as binary arrays (%b): the
        # library's insert sends a text array of composites, which psycopg
        # escapes byte by byte in Python (a quarter of the write path).
        self.insert_events = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) RETURNING notification_id"
        ).format(schema=schema, table=Identifier(recorder.events_table_name))
        self.insert_commands = SQL(
            "INSERT INTO {schema}.{table} SELECT * FROM unnest(%b::text[], %b::text[], %b::text[])"
        ).format(schema=schema, table=Identifier(COMMANDS_TABLE))

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(_placeholders(statement), params)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(_placeholders(statement), rows)

    def insert_rows(
        self, table: str, types: Sequence[str], rows: Sequence[Sequence[Any]], *, conflict: str = ""
    ) -> None:
        if not rows:
            return
        arrays = SQL(", ").join(SQL("%b::{}[]").format(SQL(kind)) for kind in types)
        statement = SQL("INSERT INTO {} SELECT * FROM unnest({}) {}").format(Identifier(table), arrays, SQL(conflict))
        self.cursor.execute(statement, [list(column) for column in zip(*rows, strict=True)])

    def lock_views(self, lock: str = "views") -> None:
        self.cursor.execute(ADVISORY_LOCK, (f"{self.recorder.datastore.schema}:{lock}",))

    def tracking_position(self, name: str) -> int:
        return self.tracking._max_tracking_id(name, self.cursor) or 0  # noqa: SLF001

    def advance_tracking(self, name: str, position: int) -> None:
        self.tracking._insert_tracking(self.cursor, Tracking(name, position))  # noqa: SLF001

    def reset_tracking(self, name: str) -> None:
        statement = SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
            Identifier(self.recorder.datastore.schema), Identifier(self.tracking.tracking_table_name)
        )
        self.cursor.execute(statement, (name,))

    def known_commands(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        self.cursor.execute(self.select_commands, (list(keys),))
        return {row["key"]: (row["digest"], row["result"]) for row in self.cursor.fetchall()}

    def append(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        if not stored_events:
            return []
        self.recorder._notify_channel(self.cursor)  # noqa: SLF001 (as the library's insert does)
        columns = (
            [event.originator_id for event in stored_events],
            [event.originator_version for event in stored_events],
            [event.topic for event in stored_events],
            [event.state for event in stored_events],
        )
        self.cursor.execute(self.insert_events, columns)
        # Under the table lock the sequence hands out ids in row order.
        ids = sorted(row["notification_id"] for row in self.cursor.fetchall())
        assert len(ids) == len(stored_events), (len(ids), len(stored_events))
        return ids

    def remember_commands(self, rows: Sequence[tuple[str, str, str]]) -> None:
        if rows:
            self.cursor.execute(self.insert_commands, [list(column) for column in zip(*rows, strict=True)])


class PostgresBackend(Backend):
    @property
    def datastore(self) -> PostgresDatastore:
        return cast(PostgresDatastore, self.store.factory.datastore)  # type: ignore[attr-defined]

    @property
    def recorder(self) -> PostgresApplicationRecorder:
        return cast(PostgresApplicationRecorder, self.store.recorder)

    @property
    def events_table(self) -> str:
        return self.recorder.events_table_name

    def describe(self) -> str:
        assert self.location.postgres is not None  # (not the datastore's: making it connects)
        target = self.location.postgres
        return f"PostgreSQL schema {target.schema!r} of database {target.params.get('dbname', '?')!r}"

    def exists(self) -> bool:
        """Asked on a connection of its own, before the pool's first: the pool
        retries a refused connection until its timeout and then says only
        that, where libpq says why (no TLS for sslmode=require, a wrong
        password, a silent host past connect_timeout)."""
        assert self.location.postgres is not None
        with admin_connection(self.location.postgres) as connection:
            row = connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.location.postgres.schema,))
            return row.fetchone() is not None

    def set_up(self) -> None:
        schema = Identifier(self.datastore.schema)
        tracking = self.tracking.tracking_table_name
        statements = [
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} "
                "(key text PRIMARY KEY, digest text NOT NULL, result text NOT NULL)"
            ).format(schema=schema, table=Identifier(COMMANDS_TABLE)),
            *(
                SQL("CREATE TABLE IF NOT EXISTS {}.{} ({})").format(schema, Identifier(table), SQL(columns))
                for table, columns in AUDIT_TABLES.items()
            ),
            *(
                _function(
                    schema,
                    name,
                    SQL(body).format(
                        schema=schema,
                        refused=SQL("USING ERRCODE = 'insufficient_privilege'"),
                        views=Literal(VIEWS_TRACKING_NAME),
                    ),
                )
                for name, body in _GUARDS.items()
            ),
        ]
        refuse = "ledger_refuse_change"
        triggers = [
            *(
                (table, verb, refuse)
                for table in (
                    self.recorder.events_table_name,
                    COMMANDS_TABLE,
                    "audit_leaves",
                    "audit_tiles",
                    "audit_cosignatures",
                )
                for verb in ("UPDATE", "DELETE", "TRUNCATE")
            ),
            ("audit_leaves", "INSERT", "ledger_audit_leaf_in_order"),
            ("audit_checkpoints", "DELETE", refuse),
            ("audit_checkpoints", "TRUNCATE", refuse),
            ("audit_checkpoints", "UPDATE", "ledger_checkpoint_signed_again"),
            ("audit_tree", "DELETE", refuse),
            ("audit_tree", "TRUNCATE", refuse),
            ("audit_tree", "INSERT OR UPDATE", "ledger_audit_tree_grows"),
            (tracking, "TRUNCATE", refuse),
            (tracking, "UPDATE OR DELETE", "ledger_tracking_forward_only"),
        ]
        statements += [_trigger(schema, table, verb, function) for table, verb, function in triggers]
        with self.datastore.transaction(commit=True) as cursor:
            for statement in statements:
                cursor.execute(statement)

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        tracking = self.tracking
        with (
            self._connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            # Writers are serialised, so notification ids are committed in
            # order and the catch-up read sees every event committed before
            # this decision. The library locks the table IN EXCLUSIVE MODE for
            # this, which PostgreSQL grants only to a role that may UPDATE or
            # DELETE it; an advisory lock does the same for the runtime role,
            # which may only append (every insert into the log is ours).
            if self.datastore.lock_timeout:
                cursor.execute(SQL("SET LOCAL lock_timeout = '{}s'").format(self.datastore.lock_timeout))
            cursor.execute(ADVISORY_LOCK, (f"{self.datastore.schema}:write",))
            yield PostgresWriteSession(cursor, self.recorder, tracking)

    def notification_id_of(self, stream: UUID, version: int) -> int | None:
        statement = SQL(
            "SELECT notification_id FROM {}.{} WHERE originator_id = %s AND originator_version = %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.recorder.events_table_name))
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (stream, version))
            row = cursor.fetchone()
        return None if row is None else int(row["notification_id"])

    @contextmanager
    def views(self, lock: str = "views") -> Iterator[WriteSession]:
        tracking = self.tracking
        with (
            self._connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            # Followers take a lock of their own; writers wait only for the views'.
            cursor.execute(ADVISORY_LOCK, (f"{self.datastore.schema}:{lock}",))
            yield PostgresWriteSession(cursor, self.recorder, tracking)

    @contextmanager
    def read(self) -> Iterator[ReadSession]:
        with (
            self._connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            # One snapshot for every statement of the read, and no writes.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield PostgresReadSession(cursor, self.recorder, self.tracking_table)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection that works. One the server ended while it sat
        in the pool (a restart, an idle timeout, an administrator) is found
        out by an empty query and handed back, and the pool, seeing it
        broken, drops it and makes another; the next is taken at once. (The
        pool's own check waits a second, then two, then four, per dead
        connection: a pool of them held a request for half a minute.)"""
        for _ in range((self.datastore.pool.max_size or 1) + 1):
            with self.datastore.get_connection() as connection:
                try:
                    ConnectionPool.check_connection(connection)
                except psycopg.OperationalError:
                    continue
                yield connection
                return
        with self.datastore.get_connection() as connection:  # the server is gone: its error, as any other
            yield connection

    @property
    def tracking_table(self) -> str:
        """The library's tracking table, named after the application."""
        return f"{self.store.name.lower()}_tracking"


ADVISORY_LOCK = "SELECT pg_advisory_xact_lock(hashtext(%s))"

# The guards' functions, raising as PostgreSQL does for a missing privilege
# ({refused}). Tables are named with their schema: the guards run in any
# session's search path.
_GUARDS = {
    "ledger_refuse_change": "RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP {refused};",
    # The audit log's leaves: the next index, for an event after the last leaf's.
    "ledger_audit_leaf_in_order": (
        "IF NEW.leaf_index <> (SELECT coalesce(max(leaf_index), -1) + 1 FROM {schema}.audit_leaves) "
        "OR NEW.notification_id <= (SELECT notification_id FROM {schema}.audit_leaves "
        "ORDER BY leaf_index DESC LIMIT 1) THEN "
        "RAISE EXCEPTION 'audit_leaves grows by the next leaf only, of a later event' {refused}; END IF; "
        "RETURN NEW;"
    ),
    # A key rotation signs a stored checkpoint again: its body (up to the blank line) stays.
    "ledger_checkpoint_signed_again": (
        "IF NEW.tree_size <> OLD.tree_size OR left(NEW.note, strpos(OLD.note, chr(10) || chr(10))) "
        "<> left(OLD.note, strpos(OLD.note, chr(10) || chr(10))) THEN "
        "RAISE EXCEPTION 'audit_checkpoints is append-only: only the signatures of a checkpoint may change' "
        "{refused}; END IF; RETURN NEW;"
    ),
    "ledger_audit_tree_grows": (
        "IF NEW.singleton <> 1 OR NEW.tree_size <> (SELECT coalesce(max(leaf_index), -1) + 1 "
        "FROM {schema}.audit_leaves) THEN "
        "RAISE EXCEPTION 'audit_tree only grows: one row, the size of the leaves' {refused}; END IF; "
        "IF TG_OP = 'UPDATE' THEN IF NEW.tree_size <= OLD.tree_size THEN "
        "RAISE EXCEPTION 'audit_tree only grows' {refused}; END IF; END IF; RETURN NEW;"
    ),
    # Positions only move forward; the views alone start over, to be rebuilt
    # from the log (Projector.clear, migrations).
    "ledger_tracking_forward_only": (
        "IF TG_OP = 'DELETE' THEN "
        "IF OLD.application_name <> {views} THEN "
        "RAISE EXCEPTION 'tracking positions only move forward: only that of the views may start over' {refused}; "
        "END IF; RETURN OLD; END IF; "
        "IF NEW.application_name <> OLD.application_name OR NEW.notification_id < OLD.notification_id THEN "
        "RAISE EXCEPTION 'tracking positions only move forward' {refused}; END IF; RETURN NEW;"
    ),
}


def _function(schema: Identifier, name: str, body: Composed) -> Composed:
    return SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"
    ).format(schema=schema, name=Identifier(name), body=body)


def _trigger(schema: Identifier, table: str, verb: str, function: str) -> Composed:
    """A guard's trigger: `<table>_no_<verb>` for a refusal, as the first
    release named them, `<table>_guard` for a table's one check."""
    level = "STATEMENT" if verb == "TRUNCATE" else "ROW"
    return SQL(
        "CREATE OR REPLACE TRIGGER {name} BEFORE {verb} ON {schema}.{table} "
        "FOR EACH {level} EXECUTE FUNCTION {schema}.{function}()"
    ).format(
        name=Identifier(f"{table}_no_{verb.lower()}" if function == "ledger_refuse_change" else f"{table}_guard"),
        verb=SQL(verb),
        level=SQL(level),
        schema=schema,
        table=Identifier(table),
        function=Identifier(function),
    )


def admin_connection(target: PostgresTarget) -> psycopg.Connection[Any]:
    """A plain autocommit connection for schema set-up and removal, by the
    whole conninfo; 5 seconds to connect unless it sets connect_timeout."""
    conninfo = target.conninfo
    if "connect_timeout" not in target.params:
        conninfo = make_conninfo(conninfo, connect_timeout=5)
    return psycopg.connect(conninfo, autocommit=True)


def ensure_postgres_schema(target: PostgresTarget) -> None:
    """The library expects the schema to exist; a sandbox creates its own."""
    with admin_connection(target) as connection:
        # Asked first: CREATE SCHEMA IF NOT EXISTS needs CREATE on the whole
        # database even when the schema exists, which an owner role lacks.
        if connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (target.schema,)).fetchone() is None:
            with contextlib.suppress(psycopg.errors.DuplicateSchema):  # made by another init meanwhile
                connection.execute(SQL("CREATE SCHEMA {0}").format(Identifier(target.schema)))


def _placeholders(statement: str) -> str:
    """The projections' portable SQL uses `?`; psycopg wants `%s`."""
    return statement.replace("?", "%s")


def drop_schema(target: PostgresTarget) -> None:
    """Drops a sandbox's whole schema (tables, triggers, functions): a reset."""
    with admin_connection(target) as connection:
        connection.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(target.schema)))


def set_up_roles(target: PostgresTarget, *, runtime: str | None, owner: str | None, execute: bool) -> list[str]:
    """Sets up (or, without `execute`, only returns the SQL of) the owner and
    runtime roles of the schema (see `ledger.store.roles`), in one transaction."""
    from ledger.store.roles import role_statements  # noqa: PLC0415 (only init and migrate need it)

    with admin_connection(target) as connection:
        statements = role_statements(connection, target.schema, runtime=runtime, owner=owner)
        if execute:
            with connection.transaction():
                for statement in statements:
                    connection.execute(statement.encode())
    return statements
