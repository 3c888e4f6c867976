"""A filtered page of transactions costs the same on a store ten times longer: every filter reads an index.

Each store holds the same old block of transactions the filters select (trades
and refused trades, tagged, on one ledger day) followed by deposits that none
of them selects, ten times as many in the larger store. A read that walked
the log, or sorted what it found, would cost ten times more there; one that
reads the filter's index back from the cursor costs the same. On SQLite the
cost is counted in the virtual machine's steps, and the plans are checked for
full scans; on PostgreSQL (with sequential scans off: the tables are small)
in the scans the statistics of the read's own transaction count.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from domain.commands import BaseCommand, Deposit, ExecuteTrade
from ledger import Ledger, ManualClock
from ledger.views import ReadModel, TransactionFilter
from tests.world import LEDGER_TIME, funding_commands, setup_commands, trading_commands

BLOCK_DAY = LEDGER_TIME + timedelta(days=1)
FILLER_DAY = LEDGER_TIME + timedelta(days=10)
SMALL, LARGE = 1_000, 10_000
GROWTH_MAX = 1.5
PAGE = 20

FILTERS = {
    "client": TransactionFilter(client="alesia"),
    "account": TransactionFilter(account="client:alesia"),
    "asset": TransactionFilter(asset="USDT"),
    "type": TransactionFilter(command_type="execute_trade"),
    "status": TransactionFilter(status="rejected"),
    "rule": TransactionFilter(rule="FOREIGN_VENUE_FORBIDDEN"),
    "venue": TransactionFilter(venue="minsk-htp"),
    "time window": TransactionFilter(since=BLOCK_DAY, until=BLOCK_DAY + timedelta(days=1)),
    "metadata": TransactionFilter(metadata=(("campaign", "spring"),)),
    "client and status": TransactionFilter(client="alesia", status="rejected"),
    "type and status": TransactionFilter(command_type="execute_trade", status="accepted"),
    "asset and venue": TransactionFilter(asset="USDT", venue="minsk-htp"),
    "client and time": TransactionFilter(client="nord", until=BLOCK_DAY + timedelta(days=1)),
    # Filters the newest rows match: read from the head.
    "accepted": TransactionFilter(status="accepted"),
    "recent": TransactionFilter(since=FILLER_DAY),
    "none": TransactionFilter(),
}
FROM_THE_HEAD = ("accepted", "recent", "none")


def block() -> list[BaseCommand]:
    """Trades on a domestic venue, tagged, and trades a rule refuses on a foreign one."""
    trades: list[BaseCommand] = []
    for n in range(60):
        for venue, key in (("minsk-htp", f"trade-{n}"), ("offshore", f"refused-{n}")):
            trades.append(
                ExecuteTrade(
                    key=key,
                    venue_id=venue,
                    buyer_client_id="alesia",
                    seller_client_id="nord",
                    base_asset="USDT",
                    base_amount="0.1",
                    quote_asset="BYN",
                    quote_amount="0.01",
                    ledger_time=BLOCK_DAY,
                    metadata={"campaign": "spring"},
                )
            )
    return trades


def filler(count: int) -> list[BaseCommand]:
    return [
        Deposit(
            key=f"filler-{n}",
            client_id=("jan", "ivan")[n % 2],
            asset="BYN",
            amount="1",
            reference=f"in-{n}",
            ledger_time=FILLER_DAY,
        )
        for n in range(count)
    ]


def build(url: str, home: Path, filler_count: int) -> Ledger:
    ledger = Ledger.open(home=home, database_url=url, ledger_clock=ManualClock(LEDGER_TIME), create=True)
    ledger.submit(setup_commands() + funding_commands() + trading_commands())
    ledger.submit(block())
    commands = filler(filler_count)
    for start in range(0, len(commands), 1000):
        ledger.submit(commands[start : start + 1000])
    return ledger


@pytest.fixture(scope="module")
def sqlite_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Ledger]]:
    folder = tmp_path_factory.mktemp("costs")
    stores = {size: build(f"sqlite:///{folder / f'{size}.sqlite'}", folder, size) for size in (SMALL, LARGE)}
    yield stores
    for ledger in stores.values():
        ledger.close()


def counted_page(reader: ReadModel, where: TransactionFilter, *, second: bool) -> tuple[int, list[str], list[str]]:
    """The SQLite steps of reading a page (the second one when `second`), its
    keys, and the query plans of the statements it ran."""
    cursor = reader.transactions(where, limit=PAGE).next_cursor if second else None
    steps = [0]
    statements: list[str] = []

    def count() -> int:
        steps[0] += 1
        return 0

    with reader.session() as session:
        connection = session.connection  # type: ignore[attr-defined]
        connection.set_progress_handler(count, 1)
        connection.set_trace_callback(statements.append)
        page = reader.transactions_in(session, where, limit=PAGE, cursor=cursor)
        connection.set_progress_handler(None, 1)
        connection.set_trace_callback(None)
        plans = [row[3] for statement in statements for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}")]
    return steps[0], [row.key for row in page.items], plans


@pytest.mark.parametrize("second", [False, True], ids=["first page", "second page"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_a_filtered_page_costs_the_same_on_sqlite_at_ten_times_the_log(
    sqlite_stores: dict[int, Ledger], name: str, second: bool
) -> None:
    where = FILTERS[name]
    small_steps, small_keys, small_plans = counted_page(sqlite_stores[SMALL].read_model, where, second=second)
    large_steps, large_keys, large_plans = counted_page(sqlite_stores[LARGE].read_model, where, second=second)
    if name not in FROM_THE_HEAD:
        assert large_keys == small_keys  # the very same page of the old block
        assert len(small_keys) == PAGE
    assert large_steps < GROWTH_MAX * small_steps, (name, small_steps, large_steps)
    assert small_plans == large_plans
    assert not [plan for plan in large_plans if plan.startswith("SCAN")], (name, large_plans)  # every read SEARCHes


@pytest.fixture(scope="module")
def postgres_stores(tmp_path_factory: pytest.TempPathFactory, postgres_server: str) -> Iterator[dict[int, Ledger]]:
    folder = tmp_path_factory.mktemp("pg-costs")
    schemas = {size: f"test_costs_{size}_{folder.name[-6:]}".lower().replace("-", "_") for size in (SMALL, LARGE)}
    stores = {size: build(f"{postgres_server}?schema={schemas[size]}", folder, size) for size in (SMALL, LARGE)}
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        for schema in schemas.values():  # the statistics autovacuum keeps on a live store
            connection.execute(sql.SQL("ANALYZE {}.view_transactions").format(sql.Identifier(schema)))
    yield stores
    for ledger in stores.values():
        ledger.close()
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        for schema in schemas.values():
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


_SCANS = (
    "SELECT sum(seq_scan) AS seq, sum(idx_scan) AS idx, sum(idx_tup_fetch) AS fetched FROM pg_stat_xact_user_tables "
    "WHERE starts_with(relname, 'view_transaction')"
)


def scanned_page(reader: ReadModel, where: TransactionFilter) -> tuple[dict[str, int], list[str]]:
    """The scans of the transactions' tables a first page made (the difference
    in what the read's own transaction counts before and after it), and its keys."""
    with reader.session() as session:
        session.cursor.execute("SET LOCAL enable_seqscan = off")  # type: ignore[attr-defined]
        ((seq_before, idx_before, fetched_before),) = session.fetchall(_SCANS)
        page = reader.transactions_in(session, where, limit=PAGE)
        ((seq_after, idx_after, fetched_after),) = session.fetchall(_SCANS)
    counts = {
        "seq_scan": int(seq_after - seq_before),
        "idx_scan": int(idx_after - idx_before),
        "fetched": int(fetched_after - fetched_before),
    }
    return counts, [row.key for row in page.items]


@pytest.mark.postgres
@pytest.mark.parametrize("name", list(FILTERS))
def test_a_filtered_page_reads_indexes_alone_on_postgres_at_ten_times_the_log(
    postgres_stores: dict[int, Ledger], name: str
) -> None:
    where = FILTERS[name]
    small, small_keys = scanned_page(postgres_stores[SMALL].read_model, where)
    large, large_keys = scanned_page(postgres_stores[LARGE].read_model, where)
    assert large["seq_scan"] == small["seq_scan"] == 0, (name, small, large)
    assert large["idx_scan"] > 0
    if name not in FROM_THE_HEAD:
        assert large_keys == small_keys
    assert large["fetched"] < GROWTH_MAX * small["fetched"] + PAGE, (name, small, large)
