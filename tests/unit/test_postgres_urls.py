"""PostgreSQL database URLs are read by libpq itself; `schema` is the ledger's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.store.pgconninfo import ConninfoPostgresFactory
from ledger.store.ports import StoreConfigError, StoreLocation, parse_postgres_url


def params(url: str) -> dict[str, str]:
    return parse_postgres_url(url).params


def test_a_plain_url_gives_host_port_database_and_user() -> None:
    assert params("postgresql://postgres@127.0.0.1:5432/test") == {
        "host": "127.0.0.1",
        "port": "5432",
        "dbname": "test",
        "user": "postgres",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sslmode=require", {"sslmode": "require"}),
        (
            "sslmode=verify-full&sslrootcert=/etc/ssl/root.crt",
            {"sslmode": "verify-full", "sslrootcert": "/etc/ssl/root.crt"},
        ),
        ("connect_timeout=7", {"connect_timeout": "7"}),
        ("application_name=ledger%20test", {"application_name": "ledger test"}),
        ("target_session_attrs=read-write", {"target_session_attrs": "read-write"}),
        ("options=-c%20statement_timeout%3D5000", {"options": "-c statement_timeout=5000"}),
        ("service=bank", {"service": "bank"}),
    ],
)
def test_every_libpq_parameter_in_the_query_passes_through(query: str, expected: dict[str, str]) -> None:
    found = params(f"postgresql://postgres@db.example:5432/test?{query}")
    assert found.items() >= expected.items()


def test_several_hosts_in_the_url_pass_through_with_their_ports() -> None:
    found = params("postgresql://postgres@h1:5432,h2:5433/test")
    assert (found["host"], found["port"]) == ("h1,h2", "5432,5433")


def test_several_hosts_as_a_query_parameter_pass_through() -> None:
    assert params("postgresql:///test?host=a,b&port=5432,5433")["host"] == "a,b"


def test_a_unix_socket_directory_can_be_the_host_parameter() -> None:
    assert params("postgresql:///test?host=/var/run/postgresql")["host"] == "/var/run/postgresql"


def test_a_percent_encoded_socket_directory_can_be_the_url_host() -> None:
    assert params("postgresql://%2Fvar%2Frun%2Fpostgresql/test")["host"] == "/var/run/postgresql"


def test_a_password_in_the_url_is_decoded() -> None:
    assert params("postgresql://postgres:p%40ss@127.0.0.1/test")["password"] == "p@ss"


def test_a_libpq_keyword_value_string_is_accepted_with_a_schema() -> None:
    target = parse_postgres_url("host=127.0.0.1 dbname=test schema=sandbox1 user=postgres")
    assert target.params == {"host": "127.0.0.1", "dbname": "test", "user": "postgres"}
    assert target.schema == "sandbox1"


def test_the_schema_is_taken_out_before_libpq_reads_the_rest() -> None:
    target = parse_postgres_url(
        "postgresql://postgres@127.0.0.1/test?sslmode=disable&schema=sandbox1&connect_timeout=3"
    )
    assert target.schema == "sandbox1"
    assert "schema" not in target.conninfo
    assert target.params.items() >= {"sslmode": "disable", "connect_timeout": "3"}.items()


def test_the_schema_is_public_when_none_is_given() -> None:
    assert parse_postgres_url("postgresql://postgres@127.0.0.1/test").schema == "public"


@pytest.mark.parametrize("schema", ["Sandbox", "1st", "a-b", "", "x" * 64])
def test_a_schema_that_is_not_a_plain_lower_case_name_is_refused(schema: str) -> None:
    with pytest.raises(StoreConfigError, match="is not a plain lower-case name"):
        parse_postgres_url(f"postgresql://postgres@127.0.0.1/test?schema={schema}")


def test_an_unknown_parameter_is_refused_by_libpq() -> None:
    with pytest.raises(StoreConfigError, match='invalid URI query parameter: "sslmod"'):
        parse_postgres_url("postgresql://postgres@127.0.0.1/test?sslmod=require")


def test_an_unknown_keyword_is_refused_by_libpq() -> None:
    with pytest.raises(StoreConfigError, match='invalid connection option "hots"'):
        parse_postgres_url("hots=127.0.0.1 dbname=test")


def test_a_url_of_another_scheme_is_refused() -> None:
    with pytest.raises(StoreConfigError, match="expected postgresql://"):
        parse_postgres_url("mysql://root@127.0.0.1/test")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:hunter2@127.0.0.1/test?bogus=1",
        "postgresql://postgres:hunter2@127.0.0.1/test?schema=Bad",
        "postgresql://postgres:hunter 2@127.0.0.1/test",
        "postgresql://postgres@127.0.0.1/test?password=hunter2&bogus=1",
        "host=127.0.0.1 password=hunter2 bogus=1",
        "host=127.0.0.1 password='hunter 2' bogus=1",
        "http://postgres:hunter2@127.0.0.1/test",
    ],
)
def test_the_password_never_appears_in_the_error(url: str) -> None:
    with pytest.raises(StoreConfigError) as raised:
        parse_postgres_url(url)
    message = str(raised.value)
    assert "hunter" not in message
    assert "***" in message
    assert "\n" not in message


def test_the_safe_description_and_the_repr_mask_the_password() -> None:
    target = parse_postgres_url("postgresql://postgres:hunter2@127.0.0.1/test?schema=s1")
    assert "hunter2" not in target.safe
    assert "hunter2" not in repr(StoreLocation(postgres=target))
    assert target.safe == "user=postgres password=*** dbname=test host=127.0.0.1 schema=s1"


def test_the_library_gets_its_keys_from_the_first_host_and_the_whole_conninfo() -> None:
    url = "postgresql://bank:pw@h1:5432,h2:5433/ledger?sslmode=require&schema=s1"
    target = parse_postgres_url(url)
    env = StoreLocation.parse(home=Path("unused"), database_url=url).env()
    assert env == target.env()
    assert env["PERSISTENCE_MODULE"] == "ledger.store.pgconninfo:ConninfoPostgresFactory"
    assert env[ConninfoPostgresFactory.POSTGRES_CONNINFO] == target.conninfo
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == ("h1", "5432", "ledger")
    assert (env["POSTGRES_USER"], env["POSTGRES_SCHEMA"]) == ("bank", "s1")
