"""The ledger connects as libpq would with the URL: TLS modes, application
names, several hosts, Unix sockets, session attributes, timeouts; the admin
connection and the library's pool alike."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, cast
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from psycopg import sql

from ledger import Ledger
from ledger.store.pgconninfo import ConninfoPostgresFactory
from ledger.store.ports import parse_postgres_url
from ledger.store.postgres import PostgresBackend
from tests.acceptance.cli import ledger as run_ledger
from tests.conftest import _connect
from tests.world import setup_commands

SOCKET_DIR = Path("/var/run/postgresql")


def parts(postgres_url: str) -> dict[str, str]:
    """The fixture URL's user, host, port, database and schema, to build other forms from."""
    target = parse_postgres_url(postgres_url)
    params = target.params
    return {
        "user": params.get("user", "postgres"),
        "host": params.get("host", "127.0.0.1"),
        "port": params.get("port", "5432"),
        "dbname": params.get("dbname", "test"),
        "schema": target.schema,
    }


def schema_exists(postgres_server: str, schema: str) -> bool:
    with _connect(postgres_server) as connection:
        row = connection.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone()
    return row is not None and row[0] == 1


@contextmanager
def pooled(ledger: Ledger) -> Iterator[psycopg.Connection[Any]]:
    """A connection from the ledger's own pool (the library's datastore)."""
    with cast(PostgresBackend, ledger.backend).datastore.get_connection() as connection:
        yield connection


def show(connection: psycopg.Connection[Any], setting: str) -> str:
    row = connection.execute(f"SHOW {setting}").fetchone()
    assert row is not None
    return str(next(iter(row.values())))


@pytest.fixture
def server_without_tls(postgres_server: str) -> str:
    with _connect(postgres_server) as connection:
        row = connection.execute("SHOW ssl").fetchone()
    if row is None or row[0] != "off":
        pytest.skip("the server offers TLS")
    return postgres_server


@pytest.mark.postgres
def test_sslmode_require_against_a_server_without_tls_is_refused_and_creates_nothing(
    tmp_path: Path, server_without_tls: str, postgres_url: str
) -> None:
    with pytest.raises(psycopg.OperationalError, match="server does not support SSL, but SSL was required"):
        Ledger.open(home=tmp_path, database_url=f"{postgres_url}&sslmode=require", create=True)
    assert not schema_exists(server_without_tls, parts(postgres_url)["schema"])


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("psql") is None, reason="no psql on this machine")
def test_psql_refuses_the_same_sslmode_require_url(server_without_tls: str) -> None:
    result = subprocess.run(
        ["psql", f"{server_without_tls}?sslmode=require", "-c", "SELECT 1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "server does not support SSL, but SSL was required" in result.stderr


@pytest.mark.postgres
def test_the_cli_reports_a_refused_sslmode_in_one_line(
    tmp_path: Path, server_without_tls: str, postgres_url: str
) -> None:
    result = run_ledger("balances", "--home", str(tmp_path), "--database-url", f"{postgres_url}&sslmode=require")
    assert result.returncode == 2
    assert result.stderr.startswith("error: the PostgreSQL store could not be used:")
    assert "SSL was required" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not schema_exists(server_without_tls, parts(postgres_url)["schema"])


def test_the_cli_reports_an_unknown_parameter_in_one_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:5432/test?sslmod=require"
    result = run_ledger("balances", "--home", str(tmp_path), "--database-url", url)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: database URL 'postgresql://postgres:***@127.0.0.1:5432/test?sslmod=require': "
        'invalid URI query parameter: "sslmod"'
    )


@pytest.mark.postgres
def test_the_application_name_and_connect_timeout_reach_the_pooled_connections(
    tmp_path: Path, postgres_server: str, postgres_url: str
) -> None:
    name = f"ledger_{uuid4().hex[:8]}"
    with Ledger.open(
        home=tmp_path, database_url=f"{postgres_url}&application_name={name}&connect_timeout=7", create=True
    ) as ledger:
        with pooled(ledger) as connection:
            assert show(connection, "application_name") == name
            assert "connect_timeout=7" in connection.info.dsn
        with _connect(postgres_server) as observer:
            row = observer.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,))
            assert cast(tuple[int], row.fetchone())[0] >= 1


