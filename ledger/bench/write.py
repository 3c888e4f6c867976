"""Benchmarks, each beside references measured in the same run (DESIGN.md section 7).

`write.sqlite`: business transactions per second through `Ledger.submit` in
batches, on a fresh SQLite file with the library's durable defaults (WAL,
synchronous FULL). Its references, each on a fresh file of its own:

- `naive_eventsourcing`: the library's bank-account style, one aggregate per
  account and one `save` per transaction (with the library's aggregate cache,
  so the reference is not slowed by re-reading whole accounts);
- `raw_sqlite`: `executemany` of the very rows our path stored, in the same
  batch size, into the library's table layout;
- `python_floor`: the least any Python ledger with idempotency keys does per
  transaction, without deciding or validating anything: parse and re-encode
  the event's JSON, hash the command's JSON, insert the event row and the
  key's row, in the same batches. Its distance from `raw_sqlite` is the
  language's; ours from it is the ledger's.

The commands are built before the clock starts, for ours and the naive path
alike: the figure is the ledger's work, not the generator's. Ours and the
naive path take turns, a quarter of each at a time, so that a slow spell of a
noisy machine falls on both.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import PersistenceError

from domain.commands import (
    BaseCommand,
    Deposit,
    EstablishBank,
    IssueTokens,
    OnboardClient,
    RedeemTokens,
    RegisterAsset,
    RegisterIssuer,
    RegisterToken,
    Transfer,
    VerifyKyc,
    Withdraw,
)
from domain.money import AssetKind
from domain.parties import ClientKind, Residency
from ledger.service import Ledger
from ledger.store.ports import parse_postgres_url

BATCH_SIZE = 500
ROUNDS = 4  # ours and the naive reference take turns, a quarter of each at a time
NAIVE_TRANSACTIONS_MAX = 5_000
NAIVE_POSTGRES_TRANSACTIONS_MAX = 1_000  # a few hundred saves a second: enough for a steady figure
POSTGRES_URL_ENV = "LEDGER_BENCH_POSTGRES"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
CLIENT_COUNT = 200


def figure(value: float, unit: str, references: dict[str, float], **details: Any) -> dict[str, Any]:
    """One figure in DESIGN.md section 7's format, with ratios to each reference."""
    return {
        "value": round(value, 1) if unit == "MB" else round(value),
        "unit": unit,
        "references": {name: round(ref, 1) if unit == "MB" else round(ref) for name, ref in references.items()},
        "ratios": {f"vs_{name}": round(value / ref, 3) for name, ref in references.items() if ref},
        **details,
    }


@dataclass(frozen=True)
class Move:
    """One business transaction of the mix, in plain values."""

    kind: str
    source: str
    target: str
    asset: str
    amount_minor: int


