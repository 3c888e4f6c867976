"""History cannot be rewritten with the app's credentials: the database itself refuses it.

On SQLite the app's credentials are the file: every statement a holder of
the file can run without DDL is tried through a plain sqlite3 connection. On
PostgreSQL they are the runtime role's: every statement is tried as that role.
After each, the history is byte-identical.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from psycopg import errors, sql

from domain.commands import Deposit
from ledger import Sandbox
from ledger.audit.tiles import TILE_WIDTH
from tests.conftest import _connect
from tests.world import funding_commands, setup_commands

COMMANDS = [
    command for command in setup_commands() + funding_commands() if command.key != "bank"
]  # init establishes the bank


FULL_TILE = [
    Deposit(key=f"tile-{n}", client_id="alesia", asset="BYN", amount="1", reference="r") for n in range(TILE_WIDTH)
]


@dataclass(frozen=True)
class Guarded:
    """A guarded table, and how a forger would rewrite its rows."""

    columns: str  # every column, in order
    key: str  # its primary key
    forged: str  # the columns of a row that rewrites one there
    change: str  # an assignment that rewrites a row


SQLITE_TABLES = {
    "stored_events": Guarded(
        "originator_id, originator_version, topic, state",
        "originator_id, originator_version",
        "originator_id, originator_version, topic, x'7b7d'",
        "state = x'7b7d'",
    ),
    "ledger_commands": Guarded("key, digest, result", "key", "key, 'forged', result", "result = 'forged'"),
    "audit_leaves": Guarded(
        "leaf_index, notification_id, leaf_hash", "leaf_index", "leaf_index, notification_id, 'ff'", "leaf_hash = 'ff'"
    ),
    "audit_checkpoints": Guarded(
        "tree_size, note, signed_at", "tree_size", "tree_size, 'forged', signed_at", "note = 'forged'"
    ),
    "audit_tree": Guarded(
        "singleton, tree_size, compact_range",
        "singleton",
        "singleton, tree_size - 1, ''",
        "tree_size = {table}.tree_size - 1",
    ),
    "audit_tiles": Guarded(
        "tile_level, tile_index, hashes, root",
        "tile_level, tile_index",
        "tile_level, tile_index, hashes, 'ff'",
        "root = 'ff'",
    ),
    "audit_cosignatures": Guarded(
        "tree_size, witness, line", "tree_size, witness", "tree_size, witness, 'forged'", "line = 'forged'"
    ),
    "tracking": Guarded(
        "application_name, notification_id",
        "application_name",
        "application_name, notification_id - 1",
        "notification_id = {table}.notification_id - 1",
    ),
}
POSTGRES_TABLES = {
    "ledger_events": Guarded(
        "notification_id, originator_id, originator_version, topic, state",
        "originator_id, originator_version",
        "notification_id, originator_id, originator_version, topic, '\\x7b7d'::bytea",
        "state = '\\x7b7d'::bytea",
    ),
    "ledger_tracking": SQLITE_TABLES["tracking"],
    **{
        name: SQLITE_TABLES[name]
        for name in (
            "ledger_commands",
            "audit_leaves",
            "audit_checkpoints",
            "audit_tree",
            "audit_tiles",
            "audit_cosignatures",
        )
    },
}
SQLITE_STATEMENTS = {
    "update": "UPDATE {table} SET {change}",
    "delete": "DELETE FROM {table}",
    "insert-or-replace": "INSERT OR REPLACE INTO {table} ({columns}) SELECT {forged} FROM {table}",
    "replace-into": "REPLACE INTO {table} ({columns}) SELECT {forged} FROM {table}",
    "upsert": "INSERT INTO {table} ({columns}) SELECT {forged} FROM {table} WHERE true "
    "ON CONFLICT DO UPDATE SET {change}",
}
POSTGRES_STATEMENTS = {
    "update": "UPDATE {table} SET {change}",
    "delete": "DELETE FROM {table}",
    "truncate": "TRUNCATE {table}",
    "upsert": "INSERT INTO {table} ({columns}) SELECT {forged} FROM {table} ON CONFLICT ({key}) DO UPDATE SET {change}",
    "disable-trigger": "ALTER TABLE {table} DISABLE TRIGGER ALL",
    "drop-trigger": "DROP TRIGGER {table}_no_truncate ON {table}",
    "drop-table": "DROP TABLE {table}",
}


def statement(template: str, table: str, guarded: Guarded) -> str:
    return template.format(
        table=table,
        columns=guarded.columns,
        key=guarded.key,
        forged=guarded.forged,
        change=guarded.change.format(table=table),
    )


def a_bank(home: Path, database_url: str) -> None:
    """A bank with commands, audit leaves, a checkpoint and both followers' positions."""
    sandbox = Sandbox.at(home, database_url)
    sandbox.init(allow_unencrypted_key=True)
    with sandbox.open_writer() as ledger:
        ledger.submit(COMMANDS)
        ledger.submit(FULL_TILE)  # a full tile of the audit tree is stored
        ledger.audit.catch_up()
        size = ledger.audit.tree().size
        with ledger.backend.views("audit") as session:  # as a witness's answer is kept
            session.execute("INSERT INTO audit_cosignatures VALUES (?, ?, ?)", (size, "w.example+00000000", "- w"))