def test_a_connect_timeout_in_the_url_bounds_the_wait_for_a_silent_server(tmp_path: Path) -> None:
    # A listener that never answers: the connection is accepted by the kernel
    # and the startup reply never comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        url = f"postgresql://postgres@127.0.0.1:{port}/test?connect_timeout=2"
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError, match="timeout"):
            Ledger.open(home=tmp_path, database_url=url, create=True)
        # Well under the admin connection's 5 seconds for URLs without one.
        assert time.monotonic() - started < 4.5


@pytest.mark.postgres
def test_several_hosts_connect_past_an_unreachable_first_one(tmp_path: Path, postgres_url: str) -> None:
    p = parts(postgres_url)
    url = f"postgresql://{p['user']}@127.0.0.1:1,{p['host']}:{p['port']}/{p['dbname']}?schema={p['schema']}"
    with Ledger.open(home=tmp_path, database_url=url, create=True) as ledger:
        results = ledger.submit(setup_commands())
        with pooled(ledger) as connection:
            assert connection.info.port == int(p["port"])
    assert all(result.accepted for result in results)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "form",
    [
        "postgresql:///{dbname}?host={socket_dir}&port={port}&user={user}&schema={schema}",
        "postgresql://{user}@%2Fvar%2Frun%2Fpostgresql:{port}/{dbname}?schema={schema}",
    ],
    ids=["host-parameter", "percent-encoded-host"],
)
def test_a_unix_socket_serves_the_admin_and_the_pooled_connections(
    tmp_path: Path, postgres_url: str, form: str
) -> None:
    p = parts(postgres_url)
    if not (SOCKET_DIR / f".s.PGSQL.{p['port']}").exists():
        pytest.skip(f"no PostgreSQL socket in {SOCKET_DIR}")
    with Ledger.open(home=tmp_path, database_url=form.format(socket_dir=SOCKET_DIR, **p), create=True) as ledger:
        ledger.submit(setup_commands())
        with pooled(ledger) as connection:
            assert connection.info.host == str(SOCKET_DIR)
            row = connection.execute("SELECT inet_client_addr() AS address").fetchone()
            assert row == {"address": None}


@pytest.mark.postgres
def test_target_session_attrs_read_write_connects_to_the_writable_server(tmp_path: Path, postgres_url: str) -> None:
    with Ledger.open(
        home=tmp_path, database_url=f"{postgres_url}&target_session_attrs=read-write", create=True
    ) as ledger:
        results = ledger.submit(setup_commands())
        with pooled(ledger) as connection:
            assert "target_session_attrs=read-write" in connection.info.dsn
            assert show(connection, "transaction_read_only") == "off"
    assert all(result.accepted for result in results)


@pytest.mark.postgres
def test_a_libpq_keyword_value_string_opens_the_ledger_in_its_schema(
    tmp_path: Path, postgres_server: str, postgres_url: str
) -> None:
    p = parts(postgres_url)
    url = f"host={p['host']} port={p['port']} dbname={p['dbname']} user={p['user']} schema={p['schema']}"
    with Ledger.open(home=tmp_path, database_url=url, create=True) as ledger:
        results = ledger.submit(setup_commands())
    assert all(result.accepted for result in results)
    with _connect(postgres_server) as connection:
        row = connection.execute(sql.SQL("SELECT count(*) FROM {}.ledger_events").format(sql.Identifier(p["schema"])))
        assert cast(tuple[int], row.fetchone())[0] >= len(results)


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "connects"), [("", True), ("&sslmode=require", False)], ids=["plain", "sslmode"])
def test_the_pool_itself_connects_by_the_conninfo_so_it_refuses_sslmode_require_too(
    server_without_tls: str, postgres_url: str, query: str, connects: bool
) -> None:
    target = parse_postgres_url(postgres_url + query)
    factory = ConninfoPostgresFactory({**target.env(), "POSTGRES_CONNECT_TIMEOUT": "2"})
    expectation: AbstractContextManager[object] = nullcontext() if connects else pytest.raises(OperationalError)
    try:
        with expectation, factory.datastore.get_connection() as connection:
            connection.execute("SELECT 1")
    finally:
        factory.close()