def workload(count: int, seed: int = 7) -> list[Move]:
    """The simulated mix: deposits, transfers, issuance, withdrawals and
    redemptions, only ever spending what the shadow balances hold."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible workload, not a secret)
    clients = [f"c{n}" for n in range(CLIENT_COUNT)]
    held: dict[tuple[str, str], int] = {}
    moves: list[Move] = []
    while len(moves) < count:
        client, other = rng.sample(clients, 2)
        roll = rng.random()
        asset = "SVT" if roll < 0.2 else "BYN"
        balance = held.get((client, asset), 0)
        amount = rng.randint(1, 10_000)
        if roll < 0.15 or (asset == "BYN" and balance == 0):
            kind = "issue" if asset == "SVT" else "deposit"
            moves.append(Move(kind, "", client, asset, amount))
            held[(client, asset)] = balance + amount
            continue
        if balance == 0:
            continue
        amount = min(amount, balance)
        kind = rng.choices(["transfer", "withdraw"], weights=[4, 1])[0]
        if kind == "withdraw" and asset == "SVT":
            kind = "redeem"
        held[(client, asset)] = balance - amount
        if kind == "transfer":
            held[(other, asset)] = held.get((other, asset), 0) + amount
        moves.append(Move(kind, client, other if kind == "transfer" else "", asset, amount))
    return moves


def setup_commands() -> list[BaseCommand]:
    commands: list[BaseCommand] = [
        EstablishBank(key="bench:bank", name="Bench Crypto Bank JSC", htp_resident=True, nbrb_register_entry="B-1"),
        RegisterIssuer(key="bench:issuer", issuer_id="issuer", name="Bench Issuer", licensed=True),
        RegisterAsset(key="bench:BYN", code="BYN", scale=2, kind=AssetKind.FIAT),
        RegisterToken(key="bench:SVT", code="SVT", scale=2, issuer_id="issuer", supply_cap="1000000000000.00"),
    ]
    for n in range(CLIENT_COUNT):
        client = f"c{n}"
        commands.append(
            OnboardClient(
                key=f"bench:onboard:{client}",
                client_id=client,
                name=client,
                residency=Residency.RESIDENT,
                kind=ClientKind.INDIVIDUAL,
            )
        )
        commands.append(VerifyKyc(key=f"bench:kyc:{client}", client_id=client))
    return commands


def to_command(index: int, move: Move) -> BaseCommand:
    key = f"bench:{index}"
    amount = f"{move.amount_minor // 100}.{move.amount_minor % 100:02d}"
    if move.kind == "deposit":
        return Deposit(key=key, client_id=move.target, asset=move.asset, amount=amount, reference=key)
    if move.kind == "issue":
        return IssueTokens(key=key, issuer_id="issuer", asset=move.asset, client_id=move.target, amount=amount)
    if move.kind == "withdraw":
        return Withdraw(key=key, client_id=move.source, asset=move.asset, amount=amount, reference=key)
    if move.kind == "redeem":
        return RedeemTokens(key=key, issuer_id="issuer", asset=move.asset, client_id=move.source, amount=amount)
    return Transfer(
        key=key, source_client_id=move.source, target_client_id=move.target, asset=move.asset, amount=amount
    )


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class Rates:
    ours: float
    naive: float
    signed_every_batch: float


def measure_sqlite_and_naive(
    folder: Path, moves: list[Move], commands: list[BaseCommand]
) -> tuple[Rates, list[tuple[str, int, str, bytes]]]:
    """Ours, the naive reference and ours signing every batch, each on a
    fresh SQLite file, taking turns in `ROUNDS` rounds so that a slow spell
    of a noisy machine falls on all: the transactions per second of each, and
    the rows ours stored (for the raw references)."""
    path = folder / "ours.sqlite"
    naive_moves = moves[: min(len(moves), NAIVE_TRANSACTIONS_MAX)]
    ours_elapsed = naive_elapsed = signed_elapsed = 0.0
    with Ledger.open(home=folder, database_url=f"sqlite:///{path}", create=True) as ledger, _signing(folder) as signed:
        ledger.submit(setup_commands())
        first_id = ledger.state.position
        naive = NaiveBank.opened(
            {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "naive.sqlite")}
        )
        for round_number in range(ROUNDS):
            ours_elapsed += _timed_batches(ledger, _share(commands, round_number))
            naive_elapsed += naive.timed_moves(_share(naive_moves, round_number))
            signed_elapsed += _timed_batches(signed, _share(commands, round_number))
        naive.close()

    connection = sqlite3.connect(path)
    rows = connection.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events WHERE rowid > ? ORDER BY rowid",
        (first_id,),
    ).fetchall()
    connection.close()
    return Rates(len(commands) / ours_elapsed, len(naive_moves) / naive_elapsed, len(commands) / signed_elapsed), rows


def _signing(folder: Path) -> Ledger:
    """A bank as `ledger init` makes it: the audit log caught up and the
    signer's head signed, with the store checked, after every batch."""
    from ledger.sandbox import Sandbox  # noqa: PLC0415

    sandbox = Sandbox.at(folder / "signing", None)
    sandbox.init(allow_unencrypted_key=True)
    ledger = sandbox.open_writer()
    ledger.submit([command for command in setup_commands() if not isinstance(command, EstablishBank)])
    return ledger


