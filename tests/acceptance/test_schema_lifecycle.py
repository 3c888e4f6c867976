"""The store's schema lifecycle: init creates, migrate upgrades, every other open only checks."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from ledger import Sandbox
from ledger.store.schema import SCHEMA_VERSION
from tests.acceptance.cli import ledger, store_digest, write_batch

RELEASE_1 = Path(__file__).parent.parent / "fixtures" / "release-1"
SCHEMA_1 = Path(__file__).parent.parent / "fixtures" / "schema-1"  # made by the release before the HTTP service
ONE_DEPOSIT = (
    '{"type": "deposit", "key": "x", "client_id": "alesia", "asset": "BYN", "amount": "1", "reference": "r"}\n'
)
SETUP = [
    {
        "type": "onboard_client",
        "key": "c",
        "client_id": "alesia",
        "name": "Alesia",
        "residency": "resident",
        "kind": "individual",
    },
    {"type": "verify_kyc", "key": "k", "client_id": "alesia"},
    {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"},
]
DEPOSIT = {"type": "deposit", "client_id": "alesia", "asset": "BYN", "amount": "1.00", "reference": "r"}


def sqlite_catalog(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()


def postgres_catalog(base: str, schema: str) -> list[tuple[object, ...]]:
    """Every relation, function and trigger of the schema with the transaction
    that last wrote its catalog row: any DDL, even CREATE OR REPLACE, changes it."""
    with psycopg.connect(base, autocommit=True) as connection:
        return connection.execute(
            "SELECT 'rel', relname, xmin::text FROM pg_class WHERE relnamespace = %s::regnamespace "
            "UNION ALL SELECT 'proc', proname, xmin::text FROM pg_proc WHERE pronamespace = %s::regnamespace "
            "UNION ALL SELECT 'trigger', tgname, t.xmin::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = %s::regnamespace ORDER BY 1, 2",
            (schema, schema, schema),
        ).fetchall()


def schema_exists(base: str, schema: str) -> bool:
    with psycopg.connect(base, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def schema_of(url: str) -> str:
    return url.split("schema=")[1]


@pytest.fixture
def first_release_sqlite(tmp_path: Path) -> Path:
    """A sandbox home made by the first release (no schema version recorded)."""
    home = tmp_path / "release-1"
    shutil.copytree(RELEASE_1 / "sqlite-home", home)
    return home


@pytest.fixture
def first_release_postgres(tmp_path: Path, postgres_server: str) -> Iterator[tuple[Path, str]]:
    """A home and a PostgreSQL schema made by the first release, loaded from its dump."""
    schema = f"test_{uuid4().hex[:16]}"
    dump = (RELEASE_1 / "postgres.sql").read_text().replace("release_one", schema)
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(dump.encode())
    home = tmp_path / "release-1-pg"
    shutil.copytree(RELEASE_1 / "postgres-home", home)
    yield home, f"{postgres_server}?schema={schema}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_a_store_made_by_the_first_release_is_refused_until_migrated_and_then_shows_the_same_balances(
    first_release_sqlite: Path,
) -> None:
    home = str(first_release_sqlite)
    before = store_digest(first_release_sqlite)
    refused = ledger("balances", "--home", home)
    assert refused.returncode == 2
    assert "schema version 0" in refused.stderr
    assert "ledger migrate" in refused.stderr
    assert store_digest(first_release_sqlite) == before

    migrated = ledger("migrate", "--home", home)
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema version {SCHEMA_VERSION}" in migrated.stdout
    balances = ledger("balances", "--home", home, "--json", "--system")
    assert json.loads(balances.stdout) == json.loads((RELEASE_1 / "balances.json").read_text())

    again = ledger("migrate", "--home", home)
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    assert ledger("balances", "--home", home, "--json", "--system").stdout == balances.stdout


def test_a_migrated_store_takes_commands_and_records_its_bank(first_release_sqlite: Path, tmp_path: Path) -> None:
    home = str(first_release_sqlite)
    assert ledger("migrate", "--home", home).returncode == 0
    result = ledger("submit", str(write_batch(tmp_path / "d.jsonl", {**DEPOSIT, "key": "d1"})), "--home", home)
    assert result.returncode == 0, result.stderr
    with Sandbox.at(first_release_sqlite).open_reader() as reader:
        facts = reader.backend.facts
    assert facts is not None
    assert facts.verifier_key == (first_release_sqlite / "keys" / "verifier-key.txt").read_text().strip()


@pytest.mark.postgres
def test_a_postgresql_schema_made_by_the_first_release_migrates_to_the_same_balances(
    first_release_postgres: tuple[Path, str],
) -> None:
    home, url = first_release_postgres
    assert ledger("balances", "--home", str(home), "--database-url", url).returncode == 2
    migrated = ledger("migrate", "--home", str(home), "--database-url", url)
    assert migrated.returncode == 0, migrated.stderr
    balances = ledger("balances", "--home", str(home), "--database-url", url, "--json", "--system")
    assert json.loads(balances.stdout) == json.loads((RELEASE_1 / "balances.json").read_text())


def test_a_store_at_schema_version_1_is_refused_until_migrated_and_then_shows_the_same_balances_and_transactions(
    tmp_path: Path,
) -> None:
    home = tmp_path / "schema-1"
    shutil.copytree(SCHEMA_1 / "sqlite-home", home)
    before = store_digest(home)
    refused = ledger("balances", "--home", str(home))
    assert refused.returncode == 2
    assert "schema version 1, this release needs" in refused.stderr
    assert store_digest(home) == before

    migrated = ledger("migrate", "--home", str(home))
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema version {SCHEMA_VERSION}" in migrated.stdout
    balances = ledger("balances", "--home", str(home), "--json", "--system")
    assert json.loads(balances.stdout) == json.loads((SCHEMA_1 / "balances.json").read_text())
    assert_transactions_read_back(home)
    assert_history_guarded(home / "ledger.sqlite")
    assert "nothing to do" in ledger("migrate", "--home", str(home)).stdout
    assert ledger("audit", "export", str(tmp_path / "bundle"), "--home", str(home)).returncode == 0
    key = (home / "keys" / "verifier-key.txt").read_text().strip()
    verified = ledger("audit", "verify", str(tmp_path / "bundle"), "--key", key)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def assert_history_guarded(path: Path) -> None:
    """Version 3's guards: a REPLACE of an event, or a tracking position moved back, is refused."""
    with sqlite3.connect(path) as connection:
        for forged in (
            "INSERT OR REPLACE INTO stored_events SELECT originator_id, originator_version, topic, x'7b7d' "
            "FROM stored_events",
            "REPLACE INTO tracking SELECT application_name, 0 FROM tracking",
        ):
            with pytest.raises(sqlite3.IntegrityError):
                connection.execute(forged)