# SQLite: a plain connection to the store's file.


@pytest.fixture(scope="module")
def sqlite_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bank")
    a_bank(home, f"sqlite:///{home / 'ledger.sqlite'}")
    return home / "ledger.sqlite"


def sqlite_history(connection: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    def rows(table: str) -> list[tuple[object, ...]]:
        columns = "rowid, *" if table == "stored_events" else "*"  # (the others are WITHOUT ROWID or keyed)
        return connection.execute(f"SELECT {columns} FROM {table} ORDER BY 1, 2").fetchall()

    return {table: rows(table) for table in SQLITE_TABLES}


@pytest.fixture
def sqlite_store(sqlite_bank: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(sqlite_bank, isolation_level=None)
    before = sqlite_history(connection)
    assert all(before.values()), before  # every guarded table has rows to rewrite
    yield connection
    assert sqlite_history(connection) == before
    connection.close()


@pytest.mark.parametrize("kind", list(SQLITE_STATEMENTS))
@pytest.mark.parametrize("table", list(SQLITE_TABLES))
def test_an_sqlite_store_refuses_every_rewrite_of_history_without_ddl(
    sqlite_store: sqlite3.Connection, table: str, kind: str
) -> None:
    with pytest.raises(sqlite3.IntegrityError, match=table):
        sqlite_store.execute(statement(SQLITE_STATEMENTS[kind], table, SQLITE_TABLES[table]))


def test_an_sqlite_store_refuses_an_event_replaced_by_its_notification_id(sqlite_store: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        sqlite_store.execute(
            "INSERT OR REPLACE INTO stored_events (rowid, originator_id, originator_version, topic, state) "
            "SELECT rowid, 'ffffffffffffffffffffffffffffffff', 1, topic, state FROM stored_events WHERE rowid = 3"
        )


@pytest.mark.parametrize("table", list(SQLITE_TABLES))
def test_insert_or_ignore_of_a_key_that_exists_changes_nothing(sqlite_store: sqlite3.Connection, table: str) -> None:
    guarded = SQLITE_TABLES[table]
    forged = f"INSERT OR IGNORE INTO {table} ({guarded.columns}) SELECT {guarded.forged} FROM {table}"
    try:
        sqlite_store.execute(forged)
    except sqlite3.IntegrityError as refused:  # the guards refuse it before the IGNORE
        assert table in str(refused)  # noqa: PT017


def test_the_audit_log_of_an_sqlite_store_is_only_appended_to(sqlite_store: sqlite3.Connection) -> None:
    """A leaf out of order, a second tree, a checkpoint signed over another root."""
    refused = [
        "INSERT INTO audit_leaves SELECT max(leaf_index) + 2, max(notification_id) + 1, 'ff' FROM audit_leaves",
        "INSERT INTO audit_leaves SELECT max(leaf_index) + 1, min(notification_id), 'ff' FROM audit_leaves",
        "INSERT INTO audit_tree VALUES (2, 1, '')",
        "UPDATE audit_tree SET tree_size = tree_size + 1",
        "UPDATE audit_checkpoints SET note = replace(note, substr(note, 1, 10), 'forged.org')",
        "UPDATE audit_checkpoints SET tree_size = tree_size + 1000",
        "DELETE FROM tracking WHERE application_name = 'ledger-audit'",
        "UPDATE tracking SET application_name = 'other'",
    ]
    for forged in refused:
        with pytest.raises(sqlite3.IntegrityError):
            sqlite_store.execute(forged)


def test_dropping_a_guard_is_ddl_that_sqlite_cannot_stop_but_a_replay_check_catches(tmp_path: Path) -> None:
    """Whoever holds the file can run DDL: SQLite has no privileges. What was
    signed still tells: the views and the audit log no longer match the log."""
    home = tmp_path / "bank"
    a_bank(home, f"sqlite:///{home / 'ledger.sqlite'}")
    with sqlite3.connect(home / "ledger.sqlite") as connection:
        connection.execute("DROP TRIGGER stored_events_no_update")
        (state,) = connection.execute("SELECT state FROM stored_events WHERE rowid = 15").fetchone()
        forged = state.replace(b"30000", b"90000")  # postings that still balance
        assert forged != state
        connection.execute("UPDATE stored_events SET state = ? WHERE rowid = 15", (forged,))
    from tests.acceptance.cli import ledger  # noqa: PLC0415 (the CLI, as an auditor runs it)

    checked = ledger("replay", "--check", "--home", str(home))
    assert checked.returncode == 1, checked.stdout + checked.stderr


# PostgreSQL: the runtime role's connection.


@pytest.fixture(scope="module")
def postgres_bank(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[tuple[str, str]]:
    """A bank in a schema of its own, and a runtime role's URL for it (both dropped afterwards)."""
    schema, role = f"test_{uuid4().hex[:16]}", f"ledger_app_{uuid4().hex[:8]}"
    url = f"{postgres_server}?schema={schema}"
    try:
        home = tmp_path_factory.mktemp("bank")
        a_bank(home, url)
        Sandbox.at(home, url).set_up_roles(runtime=role, owner=None)
        yield schema, postgres_server.replace("postgres@", f"{role}@", 1)
    finally:
        with _connect(postgres_server) as connection:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            if connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
                connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def postgres_history(server: str, schema: str) -> dict[str, list[tuple[object, ...]]]:
    with _connect(server) as connection:
        return {
            table: connection.execute(
                sql.SQL("SELECT * FROM {}.{} ORDER BY 1, 2").format(sql.Identifier(schema), sql.Identifier(table))
            ).fetchall()
            for table in POSTGRES_TABLES
        }


@pytest.fixture
def runtime(postgres_bank: tuple[str, str], postgres_server: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection as the runtime role, the history checked unchanged after the test."""
    schema, url = postgres_bank
    before = postgres_history(postgres_server, schema)
    assert all(before.values()), before
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        yield connection
    assert postgres_history(postgres_server, schema) == before


@pytest.mark.postgres
@pytest.mark.parametrize("kind", list(POSTGRES_STATEMENTS))
@pytest.mark.parametrize("table", list(POSTGRES_TABLES))
def test_the_runtime_role_cannot_rewrite_history_nor_switch_off_its_guards(
    runtime: psycopg.Connection[tuple[object, ...]], table: str, kind: str
) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        runtime.execute(statement(POSTGRES_STATEMENTS[kind], table, POSTGRES_TABLES[table]).encode())


@pytest.mark.postgres
def test_the_runtime_role_cannot_switch_triggers_off_for_its_session(
    runtime: psycopg.Connection[tuple[object, ...]],
) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        runtime.execute("SET session_replication_role = replica")
    (superuser,) = runtime.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() or (True,)
    assert superuser is False


@pytest.mark.postgres
def test_the_audit_log_of_a_postgresql_store_is_only_appended_to(
    runtime: psycopg.Connection[tuple[object, ...]],
) -> None:
    refused = [
        "INSERT INTO audit_leaves SELECT max(leaf_index) + 2, max(notification_id) + 1, 'ff' FROM audit_leaves",
        "INSERT INTO audit_leaves SELECT max(leaf_index) + 1, min(notification_id), 'ff' FROM audit_leaves",
        "UPDATE audit_tree SET tree_size = tree_size + 1",
        "DELETE FROM ledger_tracking WHERE application_name = 'ledger-audit'",
        "UPDATE ledger_tracking SET application_name = 'other' WHERE application_name = 'ledger-audit'",
    ]
    for forged in refused:
        with pytest.raises(errors.InsufficientPrivilege):
            runtime.execute(forged.encode())


@pytest.mark.postgres
def test_the_owner_too_is_refused_a_rewrite_of_history_by_the_triggers(
    postgres_bank: tuple[str, str], postgres_server: str
) -> None:
    """Without the runtime role (the quick start's one user), the triggers still refuse."""
    schema, _ = postgres_bank
    before = postgres_history(postgres_server, schema)
    with _connect(postgres_server) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for table, guarded in POSTGRES_TABLES.items():
            for kind in ("update", "delete", "truncate", "upsert"):
                with pytest.raises(errors.InsufficientPrivilege, match=table.removeprefix("ledger_")):
                    connection.execute(statement(POSTGRES_STATEMENTS[kind], table, guarded).encode())
    assert postgres_history(postgres_server, schema) == before