def _share(items: list[Any], round_number: int) -> list[Any]:
    """The `round_number`th of `ROUNDS` consecutive shares of `items`."""
    size = -(-len(items) // ROUNDS)
    return items[round_number * size : (round_number + 1) * size]


def _timed_batches(ledger: Ledger, commands: list[BaseCommand]) -> float:
    started = time.perf_counter()
    for batch in batches(commands, BATCH_SIZE):
        results = ledger.submit(batch)
        assert all(result.accepted for result in results), "the bench mix must be all valid"
    return time.perf_counter() - started


def _events_table(path: Path) -> sqlite3.Connection:
    """A fresh SQLite file in WAL mode with the library's event table layout."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, "
        "PRIMARY KEY (originator_id, originator_version))"
    )
    return connection


def measure_raw_sqlite(folder: Path, rows: list[tuple[str, int, str, bytes]], transactions: int) -> float:
    connection = _events_table(folder / "raw.sqlite")
    per_batch = max(1, round(len(rows) * BATCH_SIZE / transactions))
    started = time.perf_counter()
    for batch in batches(rows, per_batch):
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", batch)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return transactions / elapsed


def measure_python_floor(folder: Path, rows: list[tuple[str, int, str, bytes]], commands: list[BaseCommand]) -> float:
    connection = _events_table(folder / "floor.sqlite")
    connection.execute("CREATE TABLE commands (key TEXT PRIMARY KEY, digest TEXT, stream TEXT) WITHOUT ROWID")
    payloads = [command.model_dump(mode="json") for command in commands]
    assert len(rows) == len(payloads), "the floor pairs one event with each command"
    encoder = json.JSONEncoder(separators=(",", ":"))
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH_SIZE):
        events, keys = [], []
        for payload, (stream, version, topic, state) in zip(
            payloads[start : start + BATCH_SIZE], rows[start : start + BATCH_SIZE], strict=True
        ):
            digest = hashlib.sha256(encoder.encode(payload).encode()).hexdigest()
            events.append((stream, version, topic, encoder.encode(json.loads(state)).encode()))
            keys.append((payload["key"], digest, stream))
        connection.execute("BEGIN")
        connection.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", events)
        connection.executemany("INSERT INTO commands VALUES (?, ?, ?)", keys)
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows) / elapsed


class NaiveAccount(Aggregate):
    """The library's bank-account example, with a balance per asset."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.balances: dict[str, int] = {}

    @event("Credited")
    def credit(self, asset: str, amount_minor: int) -> None:
        self.balances[asset] = self.balances.get(asset, 0) + amount_minor

    @event("Debited")
    def debit(self, asset: str, amount_minor: int) -> None:
        self.balances[asset] = self.balances.get(asset, 0) - amount_minor


class NaiveBank(Application[UUID]):
    accounts: dict[str, UUID]

    @classmethod
    def opened(cls, env: dict[str, str]) -> NaiveBank:
        """A bank with the bench's clients and a system account, and the
        library's aggregate cache, so no move re-reads whole accounts."""
        bank = cls(env={**env, "AGGREGATE_CACHE_MAXSIZE": str(CLIENT_COUNT + 10)})
        bank.accounts = {name: bank.open_account(name) for name in [f"c{n}" for n in range(CLIENT_COUNT)]}
        bank.accounts[""] = bank.open_account("system")
        return bank

    def timed_moves(self, moves: list[Move]) -> float:
        started = time.perf_counter()
        for move in moves:
            self.move(self.accounts[move.source], self.accounts[move.target], move.asset, move.amount_minor)
        return time.perf_counter() - started

    def open_account(self, name: str) -> UUID:
        account = NaiveAccount(name)
        self.save(account)
        return account.id

    def move(self, source: UUID, target: UUID, asset: str, amount_minor: int) -> None:
        debited: NaiveAccount = self.repository.get(source)
        credited: NaiveAccount = self.repository.get(target)
        if debited.name.startswith("c") and debited.balances.get(asset, 0) < amount_minor:
            msg = "insufficient funds"
            raise ValueError(msg)
        debited.debit(asset, amount_minor)
        credited.credit(asset, amount_minor)
        self.save(debited, credited)


def measure_postgres(moves: list[Move]) -> dict[str, Any]:
    """Ours and the naive path on PostgreSQL, each in a schema of its own, dropped after."""
    # Imported here: the SQLite figures need no PostgreSQL driver.
    from ledger.store.postgres import drop_schema, ensure_postgres_schema  # noqa: PLC0415

    base = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    ours_url, naive_url = (f"{base}?schema=bench_{uuid4().hex[:12]}" for _ in range(2))
    commands = [to_command(index, move) for index, move in enumerate(moves)]
    naive_target = parse_postgres_url(naive_url)
    try:
        ensure_postgres_schema(naive_target)
        with Ledger.open(database_url=ours_url, create=True) as ledger:
            ledger.submit(setup_commands())
            started = time.perf_counter()
            for batch in batches(commands, BATCH_SIZE):
                ledger.submit(batch)
            ours = len(commands) / (time.perf_counter() - started)
        naive_moves = moves[: min(len(moves), NAIVE_POSTGRES_TRANSACTIONS_MAX)]
        bank = NaiveBank.opened(naive_target.env())
        naive = len(naive_moves) / bank.timed_moves(naive_moves)
        bank.close()
    finally:
        for url in (ours_url, naive_url):
            drop_schema(parse_postgres_url(url))
    return figure(ours, "tx/s", {"naive_eventsourcing": naive}, transactions=len(moves), batch_size=BATCH_SIZE)


def _unavailable(error: Exception) -> dict[str, Any]:
    from ledger.extras import missing_extra_line  # noqa: PLC0415

    return unavailable("tx/s", missing_extra_line(error) or f"no PostgreSQL at {POSTGRES_URL_ENV}: {error}")


def unavailable(unit: str, reason: str) -> dict[str, Any]:
    """A figure that could not be measured here, and why (it is skipped, not failed)."""
    return {"value": None, "unit": unit, "references": {}, "unavailable": reason}


def run_benchmarks(transactions: int, *, postgres: bool = True) -> dict[str, Any]:
    moves = workload(transactions)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        root = Path(folder)
        commands = [to_command(index, move) for index, move in enumerate(moves)]
        rates, rows = measure_sqlite_and_naive(root, moves, commands)
        raw = measure_raw_sqlite(root, rows, len(moves))
        floor = measure_python_floor(root, rows, commands)
    figures: dict[str, Any] = {}
    if postgres:
        try:
            figures["write.postgres"] = measure_postgres(moves)
        except (ImportError, OSError, PersistenceError) as error:  # no driver installed, no server
            figures["write.postgres"] = _unavailable(error)
        except Exception as error:  # the driver's own errors, recognised by module (it is optional)
            if type(error).__module__.split(".")[0] != "psycopg":
                raise
            figures["write.postgres"] = _unavailable(error)
    return {
        "figures": {
            **figures,
            "write.sqlite": figure(
                rates.ours,
                "tx/s",
                {
                    "naive_eventsourcing": rates.naive,
                    "raw_sqlite": raw,
                    "python_floor": floor,
                    "signed_every_batch": rates.signed_every_batch,
                },
                transactions=len(moves),
                events=len(rows),
                batch_size=BATCH_SIZE,
            ),
        }
    }