def assert_transactions_read_back(home: Path, *store: str) -> None:
    """The migration rebuilt every view from the log: the transactions view too, which version 1 did not have."""
    issued = ledger("transactions", "--key", "sim:7:2026-12-03:7:issue", "--home", str(home), *store, "--json")
    assert issued.returncode == 0, issued.stderr
    row = json.loads(issued.stdout)
    assert (row["command_type"], row["status"], row["assets"]) == ("issue_tokens", "accepted", ["PRT"])
    rejected = ledger("transactions", "--status", "rejected", "--limit", "500", "--home", str(home), *store, "--json")
    page = json.loads(rejected.stdout)
    assert page["items"]
    assert all(item["rule"] for item in page["items"])  # version 1 rejections, upcast to name their client
    assert any(item["clients"] for item in page["items"])


@pytest.mark.postgres
def test_a_postgresql_schema_at_version_1_migrates_to_the_same_balances_and_transactions(
    tmp_path: Path, postgres_server: str
) -> None:
    schema = f"test_{uuid4().hex[:16]}"
    dump = (SCHEMA_1 / "postgres.sql").read_text().replace("schema_one", schema)
    home = tmp_path / "schema-1-pg"
    shutil.copytree(SCHEMA_1 / "postgres-home", home)
    url = f"{postgres_server}?schema={schema}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(dump.encode())
    try:
        assert ledger("balances", "--home", str(home), "--database-url", url).returncode == 2
        migrated = ledger("migrate", "--home", str(home), "--database-url", url)
        assert migrated.returncode == 0, migrated.stderr
        balances = ledger("balances", "--home", str(home), "--database-url", url, "--json", "--system")
        assert json.loads(balances.stdout) == json.loads((SCHEMA_1 / "balances.json").read_text())
        assert_transactions_read_back(home, "--database-url", url)
        with psycopg.connect(postgres_server, autocommit=True) as connection:
            guards = connection.execute(
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relnamespace = %s::regnamespace AND tgname LIKE %s ORDER BY 1",
                (schema, "%_guard"),
            ).fetchall()
        assert guards == [
            ("audit_checkpoints_guard",),
            ("audit_leaves_guard",),
            ("audit_tree_guard",),
            ("ledger_tracking_guard",),
        ]
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_ordinary_opens_of_an_sqlite_store_run_no_ddl(home: Path, tmp_path: Path) -> None:
    assert ledger("submit", str(write_batch(tmp_path / "s.jsonl", *SETUP)), "--home", str(home)).returncode == 0
    catalog = sqlite_catalog(home / "ledger.sqlite")
    batch = write_batch(tmp_path / "d.jsonl", {**DEPOSIT, "key": "d1"})
    for args in (["balances"], ["submit", str(batch)], ["report", "compliance"], ["audit", "checkpoint"]):
        result = ledger(*args, "--home", str(home))
        assert result.returncode == 0, (args, result.stderr)
    assert sqlite_catalog(home / "ledger.sqlite") == catalog


