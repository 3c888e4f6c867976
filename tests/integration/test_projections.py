"""The views follow the log exactly once, rebuild to the same rows, and agree across backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.addresses import Network, example_address
from domain.commands import (
    BaseCommand,
    CheckDeadlines,
    CloseSettlementByDelivery,
    DelistVenue,
    Deposit,
    ExecuteTrade,
    FundTreasury,
    InitiateSettlement,
    ReturnSettlementFunds,
    SetReferenceRate,
    Transfer,
    VerifyWalletOwnership,
    Withdraw,
)
from domain.crossborder import Direction, PartyInfo
from ledger import Ledger, ManualClock
from ledger.projections import Projector
from ledger.reports import settlements as settlement_report
from ledger.tables import VIEWS_TRACKING_NAME
from ledger.views import view_digests
from tests.world import LEDGER_TIME, funding_commands, setup_commands, trading_commands

OpenLedger = Callable[..., Ledger]


def history() -> list[BaseCommand]:
    """Every kind of event: parties, assets, venues, movements, trades and rejections."""
    trades = [
        ExecuteTrade(
            key="t-ok",
            venue_id="minsk-htp",
            buyer_client_id="alesia",
            seller_client_id="nord",
            base_asset="USDT",
            base_amount="10",
            quote_asset="BYN",
            quote_amount="33.00",
            fee="0.10",
        ),
        ExecuteTrade(
            key="t-foreign",
            venue_id="offshore",
            buyer_client_id="alesia",
            seller_client_id="nord",
            base_asset="USDT",
            base_amount="1",
            quote_asset="BYN",
            quote_amount="3.30",
        ),
        DelistVenue(key="delist", venue_id="grodno-x", reason="licence withdrawn"),
        ExecuteTrade(
            key="t-delisted",
            venue_id="grodno-x",
            buyer_client_id="alesia",
            seller_client_id="nord",
            base_asset="USDT",
            base_amount="1",
            quote_asset="BYN",
            quote_amount="3.30",
        ),
        Transfer(key="x-poor", source_client_id="ivan", target_client_id="jan", asset="BYN", amount="1"),
        FundTreasury(key="treasury-byn", asset="BYN", amount="20.00", reference="capital"),
        ExecuteTrade(
            key="t-bank",
            seller_client_id="alesia",
            base_asset="SVT",
            base_amount="10.00",
            quote_asset="BYN",
            quote_amount="5.00",
        ),
    ]
    return setup_commands() + funding_commands() + trading_commands() + trades + settlements() + crypto_transfers()


WALLET = example_address(Network.EVM, "nord's own wallet")


def crypto_transfers() -> list[BaseCommand]:
    """A proof of control of a self-hosted wallet and a withdrawal to it with its IVMS101 data."""
    person = {"legal_person": {"name": {"legal_person_name": "Nord Timber JSC"}, "customer_number": "nord"}}
    payload = {
        "originator": {"originator_persons": [person], "account_number": ["client:nord"]},
        "beneficiary": {"beneficiary_persons": [person], "account_number": [WALLET]},
    }
    day = LEDGER_TIME.date()
    return [
        SetReferenceRate(key="rate-usdt", code="USDT", byn_per_unit="3.25", effective_on=day),
        SetReferenceRate(key="rate-eur", code="EUR", byn_per_unit="3.5", effective_on=day),
        VerifyWalletOwnership(
            key="proof", client_id="nord", wallet_address=WALLET, method="satoshi_test", reference="tx-1"
        ),
        Withdraw.model_validate(
            {
                "key": "w-crypto",
                "client_id": "nord",
                "asset": "USDT",
                "amount": "500",
                "reference": "out",
                "wallet_address": WALLET,
                "ivms101": payload,
            }
        ),
    ]


def settlements() -> list[BaseCommand]:
    """Four settlements: returned, closed by delivery, partly returned, overdue; and an AML notice."""
    full = PartyInfo(name="N", account="A-1", customer_id="C-1", country="DE")
    later = LEDGER_TIME + timedelta(days=100)

    def initiate(sid: str, direction: Direction, country: str, amount: str) -> BaseCommand:
        return InitiateSettlement(
            key=f"s-{sid}",
            settlement_id=sid,
            client_id="nord",
            direction=direction,
            counterparty=f"Counterparty {sid}",
            country=country,
            contract_reference=sid,
            asset="BYN",
            amount=amount,
            deadline_days=30,
            originator=full,
            beneficiary=full,
        )

    return [
        SetReferenceRate(key="rate-usd", code="USD", byn_per_unit="3.2", effective_on=LEDGER_TIME.date()),
        Deposit(key="big-deposit", client_id="nord", asset="BYN", amount="1000000", reference="in-big"),
        initiate("E1", Direction.EXPORT, "DE", "400"),
        initiate("I1", Direction.IMPORT, "KZ", "250"),
        initiate("E2", Direction.EXPORT, "AE", "300"),
        initiate("I2", Direction.IMPORT, "TR", "150"),
        ReturnSettlementFunds(key="r-E1", settlement_id="E1", amount="400", reference="back"),
        CloseSettlementByDelivery(key="c-I1", settlement_id="I1", delivery_reference="CMR"),
        ReturnSettlementFunds(key="r-E2", settlement_id="E2", amount="120", reference="part"),
        CheckDeadlines(key="deadlines", ledger_time=later),
    ]


def filled(open_ledger: OpenLedger) -> Ledger:
    ledger = open_ledger(ledger_clock=ManualClock(LEDGER_TIME, step=timedelta(hours=1)))
    for start in range(0, len(history()), 7):
        ledger.submit(history()[start : start + 7])
    return ledger


def rows(ledger: Ledger, table: str) -> list[tuple[Any, ...]]:
    with ledger.backend.views() as session:
        return session.fetchall(f"SELECT * FROM {table}")


def test_the_views_show_what_the_log_says(open_ledger: OpenLedger) -> None:
    ledger = filled(open_ledger)
    ledger.projector.catch_up()
    balances = {(a, s): int(m) for a, s, m in rows(ledger, "view_balances")}
    assert {k: v for k, v in balances.items() if v} == {k: v for k, v in ledger.state.balances.items() if v}
    supply = {code: int(minor) for code, _, _, _, _, minor in rows(ledger, "view_assets")}
    assert supply["SVT"] == ledger.state.supply("SVT") == 30000
    assert (balances[("system:treasury", "SVT")], balances[("system:treasury", "BYN")]) == (1000, 1500)
    venues = {venue_id: listed for venue_id, _, _, _, listed, _ in rows(ledger, "view_venues")}
    assert venues == {"minsk-htp": 1, "grodno-x": 0, "offshore": 1}
    kyc = {client_id: status for client_id, _, _, _, status in rows(ledger, "view_clients")}
    assert kyc["pending"] == "pending"
    assert kyc["jan"] == "verified"
    compliance = {(rule, client, venue): n for _, rule, client, venue, _, n in rows(ledger, "view_compliance")}
    assert compliance == {
        ("FOREIGN_VENUE_FORBIDDEN", "alesia", "offshore"): 1,
        ("VENUE_NOT_LISTED", "alesia", "grodno-x"): 1,
        ("INSUFFICIENT_FUNDS", "ivan", ""): 1,
    }
    assert ledger.projector.position() == ledger.state.position


def test_the_settlement_report_shows_what_came_back_and_what_is_overdue(open_ledger: OpenLedger) -> None:
    report = settlement_report(filled(open_ledger).read_model)
    assert report["by_status"] == {"open": 0, "returned": 1, "closed": 1, "overdue": 2}
    assert (report["sent_byn"], report["returned_byn"], report["outstanding_byn"]) == (
        "1100.00",
        "520.00",
        "330.00",
    )
    assert report["share_returned"] == "0.4727"
    assert report["overdue"]["by_country"] == {"AE": "180.00", "TR": "150.00"}
    assert report["monthly_volume_byn"]["2026-02"] == {
        "AE": "300.00",
        "DE": "400.00",
        "KZ": "250.00",
        "TR": "150.00",
    }
    assert report["travel_rule"] == {"complete": 4, "incomplete": 0, "share_complete": "1.0000"}
    (notice,) = report["aml_notifications"]
    assert (notice["client_id"], notice["value_byn"], notice["threshold_byn"]) == (
        "nord",
        "1000000.00",
        "900000.00",
    )


def test_a_redelivered_page_changes_nothing(open_ledger: OpenLedger) -> None:
    ledger = filled(open_ledger)
    ledger.projector.catch_up()
    before = view_digests(ledger.backend)
    with ledger.backend.views() as session:
        position = session.tracking_position(VIEWS_TRACKING_NAME)
        again = session.notifications_after(position - 5, 5)
        ledger.projector.apply_page(session, position, again)
        assert session.tracking_position(VIEWS_TRACKING_NAME) == position
    assert view_digests(ledger.backend) == before


def test_rebuilding_every_view_from_the_log_gives_the_same_rows(open_ledger: OpenLedger) -> None:
    ledger = filled(open_ledger)
    ledger.projector.catch_up()
    live = view_digests(ledger.backend)
    assert ledger.projector.rebuild() == ledger.state.position
    assert view_digests(ledger.backend) == live


def test_a_command_whose_events_a_page_boundary_cuts_is_one_row_as_if_read_whole(open_ledger: OpenLedger) -> None:
    ledger = filled(open_ledger)
    live = view_digests(ledger.backend)
    ledger.projector.clear()
    ledger.projector.catch_up(page_size=1)  # every command of several events is cut
    assert view_digests(ledger.backend) == live
    multi = [row for row in rows(ledger, "view_transactions") if "," in row[-1]]
    assert {row[2] for row in multi} >= {"deposit", "check_deadlines"}  # AML notices, overdue settlements


def test_a_failure_mid_page_rolls_the_page_back_and_a_rerun_resumes(
    open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = filled(open_ledger)
    ledger.projector.clear()  # the write path keeps the views current: start them again
    original = Projector._write_page
    pages = {"written": 0}

    def failing(self: Projector, session: Any, page: Any) -> None:
        original(self, session, page)  # the third page's views are written, its position not yet
        pages["written"] += 1
        if pages["written"] == 3:
            raise OSError("power cut (injected)")

    monkeypatch.setattr(Projector, "_write_page", failing)
    with pytest.raises(OSError, match="injected"):
        ledger.projector.catch_up(page_size=6)
    stopped_at = ledger.projector.position()
    assert stopped_at == 12  # two whole pages of six, and nothing of the third
    monkeypatch.undo()
    ledger.projector.catch_up(page_size=6)
    resumed = view_digests(ledger.backend)
    ledger.projector.rebuild()
    assert view_digests(ledger.backend) == resumed


@pytest.mark.postgres
def test_sqlite_and_postgres_build_identical_views_from_the_same_commands(tmp_path: Path, postgres_url: str) -> None:
    digests = []
    for url in (f"sqlite:///{tmp_path / 'ledger.sqlite'}", postgres_url):
        clock = ManualClock(LEDGER_TIME, step=timedelta(hours=1))
        # One recording clock for both: the transactions view shows when each command was recorded.
        with Ledger.open(home=tmp_path, database_url=url, clock=clock, ledger_clock=clock, create=True) as ledger:
            for start in range(0, len(history()), 7):
                ledger.submit(history()[start : start + 7])
            ledger.projector.catch_up()
            digests.append(view_digests(ledger.backend))
    assert digests[0] == digests[1]


def test_a_crypto_transfer_shows_its_travel_rule_data_in_the_transactions_and_the_report(
    open_ledger: OpenLedger,
) -> None:
    ledger = filled(open_ledger)
    ledger.projector.catch_up()
    row = ledger.read_model.transaction("w-crypto")
    assert row is not None
    assert row.travel_rule is not None
    assert row.travel_rule["beneficiary"]["account_number"] == [WALLET]
    assert row.to_json()["travel_rule"] == row.travel_rule
    (listed,) = [item for item in ledger.read_model.transactions().items if item.key == "w-crypto"]
    assert listed.travel_rule == row.travel_rule
    (transfer,) = settlement_report(ledger.read_model)["crypto_transfers"]
    assert (transfer["key"], transfer["self_hosted"], transfer["originator"]) == ("w-crypto", True, "Nord Timber JSC")
    before = view_digests(ledger.backend)
    ledger.projector.rebuild()
    assert view_digests(ledger.backend) == before
