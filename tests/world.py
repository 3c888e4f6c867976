"""A small world of parties and assets, built through commands, for the tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from domain.commands import (
    BaseCommand,
    Deposit,
    EstablishBank,
    IssueTokens,
    ListVenue,
    OnboardClient,
    RegisterAsset,
    RegisterIssuer,
    RegisterToken,
    VerifyKyc,
)
from domain.decide import Outcome, Stamp, handle
from domain.events import CommandRejected, LedgerEvent
from domain.money import AssetKind
from domain.parties import ClientKind, Residency, VenueKind
from domain.state import LedgerState, RememberedHistory

LEDGER_TIME = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
SVT_CAP = "1000.00"


def setup_commands() -> list[BaseCommand]:
    """The bank, two licensed issuers and an unlicensed one, BYN, USDT and two
    tokens, two verified clients and one still pending KYC."""
    return [
        EstablishBank(key="bank", name="Zubr Crypto Bank JSC", htp_resident=True, nbrb_register_entry="CB-1"),
        RegisterIssuer(key="issuer-svislach", issuer_id="svislach", name="Svislach Tokens", licensed=True),
        RegisterIssuer(key="issuer-berezina", issuer_id="berezina", name="Berezina Mint", licensed=True),
        RegisterIssuer(key="issuer-grey", issuer_id="grey-mint", name="Grey Mint", licensed=False),
        RegisterAsset(key="asset-byn", code="BYN", scale=2, kind=AssetKind.FIAT),
        RegisterAsset(key="asset-usdt", code="USDT", scale=6, kind=AssetKind.CRYPTO),
        RegisterToken(key="token-svt", code="SVT", scale=2, issuer_id="svislach", supply_cap=SVT_CAP),
        RegisterToken(key="token-brz", code="BRZ", scale=0, issuer_id="berezina", supply_cap="1000000"),
        *(
            OnboardClient(key=f"onboard-{cid}", client_id=cid, name=cid.title(), residency=res, kind=kind)
            for cid, res, kind in (
                ("alesia", Residency.RESIDENT, ClientKind.INDIVIDUAL),
                ("nord", Residency.RESIDENT, ClientKind.COMPANY),
                ("pending", Residency.NON_RESIDENT, ClientKind.INDIVIDUAL),
            )
        ),
        VerifyKyc(key="kyc-alesia", client_id="alesia"),
        VerifyKyc(key="kyc-nord", client_id="nord"),
    ]


def funding_commands() -> list[BaseCommand]:
    """Alesia holds 100.00 BYN and 300.00 SVT."""
    return [
        Deposit(key="fund-byn", client_id="alesia", asset="BYN", amount="100.00", reference="in-1"),
        IssueTokens(key="fund-svt", issuer_id="svislach", asset="SVT", client_id="alesia", amount="300.00"),
    ]


def apply(state: LedgerState, command: BaseCommand) -> Outcome:
    outcome = handle(state, command, Stamp(LEDGER_TIME, command.at(LEDGER_TIME), command.key))
    state.evolve_all(outcome.events)
    if isinstance(state.history, RememberedHistory):
        state.history.remember(outcome.events)
    return outcome


def accept(state: LedgerState, command: BaseCommand) -> list[LedgerEvent]:
    """Applies a command that must be accepted: a refusal fails the test and
    names the rule (where `apply` would only record the rejection)."""
    outcome = apply(state, command)
    if outcome.violation is not None:
        violation = outcome.violation
        pytest.fail(f"{command.key!r} was refused by {violation.rule}: {violation.message}")
    return outcome.events


def reject(state: LedgerState, command: BaseCommand, rule: str) -> CommandRejected:
    """Applies a command that must be refused by `rule`: an acceptance, or a
    refusal by another rule, fails the test. The balances stay as they were."""
    before = dict(state.balances)
    outcome = apply(state, command)
    if outcome.violation is None:
        pytest.fail(f"{command.key!r} was accepted, {rule} expected")
    assert outcome.violation.rule == rule, outcome.violation
    (event,) = outcome.events
    assert isinstance(event, CommandRejected)
    assert (event.rule, event.command_key) == (rule, command.key)
    assert state.balances == before
    return event


def nonzero_balances(state: LedgerState) -> dict[tuple[str, str], int]:
    """Every non-zero balance, by (account, asset)."""
    return {key: amount for key, amount in state.balances.items() if amount}


def assert_moves(state: LedgerState, command: BaseCommand, moves: Mapping[tuple[str, str], int]) -> list[LedgerEvent]:
    """Accepts `command` and checks that it changed exactly the balances of
    `moves`, by exactly those amounts in minor units: every account it moves,
    and no other."""
    before = nonzero_balances(state)
    events = accept(state, command)
    after = nonzero_balances(state)
    changes = {key: after.get(key, 0) - before.get(key, 0) for key in before.keys() | after.keys()}
    assert {key: change for key, change in changes.items() if change} == dict(moves)
    return events


def built_world() -> LedgerState:
    state = LedgerState()
    state.history = RememberedHistory()  # what a reversal finds its original in
    for command in setup_commands() + funding_commands():
        outcome = apply(state, command)
        assert outcome.violation is None, outcome.violation
    return state


def trading_commands() -> list[BaseCommand]:
    """Two domestic venues and a foreign one; a verified non-resident (jan) and
    a resident self-employed client (ivan); nord holds 1000 USDT and 50 BYN."""
    return [
        ListVenue(
            key="venue-minsk",
            venue_id="minsk-htp",
            name="Minsk HTP Platform",
            kind=VenueKind.HTP_PLATFORM,
            assets=["BYN", "USDT", "SVT"],
        ),
        ListVenue(
            key="venue-grodno",
            venue_id="grodno-x",
            name="Grodno Exchange Operator",
            kind=VenueKind.HTP_EXCHANGE_OPERATOR,
            assets=["BYN", "USDT"],
        ),
        ListVenue(
            key="venue-offshore",
            venue_id="offshore",
            name="Offshore Exchange Ltd",
            kind=VenueKind.FOREIGN_EXCHANGE,
            assets=["BYN", "USDT", "SVT"],
        ),
        OnboardClient(
            key="onboard-jan",
            client_id="jan",
            name="Jan",
            residency=Residency.NON_RESIDENT,
            kind=ClientKind.INDIVIDUAL,
        ),
        OnboardClient(
            key="onboard-ivan",
            client_id="ivan",
            name="Ivan",
            residency=Residency.RESIDENT,
            kind=ClientKind.SELF_EMPLOYED,
        ),
        VerifyKyc(key="kyc-jan", client_id="jan"),
        VerifyKyc(key="kyc-ivan", client_id="ivan"),
        Deposit(key="fund-nord-usdt", client_id="nord", asset="USDT", amount="1000", reference="in-2"),
        Deposit(key="fund-nord-byn", client_id="nord", asset="BYN", amount="50", reference="in-3"),
        Deposit(key="fund-jan-usdt", client_id="jan", asset="USDT", amount="1000", reference="in-4"),
        Deposit(key="fund-ivan-usdt", client_id="ivan", asset="USDT", amount="1000", reference="in-5"),
    ]


def trading_world() -> LedgerState:
    state = built_world()
    for command in trading_commands():
        outcome = apply(state, command)
        assert outcome.violation is None, outcome.violation
    return state
