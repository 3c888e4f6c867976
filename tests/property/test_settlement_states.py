"""At any ledger time every settlement is in exactly one state, and returned
plus settled by delivery plus outstanding equals what was sent."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain.commands import (
    BaseCommand,
    CheckDeadlines,
    CloseSettlementByDelivery,
    Deposit,
    ExtendSettlementDeadline,
    InitiateSettlement,
    ReturnSettlementFunds,
)
from domain.crossborder import Direction, PartyInfo, SettlementStatus
from domain.decide import Stamp, handle
from domain.errors import InvalidCommand
from tests.world import LEDGER_TIME, built_world

FULL = PartyInfo(name="N", account="A", customer_id="C", country="DE")
IDS = ["s1", "s2", "s3"]


@st.composite
def steps(draw: st.DrawFn) -> tuple[int, BaseCommand]:
    """A command and how many days after the start it happens."""
    day = draw(st.integers(min_value=0, max_value=200))
    sid = draw(st.sampled_from(IDS))
    key = f"k{draw(st.integers(min_value=0, max_value=10**9))}"
    kind = draw(st.sampled_from(["initiate", "initiate", "return", "return", "return", "close", "extend", "check"]))
    amount = str(draw(st.integers(min_value=100, max_value=500)))
    if kind == "initiate":
        return day, InitiateSettlement(
            key=key,
            settlement_id=sid,
            client_id="nord",
            direction=draw(st.sampled_from(list(Direction))),
            counterparty="C",
            country="DE",
            contract_reference="X",
            asset="BYN",
            amount=amount,
            deadline_days=draw(st.integers(min_value=1, max_value=120)),
            originator=FULL,
            beneficiary=FULL,
        )
    if kind == "return":
        part = str(draw(st.integers(min_value=1, max_value=250)))
        return day, ReturnSettlementFunds(key=key, settlement_id=sid, amount=part, reference="r")
    if kind == "close":
        return day, CloseSettlementByDelivery(key=key, settlement_id=sid, delivery_reference="d")
    if kind == "extend":
        new = LEDGER_TIME.date() + timedelta(days=draw(st.integers(min_value=1, max_value=300)))
        return day, ExtendSettlementDeadline(key=key, settlement_id=sid, new_deadline=new, permit_reference="p")
    return day, CheckDeadlines(key=key)


@settings(max_examples=300, deadline=None)
@given(script=st.lists(steps(), max_size=30))
def test_every_settlement_is_in_exactly_one_state_and_its_value_adds_up(
    script: list[tuple[int, BaseCommand]],
) -> None:
    state = built_world()
    funding = Deposit(key="fund", client_id="nord", asset="BYN", amount="100000", reference="r")
    state.evolve_all(handle(state, funding, Stamp(LEDGER_TIME, LEDGER_TIME, "fund")).events)
    # Ledger time only moves forward, as a clock's does.
    for day, command in sorted(script, key=lambda step: step[0]):
        at = LEDGER_TIME + timedelta(days=day)
        try:
            outcome = handle(state, command, Stamp(at, at, command.key))
        except InvalidCommand as refused:
            event(f"refused {type(refused).__name__}")
            continue
        state.evolve_all(outcome.events)
        event(f"{command.type} {outcome.violation.rule if outcome.violation else 'ok'}")
        in_transit = 0
        for settlement in state.settlements.values():
            assert settlement.status in set(SettlementStatus)
            assert settlement.returned_minor + settlement.delivered_minor + settlement.outstanding_minor == (
                settlement.sent_minor
            )
            assert settlement.outstanding_minor >= 0
            assert (settlement.outstanding_minor == 0) == (
                settlement.status in (SettlementStatus.RETURNED, SettlementStatus.CLOSED)
            )
            if settlement.status == SettlementStatus.CLOSED:
                assert settlement.direction == Direction.IMPORT
            if settlement.status == SettlementStatus.OPEN and isinstance(command, CheckDeadlines):
                assert at.date() <= settlement.deadline
            in_transit += settlement.outstanding_minor
        assert state.balance("system:in_transit", "BYN") == in_transit