@pytest.mark.postgres
def test_ordinary_opens_of_a_postgresql_store_run_no_ddl(
    tmp_path: Path, postgres_url: str, postgres_server: str
) -> None:
    home = str(tmp_path / "home")
    assert ledger("init", "--home", home, "--database-url", postgres_url, "--sandbox-key").returncode == 0
    setup = write_batch(tmp_path / "s.jsonl", *SETUP)
    assert ledger("submit", str(setup), "--home", home, "--database-url", postgres_url).returncode == 0
    catalog = postgres_catalog(postgres_server, schema_of(postgres_url))
    batch = write_batch(tmp_path / "d.jsonl", {**DEPOSIT, "key": "d1"})
    for args in (["balances"], ["submit", str(batch)], ["report", "settlements"], ["audit", "checkpoint"]):
        result = ledger(*args, "--home", home, "--database-url", postgres_url)
        assert result.returncode == 0, (args, result.stderr)
    assert postgres_catalog(postgres_server, schema_of(postgres_url)) == catalog


@pytest.mark.postgres
def test_a_mistyped_schema_is_refused_and_nothing_is_created(tmp_path: Path, postgres_server: str) -> None:
    schema = f"test_typo_{uuid4().hex[:8]}"
    url = f"{postgres_server}?schema={schema}"
    for args in (["balances"], ["report", "compliance"], ["submit", "-"], ["migrate"]):
        result = ledger(*args, "--home", str(tmp_path / "home"), "--database-url", url, stdin=ONE_DEPOSIT)
        assert result.returncode == 2, (args, result.stderr)
        assert f"no ledger at PostgreSQL schema '{schema}'" in result.stderr, result.stderr
    assert not schema_exists(postgres_server, schema)


def test_a_store_at_a_version_this_release_does_not_know_is_refused(home: Path) -> None:
    with sqlite3.connect(home / "ledger.sqlite") as connection:
        connection.execute("UPDATE ledger_store SET value = '99' WHERE key = 'schema_version'")
    for args in (["balances"], ["submit", "-"], ["migrate"]):
        result = ledger(*args, "--home", str(home), stdin=ONE_DEPOSIT)
        assert result.returncode == 2, args
        assert "schema version 99" in result.stderr


def test_a_second_init_on_an_initialised_store_is_refused_and_the_bank_keeps_its_key(
    home: Path, tmp_path: Path
) -> None:
    before = store_digest(home)
    url = f"sqlite:///{home / 'ledger.sqlite'}"
    result = ledger("init", "--home", str(tmp_path / "intruder"), "--database-url", url, "--sandbox-key")
    assert result.returncode == 2
    assert "holds a ledger already" in result.stderr
    assert "key id" in result.stderr
    assert store_digest(home) == before
    assert not (tmp_path / "intruder").exists()


@pytest.mark.postgres
def test_a_second_init_on_an_initialised_schema_is_refused(tmp_path: Path, postgres_url: str) -> None:
    first = ledger("init", "--home", str(tmp_path / "bank"), "--database-url", postgres_url, "--sandbox-key")
    assert first.returncode == 0, first.stderr
    second = ledger("init", "--home", str(tmp_path / "other"), "--database-url", postgres_url, "--sandbox-key")
    assert second.returncode == 2
    assert "holds a ledger already" in second.stderr


def test_a_home_whose_key_is_not_the_stores_is_refused_naming_both_key_ids(home: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert ledger("init", "--home", str(other), "--sandbox-key").returncode == 0
    ours = (home / "keys" / "verifier-key.txt").read_text().split("+")[1]
    theirs = (other / "keys" / "verifier-key.txt").read_text().split("+")[1]
    url = f"sqlite:///{home / 'ledger.sqlite'}"
    for args in (["balances"], ["submit", "-"]):
        result = ledger(*args, "--home", str(other), "--database-url", url, stdin=ONE_DEPOSIT)
        assert result.returncode == 2, args
        assert ours in result.stderr
        assert theirs in result.stderr


@pytest.mark.postgres
@pytest.mark.slow
def test_sixteen_concurrent_opens_and_writers_on_one_schema_never_fail(tmp_path: Path, postgres_url: str) -> None:
    home = str(tmp_path / "home")
    assert ledger("init", "--home", home, "--database-url", postgres_url, "--sandbox-key").returncode == 0
    assert (
        ledger(
            "submit", str(write_batch(tmp_path / "s.jsonl", *SETUP)), "--home", home, "--database-url", postgres_url
        ).returncode
        == 0
    )

    def run(n: int) -> tuple[int, str]:
        if n % 2:
            result = ledger("balances", "--home", home, "--database-url", postgres_url)
        else:
            batch = write_batch(tmp_path / f"d{n}.jsonl", {**DEPOSIT, "key": f"d{n}"})
            result = ledger("submit", str(batch), "--home", home, "--database-url", postgres_url)
        return result.returncode, result.stderr

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(run, range(16)))
    assert outcomes == [(0, "")] * 16
    rows = json.loads(ledger("balances", "--home", home, "--database-url", postgres_url, "--json").stdout)
    assert rows == [{"account": "client:alesia", "asset": "BYN", "amount": "8.00"}]
