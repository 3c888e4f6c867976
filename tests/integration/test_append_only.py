"""The event tables refuse UPDATE and DELETE in the database itself."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ledger import Ledger
from tests.conftest import _connect
from tests.world import funding_commands, setup_commands


def filled(home: Path, database_url: str) -> Ledger:
    ledger = Ledger.open(home=home, database_url=database_url, create=True)
    ledger.submit(setup_commands() + funding_commands())
    return ledger


@pytest.mark.parametrize("table", ["stored_events", "ledger_commands"])
@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET digest = digest", "DELETE FROM {table}"],
    ids=["update", "delete"],
)
def test_sqlite_tables_refuse_changes_to_what_was_written(tmp_path: Path, table: str, statement: str) -> None:
    path = tmp_path / "ledger.sqlite"
    filled(tmp_path, f"sqlite:///{path}").close()
    if table == "stored_events":
        statement = statement.replace("digest = digest", "state = x'00'")
    connection = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        connection.execute(statement.format(table=table))
    rows = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    connection.close()
    assert rows == len(setup_commands() + funding_commands())


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["ledger_events", "ledger_commands"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {schema}.{table} SET topic = topic",
        "DELETE FROM {schema}.{table}",
        "TRUNCATE {schema}.{table}",
    ],
    ids=["update", "delete", "truncate"],
)
def test_postgres_tables_refuse_changes_to_what_was_written(
    tmp_path: Path, postgres_url: str, postgres_server: str, table: str, statement: str
) -> None:
    filled(tmp_path, postgres_url).close()
    schema = postgres_url.rsplit("schema=", 1)[1]
    if table == "ledger_commands":
        statement = statement.replace("topic = topic", "digest = digest")
    query = sql.SQL(statement).format(schema=sql.Identifier(schema), table=sql.Identifier(table))  # type: ignore[arg-type]
    with _connect(postgres_server) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            connection.execute(query)
        count = sql.SQL("SELECT COUNT(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        row = connection.execute(count).fetchone()
    assert row is not None
    assert row[0] == len(setup_commands() + funding_commands())
