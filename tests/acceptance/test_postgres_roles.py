"""Least privilege on PostgreSQL: the runtime role appends to history and keeps its views, and nothing more."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from psycopg import errors, sql

from tests.acceptance.cli import ledger, write_batch

pytestmark = pytest.mark.postgres

SETUP = [
    {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"},
    {
        "type": "onboard_client",
        "key": "c",
        "client_id": "ales",
        "name": "Ales",
        "residency": "resident",
        "kind": "individual",
    },
    {"type": "verify_kyc", "key": "k", "client_id": "ales"},
    {"type": "deposit", "key": "d", "client_id": "ales", "asset": "BYN", "amount": "5.00", "reference": "r"},
]


def as_role(url: str, role: str) -> str:
    """The same database URL, connecting as `role`."""
    return url.replace("postgres@", f"{role}@", 1)


@pytest.fixture
def runtime(tmp_path: Path, postgres_url: str, postgres_server: str) -> Iterator[tuple[Path, str, str]]:
    """A store made by `ledger init --runtime-role`, and the runtime role's URL."""
    role = f"ledger_app_{uuid4().hex[:8]}"
    home = tmp_path / "bank"
    result = ledger(
        "init", "--home", str(home), "--database-url", postgres_url, "--sandbox-key", "--runtime-role", role
    )
    assert result.returncode == 0, result.stderr
    assert f"The runtime role {role} is set up" in result.stdout
    yield home, as_role(postgres_url, role), role
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(postgres_url.split("=")[1]))
        )
        connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        connection.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_service_runs_as_the_runtime_role(runtime: tuple[Path, str, str], tmp_path: Path) -> None:
    home, url, _ = runtime
    result = ledger(
        "submit", str(write_batch(tmp_path / "setup.jsonl", *SETUP)), "--home", str(home), "--database-url", url
    )
    assert result.returncode == 0, result.stderr
    balances = ledger("balances", "--home", str(home), "--database-url", url, "--json")
    assert json.loads(balances.stdout) == [{"account": "client:ales", "asset": "BYN", "amount": "5.00"}]
    for args in (["report", "compliance"], ["audit", "checkpoint"]):
        assert ledger(*args, "--home", str(home), "--database-url", url).returncode == 0, args


def test_only_the_owner_writes_snapshots_and_rotates_the_key(
    runtime: tuple[Path, str, str], tmp_path: Path, postgres_url: str
) -> None:
    home, url, _ = runtime
    refused = ledger("snapshot", "--home", str(home), "--database-url", url)
    assert refused.returncode == 2
    assert "permission denied" in refused.stderr
    before = (home / "keys" / "signing-key.pem").read_bytes()
    rotation = ledger("audit", "rotate-key", "--home", str(home), "--database-url", url, "--sandbox-key")
    assert rotation.returncode == 2, rotation.stdout
    assert "permission denied" in rotation.stderr
    assert (home / "keys" / "signing-key.pem").read_bytes() == before  # refused before any key moved
    assert ledger("snapshot", "--home", str(home), "--database-url", postgres_url).returncode == 0


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET topic = 'forged'",
        "DELETE FROM ledger_events",
        "TRUNCATE ledger_events",
        "UPDATE ledger_commands SET result = 'forged'",
        "DELETE FROM ledger_commands",
        "TRUNCATE ledger_commands",
        "DELETE FROM audit_leaves",
        "UPDATE ledger_store SET value = 'forged'",
        "ALTER TABLE ledger_events ADD COLUMN note text",
        "DROP TABLE ledger_events",
        "DROP TRIGGER ledger_events_no_update ON ledger_events",
        "ALTER TABLE ledger_events DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "CREATE TABLE ledger_shadow (x int)",
        "DELETE FROM ledger_snapshots",
        "INSERT INTO ledger_snapshots VALUES (99, 1, 'd', 't', '{}')",
    ],
)
def test_the_runtime_role_cannot_rewrite_history_or_switch_its_guards_off(
    runtime: tuple[Path, str, str], tmp_path: Path, statement: str
) -> None:
    home, url, _ = runtime
    ledger("submit", str(write_batch(tmp_path / "setup.jsonl", *SETUP)), "--home", str(home), "--database-url", url)
    schema = url.split("schema=")[1]
    with psycopg.connect(url.split("?")[0], autocommit=True) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        with pytest.raises(errors.InsufficientPrivilege):
            connection.execute(statement.encode())
        (events,) = connection.execute("SELECT count(*) FROM ledger_events").fetchone() or (0,)
    assert events == 5  # the bank's establishment and the four commands, all still there


def test_migrate_prints_the_roles_sql_without_running_it(
    tmp_path: Path, postgres_url: str, postgres_server: str
) -> None:
    home = str(tmp_path / "bank")
    assert ledger("init", "--home", home, "--database-url", postgres_url, "--sandbox-key").returncode == 0
    role = f"ledger_app_{uuid4().hex[:8]}"
    result = ledger("migrate", "--home", home, "--database-url", postgres_url, "--runtime-role", role, "--print-sql")
    assert result.returncode == 0, result.stderr
    assert f'CREATE ROLE "{role}" LOGIN' in result.stdout
    assert "GRANT SELECT, INSERT ON" in result.stdout
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        assert connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None


def test_roles_are_refused_for_an_sqlite_store(tmp_path: Path) -> None:
    result = ledger("init", "--home", str(tmp_path / "bank"), "--sandbox-key", "--runtime-role", "app")
    assert result.returncode == 2
    assert "PostgreSQL" in result.stderr
    assert not (tmp_path / "bank").exists()


def test_an_owner_role_owns_the_schema_and_migrates_it(tmp_path: Path, postgres_url: str, postgres_server: str) -> None:
    owner = f"ledger_owner_{uuid4().hex[:8]}"
    home = str(tmp_path / "bank")
    schema = postgres_url.split("schema=")[1]
    try:
        result = ledger("init", "--home", home, "--database-url", postgres_url, "--sandbox-key", "--owner-role", owner)
        assert result.returncode == 0, result.stderr
        with psycopg.connect(postgres_server, autocommit=True) as connection:
            owners = connection.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = %s::regnamespace "
                "UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = %s "
                "UNION SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc WHERE pronamespace = %s::regnamespace",
                (schema, schema, schema),
            ).fetchall()
        assert owners == [(owner,)]
        migrated = ledger("migrate", "--home", home, "--database-url", as_role(postgres_url, owner))
        assert migrated.returncode == 0, migrated.stderr
        assert "nothing to do" in migrated.stdout
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            connection.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(owner)))
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))
