"""Over random trades, listings and delistings, on both backends: no accepted
trade breaks the domestic-only rule, and a rejected trade moves nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.commands import BaseCommand, DelistVenue, ExecuteTrade, ListVenue
from domain.errors import BatchRejected
from domain.parties import ClientKind, Residency, VenueKind
from ledger import Ledger
from tests.property.test_conservation import assert_books_balance
from tests.world import funding_commands, setup_commands, trading_commands

VENUES = {
    "minsk-htp": VenueKind.HTP_PLATFORM,
    "grodno-x": VenueKind.HTP_EXCHANGE_OPERATOR,
    "offshore": VenueKind.FOREIGN_EXCHANGE,
}
CLIENTS = ["alesia", "nord", "jan", "ivan", "pending"]


@st.composite
def operations(draw: st.DrawFn) -> BaseCommand:
    key = f"op-{draw(st.uuids()).hex}"
    roll = draw(st.integers(min_value=0, max_value=9))
    venue_id = draw(st.sampled_from(sorted(VENUES)))
    if roll == 0:
        return DelistVenue(key=key, venue_id=venue_id, reason="review")
    if roll == 1:
        return ListVenue(key=key, venue_id=venue_id, name=venue_id, kind=VENUES[venue_id], assets=["BYN", "USDT"])
    buyer, seller = draw(st.sampled_from([*CLIENTS, None])), draw(st.sampled_from([*CLIENTS, None]))
    return ExecuteTrade(
        key=key,
        venue_id=draw(st.sampled_from([venue_id, venue_id, None])),
        buyer_client_id=buyer,
        seller_client_id=seller,
        base_asset="USDT",
        base_amount=str(draw(st.integers(min_value=1, max_value=400))),
        quote_asset="BYN",
        quote_amount=f"{draw(st.integers(min_value=1, max_value=9000)) / 100:.2f}",
    )


def bound_to_domestic_venues(ledger: Ledger, client_id: str | None) -> bool:
    if client_id is None:
        return False
    client = ledger.state.clients[client_id]
    return client.residency == Residency.RESIDENT and client.kind != ClientKind.COMPANY


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operations(), min_size=1, max_size=25))
def test_no_accepted_trade_breaks_the_domestic_only_rule(
    fresh_store: Callable[[], str], tmp_path: Path, ops: list[BaseCommand]
) -> None:
    with Ledger.open(home=tmp_path, database_url=fresh_store(), create=True) as ledger:
        ledger.submit(setup_commands() + funding_commands() + trading_commands())
        for command in ops:
            venues, balances = dict(ledger.state.venues), dict(ledger.state.balances)
            length = ledger.backend.max_notification_id()
            try:
                (result,) = ledger.submit([command])
            except BatchRejected:
                event("refused outright")
                assert ledger.backend.max_notification_id() == length
                assert ledger.state.balances == balances
                continue
            event(f"{result.command_type} {result.rule or result.status}")
            if isinstance(command, ExecuteTrade) and result.accepted and command.venue_id is not None:
                venue = venues[command.venue_id]
                assert venue.listed
                if not venue.domestic:
                    assert not bound_to_domestic_venues(ledger, command.buyer_client_id)
                    assert not bound_to_domestic_venues(ledger, command.seller_client_id)
            if not result.accepted:
                assert ledger.state.balances == balances
                assert ledger.backend.max_notification_id() == length + 1
            assert_books_balance(ledger.state)
