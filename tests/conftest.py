"""Shared fixtures: a real SQLite file per test, and a PostgreSQL schema per test.

PostgreSQL tests skip on a machine without a server, and fail under CI=true.
Set LEDGER_TEST_POSTGRES to point them at another server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from ledger import Ledger

POSTGRES_BASE = os.environ.get("LEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    parsed = urlparse(url)
    return psycopg.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.path.lstrip("/"),
        autocommit=True,
        connect_timeout=3,
    )


def _postgres_unavailable() -> str | None:
    try:
        with _connect(POSTGRES_BASE):
            return None
    except psycopg.OperationalError as error:
        return str(error).strip()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_unavailable()
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and PostgreSQL is not reachable at {POSTGRES_BASE}: {problem}")
        pytest.skip(f"no PostgreSQL server at {POSTGRES_BASE}: {problem}")
    return POSTGRES_BASE


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A database URL with a schema of this test's own, dropped afterwards."""
    schema = f"test_{uuid4().hex[:16]}"
    yield f"{postgres_server}?schema={schema}"
    with _connect(postgres_server) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend in turn: `sqlite:///` a file in tmp_path, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def open_ledger(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Ledger]]:
    """Opens ledgers on this test's store; closes them all afterwards."""
    opened: list[Ledger] = []

    def open_(**kwargs: object) -> Ledger:
        ledger = Ledger.open(home=tmp_path / "home", database_url=database_url, **kwargs, create=True)  # type: ignore[arg-type]
        opened.append(ledger)
        return ledger

    yield open_
    for ledger in opened:
        ledger.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes a new, empty store on each call (for property tests, one per
    example): an SQLite file, or a PostgreSQL schema dropped at the end."""
    schemas: list[str] = []
    base = str(request.getfixturevalue("postgres_server")) if request.param == "postgres" else ""

    def make() -> str:
        name = uuid4().hex[:16]
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / name}.sqlite"
        schemas.append(f"test_{name}")
        return f"{base}?schema=test_{name}"

    yield make
    if schemas:
        with _connect(base) as connection:
            for schema in schemas:
                connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
