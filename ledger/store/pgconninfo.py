"""PostgreSQL database URLs as libpq reads them.

A URL (`postgresql://...`) or a keyword/value string (`host=... dbname=...`)
goes to libpq's own parser (psycopg's `conninfo_to_dict`, PQconninfoParse), so
every libpq parameter and form passes through and unknown ones are refused.
`schema` is the ledger's own parameter: it is taken out first.

The library's factory reads only host, port, dbname, user and password;
`ConninfoPostgresFactory` gives its pool the whole conninfo instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

import psycopg
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType, get_topic
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from ledger.store.ports import StoreConfigError

_MASK = "***"
_SCHEMA_PATTERN = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_KEYWORD_SCHEMA = re.compile(r"(?:^|\s)schema\s*=\s*(\S*)")
# A password in a URL's user info, or as a keyword (in a string or a URL query).
_URL_PASSWORD = re.compile(r"(://[^:/?@]*:)([^/?]*)(@)")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)")


class ConninfoPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, its pool connecting with the libpq
    conninfo in POSTGRES_CONNINFO. The pool is made closed, so no connection
    has been made when the conninfo is set."""

    POSTGRES_CONNINFO = "POSTGRES_CONNINFO"

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        conninfo = self.env.get(self.POSTGRES_CONNINFO)
        if conninfo:
            self.datastore.pool.conninfo = conninfo
            # The password, if any, is in the conninfo (or comes from the
            # library's POSTGRES_GET_PASSWORD_TOPIC, which sets it here).
            self.datastore.pool.kwargs = {"row_factory": dict_row}


@dataclass(frozen=True, repr=False)
class PostgresTarget:
    """A PostgreSQL database as libpq reaches it, and the ledger's schema in it."""

    conninfo: str
    schema: str = "public"

    @classmethod
    def parse(cls, url: str) -> PostgresTarget:
        """A libpq URL or keyword/value string, with an optional `schema`."""
        if _URL_SCHEME.match(url) and not url.lower().startswith(_POSTGRES_SCHEMES):
            raise StoreConfigError(
                f"database URL {_mask(url)!r}: expected postgresql://user@host:port/dbname or sqlite:///path"
            )
        rest, schema = _take_schema(url)
        if not _SCHEMA_PATTERN.match(schema):
            raise StoreConfigError(f"database URL {_mask(url)!r}: schema {schema!r} is not a plain lower-case name")
        try:
            params = conninfo_to_dict(rest)
        except psycopg.ProgrammingError as error:
            problem = " ".join(str(error).split())
            raise StoreConfigError(f"database URL {_mask(url)!r}: {_mask(problem, url)}") from None
        return cls(make_conninfo("", **params), schema)

    @property
    def params(self) -> dict[str, str]:
        return {key: str(value) for key, value in conninfo_to_dict(self.conninfo).items()}

    @property
    def safe(self) -> str:
        """The conninfo and schema with the password masked, for messages."""
        params = self.params
        if "password" in params:
            params["password"] = _MASK
        return f"{make_conninfo('', **params)} schema={self.schema}"

    def __repr__(self) -> str:
        return f"PostgresTarget({self.safe!r})"

    def env(self) -> dict[str, str]:
        """The library's environment. It needs its POSTGRES_* keys to make the
        datastore (given the first host's here); the pool connects with the
        conninfo."""
        params = self.params
        return {
            "PERSISTENCE_MODULE": get_topic(ConninfoPostgresFactory),
            ConninfoPostgresFactory.POSTGRES_CONNINFO: self.conninfo,
            "POSTGRES_DBNAME": params.get("dbname", ""),
            "POSTGRES_HOST": params.get("host", "").split(",")[0],
            "POSTGRES_PORT": params.get("port", "").split(",")[0],
            "POSTGRES_USER": params.get("user", ""),
            "POSTGRES_PASSWORD": "",
            "POSTGRES_SCHEMA": self.schema,
        }


def _take_schema(url: str) -> tuple[str, str]:
    """The URL or string without its `schema` parameter, and the schema."""
    if _URL_SCHEME.match(url):
        base, _, query = url.partition("?")
        kept, schemas = [], []
        for item in query.split("&") if query else []:
            key, _, value = item.partition("=")
            if key == "schema":
                schemas.append(unquote(value))
            else:
                kept.append(item)
        return (f"{base}?{'&'.join(kept)}" if kept else base), (schemas[-1] if schemas else "public")
    match = _KEYWORD_SCHEMA.search(url)
    if match is None:
        return url, "public"
    return url[: match.start()] + url[match.end() :], match.group(1)


def _mask(text: str, source: str | None = None) -> str:
    """`text` with the passwords it holds, or that `source` holds, as ***."""
    passwords = set()
    for found in (*_URL_PASSWORD.finditer(source or text), *_KEYWORD_PASSWORD.finditer(source or text)):
        secret = found.group(2)
        passwords |= {secret, unquote(secret), secret.strip("'")}
    text = _KEYWORD_PASSWORD.sub(rf"\g<1>{_MASK}", _URL_PASSWORD.sub(rf"\g<1>{_MASK}\3", text))
    for password in sorted(passwords - {"", _MASK}, key=len, reverse=True):
        text = text.replace(password, _MASK)
    return text
