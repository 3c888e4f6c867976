"""Deciding: a command and the current state give the events to record.

Check, then emit: each handler validates against the state and raises a
`LedgerError`; it never mutates the state (the caller evolves it with the
events). `InvalidCommand` refuses the command outright; a `RuleViolation` is
turned by `handle` into a `CommandRejected` event, so the supervisor sees the
attempt.
"""

from __future__ import annotations

__all__ = ["Outcome", "Stamp", "command_stream", "decide", "handle"]

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any, NamedTuple

from domain.accounts import SystemAccount, client_account
from domain.commands import (
    BaseCommand,
    CheckDeadlines,
    CloseSettlementByDelivery,
    EstablishBank,
    ExtendSettlementDeadline,
    InitiateSettlement,
    ReturnSettlementFunds,
    SetSandboxClock,
)
from domain.crossborder import (
    Direction,
    Settlement,
    SettlementStatus,
    cents_text,
    value_in_byn,
)
from domain.errors import (
    AlreadyExists,
    BankNotEstablished,
    BlockedJurisdiction,
    InvalidCommand,
    RuleViolation,
    SettlementNotPermitted,
)
from domain.events import (
    CLOCK_STREAM,
    CommandRejected,
    FundsReturned,
    LedgerEvent,
    SandboxClockSet,
    SettlementClosedByDelivery,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
    rejection_subject,
    stream_id,
)
from domain.parties import Client
from domain.rules import compliance, funding, issuance, onboarding, trading
from domain.rules.base import Stamp, command_stream
from domain.rules.base import find_asset as _asset
from domain.rules.base import find_client as _client
from domain.rules.base import find_settlement as _settlement
from domain.rules.base import head as _head
from domain.rules.base import movement as _movement
from domain.rules.compliance import aml as _aml
from domain.rules.compliance import check_not_blacklisted as _check_not_blacklisted
from domain.rules.compliance import check_travel_rule as _check_travel_rule
from domain.rules.funding import check_funds as _check_funds
from domain.rules.onboarding import check_verified as _check_verified
from domain.state import LedgerState


class Outcome(NamedTuple):
    events: list[LedgerEvent]
    violation: RuleViolation | None = None


def handle(state: LedgerState, command: BaseCommand, stamp: Stamp) -> Outcome:
    try:
        return Outcome(events=decide(state, command, stamp))
    except RuleViolation as violation:
        return Outcome(events=[_rejection(command, violation, stamp)], violation=violation)


def decide(state: LedgerState, command: BaseCommand, stamp: Stamp) -> list[LedgerEvent]:
    if state.bank is None and not isinstance(command, EstablishBank):
        raise BankNotEstablished()
    decider: Callable[[LedgerState, Any, Stamp], list[LedgerEvent]] = _DECIDERS[type(command)]
    return decider(state, command, stamp)


def _rejection(command: BaseCommand, violation: RuleViolation, stamp: Stamp) -> CommandRejected:
    # The metadata rides on the event itself, as on every event: the payload
    # stays what it was before commands had any.
    payload = command.model_dump(mode="json", exclude={"key", "metadata"})
    command_type = payload["type"]
    details = {name: str(value) for name, value in violation.context.items()}
    client_id, venue_id = rejection_subject(payload, details)
    return CommandRejected(
        originator_id=command_stream(command.key),
        originator_version=1,
        timestamp=stamp.recorded_at,
        ledger_time=stamp.ledger_time,
        command_key=stamp.command_key,
        metadata=stamp.metadata,
        command_type=command_type,
        rule=violation.rule,
        reason=violation.message,
        details=details,
        command=payload,
        client_id=client_id,
        venue_id=venue_id,
    )


# Look-ups that refuse what does not exist.


# Rules a supervisor sees when they refuse.


# One decider per command.


# Venues and trades.


# AML notifications.


# Cross-border settlements.


def _still_outstanding(settlement: Settlement) -> None:
    if settlement.status not in (SettlementStatus.OPEN, SettlementStatus.OVERDUE):
        raise InvalidCommand(reason=f"settlement {settlement.settlement_id!r} is {settlement.status.value} already")


def _check_may_settle(state: LedgerState, client: Client, country: str) -> None:
    settings = state.settings
    if client.kind not in settings.settling_kinds:
        permitted = ", ".join(kind.value for kind in settings.settling_kinds) or "nobody"
        raise SettlementNotPermitted(client=client.client_id, kind=client.kind.value, permitted=permitted)
    if country in state.blocked_countries:
        raise BlockedJurisdiction(country=country, reason=state.blocked_countries[country])


def _initiate_settlement(state: LedgerState, c: InitiateSettlement, stamp: Stamp) -> list[LedgerEvent]:
    if c.settlement_id in state.settlements:
        raise AlreadyExists(kind="settlement", key=c.settlement_id)
    client = _client(state, c.client_id)
    asset = _asset(state, c.asset)
    amount_minor = asset.parse(c.amount)
    day = stamp.ledger_time.date()
    account = client_account(client.client_id)
    _check_may_settle(state, client, c.country)
    _check_verified(client)
    _check_not_blacklisted(state, c.beneficiary_wallet, stamp)
    _check_travel_rule(state, c, asset, amount_minor, day)
    _check_funds(state, account, asset, amount_minor)
    rate = state.rate(asset.code, day)
    deadline_days = c.deadline_days or state.settings.deadline_days(c.direction)
    initiated = SettlementInitiated(
        **_head(state, stream_id("settlement", c.settlement_id), stamp),
        postings=_movement(account, SystemAccount.IN_TRANSIT, asset.code, amount_minor),
        settlement_id=c.settlement_id,
        client_id=client.client_id,
        direction=c.direction,
        counterparty=c.counterparty,
        country=c.country,
        contract_reference=c.contract_reference,
        asset_code=asset.code,
        amount_minor=amount_minor,
        deadline=day + timedelta(days=deadline_days),
        originator=c.originator,
        beneficiary=c.beneficiary,
        beneficiary_wallet=c.beneficiary_wallet,
        travel_rule_complete=not (c.originator.missing() or c.beneficiary.missing()),
        value_byn=None if rate is None else cents_text(value_in_byn(amount_minor, asset, rate)),
    )
    return [initiated, *_aml(state, stamp, client, asset, amount_minor, c.type)]


