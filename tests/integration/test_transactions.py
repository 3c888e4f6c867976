"""Reading back: transactions and rejections by key, by filter and page by page, and the raw log, on both backends."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from domain.commands import BaseCommand, Deposit, ExecuteTrade, Transfer
from ledger import Ledger, ManualClock, Sandbox
from ledger.views import (
    EVENTS_PAGE_MAX,
    TRANSACTIONS_PAGE_MAX,
    InvalidCursor,
    InvalidQuery,
    TransactionFilter,
    TransactionRow,
)
from tests.integration.test_projections import history
from tests.world import LEDGER_TIME

OpenLedger = Callable[..., Ledger]
SPRING = {"campaign": "spring", "channel": "mobile"}


def tagged() -> list[BaseCommand]:
    """Commands with metadata: two with both pairs, one with another campaign."""
    return [
        Deposit(key="m-1", client_id="alesia", asset="BYN", amount="1", reference="r", metadata=SPRING),
        Deposit(key="m-2", client_id="nord", asset="BYN", amount="1", reference="r", metadata={"campaign": "autumn"}),
        Transfer(
            key="m-3", source_client_id="alesia", target_client_id="nord", asset="BYN", amount="1", metadata=SPRING
        ),
    ]


@pytest.fixture
def ledger(open_ledger: OpenLedger) -> Ledger:
    """The history of every kind of event, a batch of seven commands an hour of ledger time, then the tagged ones."""
    ledger = open_ledger(ledger_clock=ManualClock(LEDGER_TIME, step=timedelta(hours=1)))
    commands = history() + tagged()
    for start in range(0, len(commands), 7):
        ledger.submit(commands[start : start + 7])
    return ledger


def every_row(ledger: Ledger) -> list[TransactionRow]:
    return ledger.read_model.transactions(limit=TRANSACTIONS_PAGE_MAX).items


def test_every_command_that_wrote_events_is_read_back_by_its_key_with_its_type_outcome_and_positions(
    open_ledger: OpenLedger,
) -> None:
    ledger = open_ledger(ledger_clock=ManualClock(LEDGER_TIME, step=timedelta(hours=1)))
    commands = history() + tagged()
    results = [result for start in range(0, len(commands), 7) for result in ledger.submit(commands[start : start + 7])]
    for command, result in zip(commands, results, strict=True):
        row = ledger.read_model.transaction(command.key)
        if not result.notification_ids:
            assert row is None  # a command that wrote no events has no transaction
            continue
        assert row is not None
        assert (row.command_type, row.status, row.rule) == (command.command_type, result.status, result.rule)
        assert (row.position, row.notification_ids) == (result.notification_ids[0], result.notification_ids)
        assert row.metadata == command.metadata
    assert ledger.read_model.transaction("no-such-key") is None


def test_a_transaction_names_the_clients_accounts_assets_and_venue_it_concerns(ledger: Ledger) -> None:
    trade = ledger.read_model.transaction("t-ok")
    assert trade is not None
    assert (trade.clients, trade.venue_id) == (("alesia", "nord"), "minsk-htp")
    assert trade.accounts == ("client:alesia", "client:nord", "system:fees")
    assert trade.assets == ("BYN", "USDT")
    refused = ledger.read_model.transaction("x-poor")  # ivan cannot pay jan
    assert refused is not None
    assert (refused.status, refused.rule, refused.clients, refused.assets) == (
        "rejected",
        "INSUFFICIENT_FUNDS",
        ("ivan", "jan"),
        ("BYN",),
    )
    assert refused.details == {"account": "client:ivan", "asset": "BYN", "available": "0.00", "requested": "1.00"}
    returned = ledger.read_model.transaction("r-E1")  # names no client: its postings move nord's account
    assert returned is not None
    assert returned.clients == ("nord",)


def test_events_that_name_only_a_settlement_are_found_under_its_client(ledger: Ledger) -> None:
    closed = ledger.read_model.transaction("c-I1")  # a delivery moves no client account
    deadlines = ledger.read_model.transaction("deadlines")  # E2 and I2 are overdue, both nord's
    assert closed is not None
    assert deadlines is not None
    assert (closed.clients, deadlines.clients) == (("nord",), ("nord",))
    keys = [row.key for row in ledger.read_model.transactions(TransactionFilter(client="nord"), limit=100).items]
    assert {"c-I1", "deadlines"} <= set(keys)


def test_pages_read_newest_first_and_their_cursors_read_on_to_the_oldest(ledger: Ledger) -> None:
    everything = every_row(ledger)
    assert [row.position for row in everything] == sorted((row.position for row in everything), reverse=True)
    paged: list[TransactionRow] = []
    cursor = None
    while True:
        page = ledger.read_model.transactions(limit=4, cursor=cursor)
        paged += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(page.items) == 4
    assert paged == everything


def matches(row: TransactionRow, where: TransactionFilter) -> bool:
    """What each filter means, said plainly: the oracle the queries are held to."""
    checks = [
        where.client is None or where.client in row.clients,
        where.account is None or where.account in row.accounts,
        where.asset is None or where.asset in row.assets,
        where.command_type is None or where.command_type == row.command_type,
        where.status is None or where.status == row.status,
        where.rule is None or where.rule == row.rule,
        where.venue is None or where.venue == row.venue_id,
        where.since is None or row.ledger_time >= where.since.isoformat(timespec="microseconds")[:-6] + "Z",
        where.until is None or row.ledger_time < where.until.isoformat(timespec="microseconds")[:-6] + "Z",
        all(row.metadata.get(name) == value for name, value in where.metadata),
    ]
    return all(checks)


FILTERS = [
    TransactionFilter(client="alesia"),
    TransactionFilter(client="nord"),
    TransactionFilter(account="client:nord"),
    TransactionFilter(account="system:fees"),
    TransactionFilter(asset="USDT"),
    TransactionFilter(command_type="deposit"),
    TransactionFilter(status="rejected"),
    TransactionFilter(status="accepted"),
    TransactionFilter(rule="FOREIGN_VENUE_FORBIDDEN"),
    TransactionFilter(venue="grodno-x"),
    TransactionFilter(since=LEDGER_TIME + timedelta(hours=2), until=LEDGER_TIME + timedelta(hours=4)),
    TransactionFilter(since=LEDGER_TIME + timedelta(hours=4)),
    TransactionFilter(until=LEDGER_TIME + timedelta(hours=1)),
    TransactionFilter(metadata=(("campaign", "spring"),)),
    TransactionFilter(metadata=(("campaign", "spring"), ("channel", "mobile"))),
    TransactionFilter(metadata=(("campaign", "autumn"), ("channel", "mobile"))),
    TransactionFilter(client="alesia", status="rejected"),
    TransactionFilter(client="nord", asset="BYN", command_type="deposit"),
    TransactionFilter(command_type="execute_trade", status="accepted"),
    TransactionFilter(asset="USDT", venue="minsk-htp"),
    TransactionFilter(client="alesia", metadata=(("campaign", "spring"),), since=LEDGER_TIME),
    TransactionFilter(command_type="deposit", until=LEDGER_TIME + timedelta(hours=3)),
    TransactionFilter(client="nobody"),
]


@pytest.mark.parametrize("where", FILTERS, ids=lambda where: repr(where).removeprefix("TransactionFilter"))
def test_each_filter_selects_exactly_the_transactions_it_names_page_by_page(
    ledger: Ledger, where: TransactionFilter
) -> None:
    expected = [row for row in every_row(ledger) if matches(row, where)]
    paged: list[TransactionRow] = []
    cursor = None
    while True:
        page = ledger.read_model.transactions(where, limit=3, cursor=cursor)
        paged += page.items
        if (cursor := page.next_cursor) is None:
            break
    assert paged == expected


def test_the_filters_see_metadata_a_rejection_and_a_multi_event_command(ledger: Ledger) -> None:
    spring = ledger.read_model.transactions(TransactionFilter(metadata=(("campaign", "spring"),)))
    assert [row.key for row in spring.items] == ["m-3", "m-1"]
    assert spring.items[0].metadata == SPRING
    rejected = ledger.read_model.transactions(TransactionFilter(status="rejected"))
    assert {row.key for row in rejected.items} == {"t-foreign", "t-delisted", "x-poor"}
    (deadlines,) = ledger.read_model.transactions(TransactionFilter(command_type="check_deadlines")).items
    assert len(deadlines.notification_ids) == 2  # two settlements fell overdue


def test_rows_appended_between_pages_never_shift_a_page(ledger: Ledger) -> None:
    where = TransactionFilter(client="nord")
    before = [row.key for row in ledger.read_model.transactions(where, limit=TRANSACTIONS_PAGE_MAX).items]
    first = ledger.read_model.transactions(where, limit=5)
    ledger.submit(
        [Deposit(key=f"late-{n}", client_id="nord", asset="BYN", amount="1", reference="r") for n in range(7)]
    )
    rest: list[str] = []
    cursor = first.next_cursor
    while cursor is not None:
        page = ledger.read_model.transactions(where, limit=5, cursor=cursor)
        rest += [row.key for row in page.items]
        cursor = page.next_cursor
    assert [row.key for row in first.items] + rest == before  # nothing missed, nothing twice
    newest = ledger.read_model.transactions(where, limit=7).items
    assert [row.key for row in newest] == [f"late-{n}" for n in reversed(range(7))]


def test_a_cursor_made_for_other_filters_or_not_made_here_is_refused(ledger: Ledger) -> None:
    page = ledger.read_model.transactions(TransactionFilter(client="nord"), limit=2)
    assert page.next_cursor is not None
    with pytest.raises(InvalidCursor, match="made for other filters"):
        ledger.read_model.transactions(TransactionFilter(client="alesia"), cursor=page.next_cursor)
    forged = base64.urlsafe_b64encode(json.dumps({"v": 1, "before": "x", "filter": "y"}).encode()).decode()
    for cursor in ("not-a-cursor", "", forged, page.next_cursor[:-3]):
        with pytest.raises(InvalidCursor, match="not one this ledger made"):
            ledger.read_model.transactions(TransactionFilter(client="nord"), cursor=cursor)


@pytest.mark.parametrize("limit", [0, -1, TRANSACTIONS_PAGE_MAX + 1, True])
def test_a_page_size_out_of_range_is_refused_naming_the_range(ledger: Ledger, limit: int) -> None:
    with pytest.raises(InvalidQuery, match=f"limit must be a whole number from 1 to {TRANSACTIONS_PAGE_MAX}"):
        ledger.read_model.transactions(limit=limit)
    with pytest.raises(ValueError, match=f"from 1 to {EVENTS_PAGE_MAX}"):
        ledger.read_model.events(limit=EVENTS_PAGE_MAX + 1)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": "pending"}, "status 'pending' is not one of accepted, rejected"),
        ({"since": LEDGER_TIME.replace(tzinfo=None)}, "needs a time zone"),
        ({"since": LEDGER_TIME, "until": LEDGER_TIME}, "is not before until"),
        ({"metadata": (("campaign",),)}, "a metadata filter is a \\(name, value\\) pair"),
    ],
)
def test_a_filter_that_means_nothing_is_refused_saying_why(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidQuery, match=message):
        TransactionFilter(**fields)  # type: ignore[arg-type]


def test_the_log_reads_in_order_from_a_position_by_type_and_by_rule(ledger: Ledger) -> None:
    reader = ledger.read_model
    head = ledger.backend.max_notification_id()
    everything = reader.events(limit=EVENTS_PAGE_MAX)
    assert [event.position for event in everything] == list(range(1, head + 1))
    assert reader.events(after=10, limit=3) == everything[10:13]
    trades = reader.events(types=("TradeExecuted", "CommandRejected"))
    assert [event.type for event in trades] == [
        event.type for event in everything if event.type in ("TradeExecuted", "CommandRejected")
    ]
    (refusal,) = reader.events(rule="INSUFFICIENT_FUNDS")
    assert (refusal.command_key, refusal.data["rule"]) == ("x-poor", "INSUFFICIENT_FUNDS")
    assert reader.events(rule="INSUFFICIENT_FUNDS", types=("FundsDeposited",)) == []
    assert reader.events(rule="INSUFFICIENT_FUNDS", after=refusal.position) == []
    with pytest.raises(InvalidQuery, match="unknown event type 'Deposit': the types are AddressBlacklisted"):
        reader.events(types=("Deposit",))


def test_an_event_of_the_log_carries_the_data_of_its_audit_leaf(ledger: Ledger) -> None:
    ledger.audit.catch_up()
    leaves = [json.loads(leaf) for leaf in ledger.audit.leaves(0, ledger.audit.tree().size)]
    events = ledger.read_model.events(limit=EVENTS_PAGE_MAX)
    assert [event.data for event in events] == [leaf["data"] for leaf in leaves]
    assert [(event.stream, event.version, event.type) for event in events] == [
        (leaf["stream"], leaf["version"], leaf["type"]) for leaf in leaves
    ]
    tagged_deposit = next(event for event in events if event.command_key == "m-1")
    assert tagged_deposit.data["metadata"] == SPRING


def test_a_reader_of_the_sandbox_reads_transactions_back_without_the_write_path(tmp_path: Path) -> None:
    sandbox = Sandbox.at(tmp_path / "bank")
    sandbox.init(allow_unencrypted_key=True)
    with sandbox.open_writer(auto_checkpoint=False) as writer:
        writer.submit(history()[1:20])  # init established the bank
    with sandbox.open_reader() as reader:
        page = reader.transactions(TransactionFilter(client="alesia"))
    assert [row.command_type for row in page.items][-2:] == ["verify_kyc", "onboard_client"]


def test_a_trade_a_rule_refuses_is_found_by_its_venue_rule_and_both_clients(ledger: Ledger) -> None:
    refused = ExecuteTrade(
        key="t-foreign-2",
        venue_id="offshore",
        buyer_client_id="ivan",
        seller_client_id="jan",
        base_asset="USDT",
        base_amount="1",
        quote_asset="BYN",
        quote_amount="3.30",
    )
    ledger.submit([refused])
    for where in (
        TransactionFilter(venue="offshore", rule="FOREIGN_VENUE_FORBIDDEN"),
        TransactionFilter(client="jan", status="rejected"),
        TransactionFilter(asset="USDT", command_type="execute_trade", status="rejected"),
    ):
        assert ledger.read_model.transactions(where, limit=1).items[0].key == "t-foreign-2"
