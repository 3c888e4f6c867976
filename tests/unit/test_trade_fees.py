"""A trade's fee of zero is no fee, however it is spelt."""

from __future__ import annotations

import pytest

from domain.commands import ExecuteTrade
from domain.events import TradeExecuted
from tests.world import apply, trading_world


@pytest.mark.parametrize("fee", ["0", "0.0", "0.00", "00"])
def test_a_trade_with_a_zero_fee_in_any_spelling_is_accepted_and_charges_nothing(fee: str) -> None:
    state = trading_world()
    trade = ExecuteTrade(
        key="t",
        buyer_client_id="nord",
        seller_client_id="jan",
        base_asset="USDT",
        base_amount="1",
        quote_asset="BYN",
        quote_amount="1.00",
        fee=fee,
    )
    outcome = apply(state, trade)
    assert outcome.violation is None
    (event,) = outcome.events
    assert isinstance(event, TradeExecuted)
    assert event.fee_minor == 0
    assert state.balance("client:nord", "BYN") == 50_00 - 1_00
    assert state.balance("client:jan", "BYN") == 1_00
    assert state.balance("system:fees", "BYN") == 0
