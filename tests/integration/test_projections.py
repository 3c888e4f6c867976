"""The views follow the log exactly once, rebuild to the same rows, and agree across backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.commands import BaseCommand, DelistVenue, ExecuteTrade, Transfer
from ledger import Ledger, ManualClock
from ledger.projections import VIEWS_TRACKING_NAME, Projector, view_digests
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
    ]
    return setup_commands() + funding_commands() + trading_commands() + trades


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
    venues = {venue_id: listed for venue_id, _, _, _, listed, _ in rows(ledger, "view_venues")}
    assert venues == {"minsk-htp": 1, "grodno-x": 0, "offshore": 1}
    kyc = {client_id: status for client_id, _, _, _, status in rows(ledger, "view_clients")}
    assert kyc["pending"] == "pending"
    assert kyc["jan"] == "verified"
    compliance = {
        (rule, client, venue): n for _, rule, client, venue, _, n in rows(ledger, "view_compliance")
    }
    assert compliance == {
        ("FOREIGN_VENUE_FORBIDDEN", "alesia", "offshore"): 1,
        ("VENUE_NOT_LISTED", "alesia", "grodno-x"): 1,
        ("INSUFFICIENT_FUNDS", "ivan", ""): 1,
    }
    assert ledger.projector.position() == ledger.state.position


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


def test_a_failure_mid_page_rolls_the_page_back_and_a_rerun_resumes(
    open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = filled(open_ledger)
    original = Projector._apply
    seen = {"events": 0}

    def failing(self: Projector, session: Any, page: Any, event: Any) -> None:
        seen["events"] += 1
        if seen["events"] == 17:
            raise OSError("power cut (injected)")
        original(self, session, page, event)

    monkeypatch.setattr(Projector, "_apply", failing)
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
def test_sqlite_and_postgres_build_identical_views_from_the_same_commands(
    tmp_path: Path, postgres_url: str
) -> None:
    digests = []
    for url in (f"sqlite:///{tmp_path / 'ledger.sqlite'}", postgres_url):
        with Ledger.open(
            home=tmp_path, database_url=url, ledger_clock=ManualClock(LEDGER_TIME, step=timedelta(hours=1))
        ) as ledger:
            for start in range(0, len(history()), 7):
                ledger.submit(history()[start : start + 7])
            ledger.projector.catch_up()
            digests.append(view_digests(ledger.backend))
    assert digests[0] == digests[1]
