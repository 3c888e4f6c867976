"""Hostile input, generated: every line is refused in one printable line, exit 2, and the store keeps every byte.

Structure-aware: valid commands with one field mutated (control characters,
lone surrogates, line breaks, amounts that are almost decimals, wrong types,
huge numbers, over-long text), keys given twice at any depth, deep nesting
and undecodable bytes. Most examples go through the functions `ledger
submit` and `POST /v1/commands` call, in process; fewer through real
`ledger submit` subprocesses on SQLite and PostgreSQL, each with a valid
command before the hostile line, on one store kept for the whole run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from ledger.api.app import _commands, _json_body
from ledger.api.problems import ProblemError
from ledger.cli.edges import UserError
from ledger.cli.writes import parse_commands
from ledger.input import JSON_DEPTH_MAX, JSON_STRING_LENGTH_MAX, split_lines
from tests.acceptance.cli import ledger, store_digest, write_batch
from tests.conftest import _connect

SETUP = [
    {"type": "onboard_client", "key": "c", "client_id": "ales", "name": "Ales", "residency": "resident",
     "kind": "individual"},
    {"type": "verify_kyc", "key": "k", "client_id": "ales"},
    {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"},
]  # fmt: skip
DEPOSIT = {"type": "deposit", "key": "d-1", "client_id": "ales", "asset": "BYN", "amount": "1.00", "reference": "r",
           "metadata": {"order_id": "A-1"}}  # fmt: skip
SETTLEMENT = {
    "type": "initiate_settlement", "key": "s-1", "settlement_id": "EXP-1", "client_id": "ales", "direction": "export",
    "counterparty": "Baltic Wood GmbH", "country": "DE", "contract_reference": "C-77", "asset": "BYN",
    "amount": "40.00", "beneficiary": {"name": "Baltic Wood GmbH", "account": "DE89", "country": "DE"},
}  # fmt: skip
ONBOARD = SETUP[0]
TEMPLATES = [DEPOSIT, SETTLEMENT, ONBOARD]
AMOUNT_FIELDS = ("amount",)
TEXT_FIELDS = {  # path in the command: what any text there must not hold
    ("reference",), ("name",), ("counterparty",), ("contract_reference",), ("beneficiary", "name"),
    ("metadata", "order_id"), ("client_id",), ("key",), ("asset",),
}  # fmt: skip
CONTROL = st.one_of(st.characters(categories=["Cc"]), st.sampled_from(["\x00", "\x1b", "\x85", "\x7f", "\r", "\n"]))
LINE_BREAK = st.sampled_from(["\u2028", "\u2029"])
LONE_SURROGATE = st.characters(categories=["Cs"])
ALMOST_DECIMAL = st.sampled_from(
    [" ", "\n", "\t", "\u00a0", "\u0661", "\u0966", "\uff11", "e", "E", "+", "-", "_", ",", "x", "\x00", "\u2028"]
)


@dataclass(frozen=True)
class Hostile:
    """One line of a batch (bytes) and a word its refusal must name."""

    line: bytes
    names: str


def _with(command: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    copy = json.loads(json.dumps(command))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


def _encode(value: Any, duplicate: tuple[str, ...] | None) -> str:
    """JSON with the member at `duplicate` given twice (once with another value)."""
    if not isinstance(value, dict):
        return json.dumps(value)
    members = []
    for name, item in value.items():
        inner = duplicate[1:] if duplicate and duplicate[0] == name and len(duplicate) > 1 else None
        members.append(f"{json.dumps(name)}: {_encode(item, inner)}")
        if duplicate == (name,):
            members.append(f"{json.dumps(name)}: {json.dumps('other')}")
    return "{" + ", ".join(members) + "}"


def _paths(command: dict[str, Any]) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, item in command.items():
        found.append((name,))
        if isinstance(item, dict):
            found += [(name, inner) for inner in item]
    return found


@st.composite
def hostile_text(draw: st.DrawFn, field: tuple[str, ...]) -> Any:
    """Text for `field` that its type refuses, or a value of the wrong type."""
    plain = draw(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=20))
    bad = draw(st.one_of(CONTROL, LONE_SURROGATE, LINE_BREAK if field != ("metadata", "order_id") else CONTROL))
    cut = draw(st.integers(0, len(plain)))
    return draw(
        st.one_of(
            st.just(plain[:cut] + bad + plain[cut:]),
            st.just("x" * (JSON_STRING_LENGTH_MAX + 1)),
            st.sampled_from([7, 1.5, True, [], {}, ["a"], {"a": "b"}, 10**30]),
        )
    )


@st.composite
def hostile_amount(draw: st.DrawFn) -> Any:
    digits = draw(st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,2})?", fullmatch=True))
    cut = draw(st.integers(0, len(digits)))
    bad = draw(ALMOST_DECIMAL)
    return draw(st.one_of(st.just(digits[:cut] + bad + digits[cut:]), st.sampled_from([12.5, 10**400, "", "1e3"])))


@st.composite
def hostile_lines(draw: st.DrawFn) -> Hostile:
    command = draw(st.sampled_from(TEMPLATES))
    kind = draw(st.sampled_from(["text", "amount", "duplicate", "deep", "bytes", "raw", "extra"]))
    if kind == "amount" and "amount" in command:
        return Hostile(json.dumps(_with(command, ("amount",), draw(hostile_amount()))).encode(), "amount")
    if kind == "text":
        field = draw(st.sampled_from(sorted(path for path in TEXT_FIELDS if _has(command, path))))
        value = draw(hostile_text(field))
        ascii_only = draw(st.booleans())
        raw = json.dumps(_with(command, field, value), ensure_ascii=ascii_only)
        surrogate = isinstance(value, str) and any(0xD800 <= ord(char) <= 0xDFFF for char in value)
        names = "not UTF-8" if surrogate and not ascii_only else field[-1]
        return Hostile(raw.encode("utf-8", "surrogatepass"), names)
    if kind == "duplicate":
        path = draw(st.sampled_from(_paths(command)))
        return Hostile(_encode(command, path).encode(), f"duplicate key {path[-1]!r}")
    if kind == "deep":
        depth = draw(st.sampled_from([JSON_DEPTH_MAX, 100, 5000, 100_000]))
        nested = "[" * depth + "1" + "]" * depth
        return Hostile(json.dumps(_with(command, ("metadata",), {})).replace("{}", nested).encode(), "")
    if kind == "bytes":
        encoded = json.dumps(command, ensure_ascii=False).encode()
        cut = draw(st.integers(0, len(encoded)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80"]))
        return Hostile(encoded[:cut] + bad + encoded[cut:], "not UTF-8")
    if kind == "raw":
        raw = draw(st.sampled_from(['{"type": NaN}', "[]", "null", '"deposit"', "{", '{"amount": 1e999}']))
        return Hostile(raw.encode(), "")
    return Hostile(json.dumps({**command, draw(st.sampled_from(["colour", "Type", "\x00"])): 1}).encode(), "")


def _has(command: dict[str, Any], path: tuple[str, ...]) -> bool:
    return path[0] in command and (len(path) == 1 or path[1] in command[path[0]])


def _refused_in_one_line(hostile: Hostile) -> str:
    with pytest.raises(UserError) as refused:
        parse_commands("batch.jsonl", split_lines(json.dumps(DEPOSIT).encode() + b"\n" + hostile.line + b"\n"))
    message = str(refused.value)
    assert message.isprintable(), message
    assert message.startswith("batch.jsonl:2: "), message
    assert hostile.names in message, message
    return message


@settings(max_examples=400, deadline=None)
@given(hostile_lines())
def test_every_hostile_line_is_refused_by_the_batch_reader_in_one_printable_line(hostile: Hostile) -> None:
    _refused_in_one_line(hostile)


@settings(max_examples=300, deadline=None)
@given(hostile_lines(), st.booleans())
def test_every_hostile_body_is_a_problem_naming_where(hostile: Hostile, batch: bool) -> None:
    body = b"[" + json.dumps(DEPOSIT).encode() + b", " + hostile.line + b"]" if batch else hostile.line
    with pytest.raises(ProblemError) as refused:
        _commands(_json_body(body), None, 1000)
    problem = refused.value.problem
    assert problem["status"] in (400, 422), problem
    kinds = ("malformed-json", "invalid-command", "not-a-command", "empty-batch")
    assert problem["type"] in [f"/problems/{kind}" for kind in kinds], problem
    if (batch and problem["type"] != "/problems/malformed-json") or "duplicate" in hostile.names:
        assert problem.get("position") == (1 if batch else None), problem
    json.dumps(problem, ensure_ascii=True)  # a problem is always JSON


def test_a_raw_line_separator_in_a_metadata_value_is_text_not_a_line_break() -> None:
    line = json.dumps({**DEPOSIT, "metadata": {"note": "one\u2028two"}}, ensure_ascii=False).encode()
    ((number, command),) = parse_commands("batch.jsonl", split_lines(line + b"\n"))
    assert (number, command.metadata) == (1, {"note": "one\u2028two"})


# Real `ledger submit` runs, on one store per backend for the whole module.


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    home = tmp_path_factory.mktemp("hostile") / "home"
    url = None
    if request.param == "postgres":
        server = str(request.getfixturevalue("postgres_server"))
        schema = f"test_{uuid4().hex[:16]}"
        url = f"{server}?schema={schema}"
    env = {"LEDGER_DATABASE_URL": url} if url else {}
    assert ledger("init", "--home", str(home), "--sandbox-key", env=env).returncode == 0
    setup = write_batch(home.parent / "setup.jsonl", *SETUP)
    assert ledger("submit", str(setup), "--home", str(home), env=env).returncode == 0
    yield Store(home, url, env)
    if url is not None:
        with _connect(server) as connection:
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@dataclass(frozen=True)
class Store:
    home: Path
    url: str | None
    env: dict[str, str]

    def contents(self) -> object:
        """Every byte of the home (the SQLite file among them), and on PostgreSQL every row of history."""
        if self.url is None:
            return store_digest(self.home)
        schema = self.url.rsplit("schema=", 1)[1]
        with _connect(self.url.split("?", 1)[0]) as connection:
            rows = {
                table: connection.execute(
                    sql.SQL("SELECT * FROM {}.{} ORDER BY 1").format(sql.Identifier(schema), sql.Identifier(table))
                ).fetchall()
                for table in ("ledger_events", "ledger_commands")
            }
        return store_digest(self.home), rows


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile=hostile_lines())
def test_ledger_submit_refuses_hostile_files_with_exit_2_and_writes_nothing(store: Store, hostile: Hostile) -> None:
    before = store.contents()
    batch = store.home.parent / f"batch-{uuid4().hex}.jsonl"
    batch.write_bytes(json.dumps({**DEPOSIT, "key": f"d-{uuid4().hex}"}).encode() + b"\n" + hostile.line + b"\n")
    result = ledger("submit", str(batch), "--home", str(store.home), env=store.env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert hostile.names in result.stderr
    assert store.contents() == before


def test_stdin_is_read_as_bytes_and_split_on_newlines_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert ledger("init", "--home", str(home), "--sandbox-key").returncode == 0
    before = store_digest(home)
    result = ledger("submit", "-", "--home", str(home), stdin=json.dumps(DEPOSIT) + "\n" + '{"a": 1, "a": 2}\n')
    assert (result.returncode, result.stderr.strip()) == (2, "error: -:2: duplicate key 'a'")
    assert store_digest(home) == before