def _return_settlement_funds(state: LedgerState, c: ReturnSettlementFunds, stamp: Stamp) -> list[LedgerEvent]:
    settlement = _settlement(state, c.settlement_id)
    asset = _asset(state, settlement.asset)
    amount_minor = asset.parse(c.amount)
    _still_outstanding(settlement)
    if amount_minor > settlement.outstanding_minor:
        raise InvalidCommand(
            reason=f"settlement {settlement.settlement_id!r} has "
            f"{asset.format(settlement.outstanding_minor)} {asset.code} outstanding, {c.amount} returned"
        )
    account = client_account(settlement.client_id)
    return [
        FundsReturned(
            **_head(state, stream_id("settlement", settlement.settlement_id), stamp),
            postings=_movement(SystemAccount.IN_TRANSIT, account, asset.code, amount_minor),
            settlement_id=settlement.settlement_id,
            amount_minor=amount_minor,
            reference=c.reference,
        )
    ]


def _close_by_delivery(state: LedgerState, c: CloseSettlementByDelivery, stamp: Stamp) -> list[LedgerEvent]:
    settlement = _settlement(state, c.settlement_id)
    _still_outstanding(settlement)
    if settlement.direction != Direction.IMPORT:
        raise InvalidCommand(
            reason=f"settlement {settlement.settlement_id!r} is an export: only imports close by delivery"
        )
    outstanding = settlement.outstanding_minor
    return [
        SettlementClosedByDelivery(
            **_head(state, stream_id("settlement", settlement.settlement_id), stamp),
            postings=_movement(SystemAccount.IN_TRANSIT, SystemAccount.EXTERNAL, settlement.asset, outstanding),
            settlement_id=settlement.settlement_id,
            amount_minor=outstanding,
            delivery_reference=c.delivery_reference,
        )
    ]


def _extend_deadline(state: LedgerState, c: ExtendSettlementDeadline, stamp: Stamp) -> list[LedgerEvent]:
    settlement = _settlement(state, c.settlement_id)
    if settlement.status != SettlementStatus.OPEN:
        raise InvalidCommand(
            reason=f"settlement {settlement.settlement_id!r} is {settlement.status.value}: only an open one is extended"
        )
    if c.new_deadline <= settlement.deadline:
        raise InvalidCommand(reason=f"the new deadline {c.new_deadline} is not after {settlement.deadline}")
    return [
        SettlementDeadlineExtended(
            **_head(state, stream_id("settlement", settlement.settlement_id), stamp),
            settlement_id=settlement.settlement_id,
            new_deadline=c.new_deadline,
            permit_reference=c.permit_reference,
        )
    ]


def _check_deadlines(state: LedgerState, _: CheckDeadlines, stamp: Stamp) -> list[LedgerEvent]:
    today = stamp.ledger_time.date()
    return [
        SettlementOverdue(
            **_head(state, stream_id("settlement", settlement.settlement_id), stamp),
            settlement_id=settlement.settlement_id,
            deadline=settlement.deadline,
            outstanding_minor=settlement.outstanding_minor,
        )
        for settlement in sorted(state.settlements.values(), key=lambda s: s.settlement_id)
        if settlement.status == SettlementStatus.OPEN and today > settlement.deadline
    ]


def _set_sandbox_clock(state: LedgerState, c: SetSandboxClock, stamp: Stamp) -> list[LedgerEvent]:
    if c.release:
        return [SandboxClockSet(**_head(state, CLOCK_STREAM, stamp), frozen_at=None)]
    now = state.sandbox_clock or stamp.ledger_time
    target = (c.frozen_at or now + timedelta(seconds=c.advance_seconds or 0)).astimezone(UTC)
    furthest = state.clock_high_water
    if furthest is not None and target < furthest:
        raise InvalidCommand(
            reason=f"the sandbox clock moves forward only: it has read {furthest.isoformat()}, "
            f"{target.isoformat()} is earlier"
        )
    moved = stamp._replace(ledger_time=target)
    return [
        SandboxClockSet(**_head(state, CLOCK_STREAM, moved), frozen_at=target),
        *_check_deadlines(state, CheckDeadlines(key=c.key), moved),
    ]


_DECIDERS: dict[type[BaseCommand], Callable[[LedgerState, Any, Stamp], list[LedgerEvent]]] = {
    **onboarding.DECIDERS,
    **trading.DECIDERS,
    **issuance.DECIDERS,
    **funding.DECIDERS,
    **compliance.DECIDERS,
    InitiateSettlement: _initiate_settlement,
    ReturnSettlementFunds: _return_settlement_funds,
    CloseSettlementByDelivery: _close_by_delivery,
    ExtendSettlementDeadline: _extend_deadline,
    CheckDeadlines: _check_deadlines,
    SetSandboxClock: _set_sandbox_clock,
}
