"""Cross-border settlements: sent, returned or delivered, overdue past the deadline; and the test clock."""

from __future__ import annotations

from datetime import UTC, timedelta

from domain.accounts import SystemAccount, client_account
from domain.commands import (
    CheckDeadlines,
    CloseSettlementByDelivery,
    ExtendSettlementDeadline,
    InitiateSettlement,
    ReturnSettlementFunds,
    SetSandboxClock,
)
from domain.crossborder import Direction, Settlement, SettlementMove, cents_text, settlement_may, value_in_byn
from domain.errors import (
    AlreadyExists,
    BlockedJurisdiction,
    ClockMovesForwardOnly,
    DeadlineNotLater,
    DeliveryClosesImportsOnly,
    ReturnExceedsOutstanding,
    SettlementNotExtendable,
    SettlementNotOutstanding,
    SettlementNotPermitted,
)
from domain.events import (
    CLOCK_STREAM,
    FundsReturned,
    LedgerEvent,
    SandboxClockSet,
    SettlementClosedByDelivery,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
    stream_id,
)
from domain.parties import Client
from domain.rules.base import Deciders, Stamp, find_asset, find_client, find_settlement, head, movement
from domain.rules.compliance import aml, check_not_blacklisted, check_travel_rule
from domain.rules.funding import check_funds, held_outside_issuance
from domain.rules.onboarding import check_may_move, check_not_held
from domain.state import LedgerState


def _still_outstanding(settlement: Settlement, move: SettlementMove) -> None:
    if not settlement_may(settlement.status, move):
        raise SettlementNotOutstanding(settlement=settlement.settlement_id, status=settlement.status.value)


def _check_may_settle(state: LedgerState, client: Client, country: str, stamp: Stamp) -> None:
    settings = state.settings
    if client.kind not in settings.settling_kinds:
        permitted = ", ".join(kind.value for kind in settings.settling_kinds) or "nobody"
        raise SettlementNotPermitted(client=client.client_id, kind=client.kind.value, permitted=permitted)
    reason = state.blocked(country, stamp.ledger_time)
    if reason is not None:
        raise BlockedJurisdiction(country=country, reason=reason)


def initiate_settlement(state: LedgerState, command: InitiateSettlement, stamp: Stamp) -> list[LedgerEvent]:
    if command.settlement_id in state.settlements:
        raise AlreadyExists(kind="settlement", key=command.settlement_id)
    client = find_client(state, command.client_id)
    # A token sent abroad would leave the ledger without redemption.
    asset = held_outside_issuance(state, command.asset)
    amount_minor = asset.parse(command.amount)
    day = state.day(stamp.ledger_time)
    account = client_account(client.client_id)
    _check_may_settle(state, client, command.country, stamp)
    check_may_move(state, client, stamp)
    check_not_blacklisted(state, command.beneficiary_wallet, stamp)
    check_travel_rule(state, command, asset, amount_minor, day)
    check_funds(state, account, asset, amount_minor)
    rate = state.rate(asset.code, day)
    deadline_days = command.deadline_days or state.settings.deadline_days(command.direction)
    initiated = SettlementInitiated(
        **head(state, stream_id("settlement", command.settlement_id), stamp),
        postings=movement(account, SystemAccount.IN_TRANSIT, asset.code, amount_minor),
        settlement_id=command.settlement_id,
        client_id=client.client_id,
        direction=command.direction,
        counterparty=command.counterparty,
        country=command.country,
        contract_reference=command.contract_reference,
        asset_code=asset.code,
        amount_minor=amount_minor,
        deadline=day + timedelta(days=deadline_days),
        originator=command.originator,
        beneficiary=command.beneficiary,
        beneficiary_wallet=command.beneficiary_wallet,
        travel_rule_complete=not (command.originator.missing() or command.beneficiary.missing()),
        value_byn=None if rate is None else cents_text(value_in_byn(amount_minor, asset, rate)),
    )
    return [initiated, *aml(state, stamp, client, asset, amount_minor, command.type)]


def return_settlement_funds(state: LedgerState, command: ReturnSettlementFunds, stamp: Stamp) -> list[LedgerEvent]:
    settlement = find_settlement(state, command.settlement_id)
    asset = find_asset(state, settlement.asset)
    amount_minor = asset.parse(command.amount)
    _still_outstanding(settlement, SettlementMove.RETURN)
    if amount_minor > settlement.outstanding_minor:
        raise ReturnExceedsOutstanding(
            settlement=settlement.settlement_id,
            outstanding=asset.format(settlement.outstanding_minor),
            asset=asset.code,
            returned=command.amount,
        )
    check_not_held(find_client(state, settlement.client_id))
    account = client_account(settlement.client_id)
    return [
        FundsReturned(
            **head(state, stream_id("settlement", settlement.settlement_id), stamp),
            postings=movement(SystemAccount.IN_TRANSIT, account, asset.code, amount_minor),
            settlement_id=settlement.settlement_id,
            amount_minor=amount_minor,
            reference=command.reference,
        )
    ]


def close_by_delivery(state: LedgerState, command: CloseSettlementByDelivery, stamp: Stamp) -> list[LedgerEvent]:
    settlement = find_settlement(state, command.settlement_id)
    _still_outstanding(settlement, SettlementMove.DELIVERY)
    if settlement.direction != Direction.IMPORT:
        raise DeliveryClosesImportsOnly(settlement=settlement.settlement_id)
    outstanding = settlement.outstanding_minor
    return [
        SettlementClosedByDelivery(
            **head(state, stream_id("settlement", settlement.settlement_id), stamp),
            postings=movement(SystemAccount.IN_TRANSIT, SystemAccount.EXTERNAL, settlement.asset, outstanding),
            settlement_id=settlement.settlement_id,
            amount_minor=outstanding,
            delivery_reference=command.delivery_reference,
        )
    ]


def extend_deadline(state: LedgerState, command: ExtendSettlementDeadline, stamp: Stamp) -> list[LedgerEvent]:
    settlement = find_settlement(state, command.settlement_id)
    if not settlement_may(settlement.status, SettlementMove.EXTENSION):
        raise SettlementNotExtendable(settlement=settlement.settlement_id, status=settlement.status.value)
    if command.new_deadline <= settlement.deadline:
        raise DeadlineNotLater(new_deadline=command.new_deadline, deadline=settlement.deadline)
    return [
        SettlementDeadlineExtended(
            **head(state, stream_id("settlement", settlement.settlement_id), stamp),
            settlement_id=settlement.settlement_id,
            new_deadline=command.new_deadline,
            permit_reference=command.permit_reference,
        )
    ]


def check_deadlines(state: LedgerState, _: CheckDeadlines, stamp: Stamp) -> list[LedgerEvent]:
    today = state.day(stamp.ledger_time)
    return [
        SettlementOverdue(
            **head(state, stream_id("settlement", settlement.settlement_id), stamp),
            settlement_id=settlement.settlement_id,
            deadline=settlement.deadline,
            outstanding_minor=settlement.outstanding_minor,
        )
        for settlement in sorted(state.settlements.values(), key=lambda s: s.settlement_id)
        if settlement_may(settlement.status, SettlementMove.DEADLINE_PASSED) and today > settlement.deadline
    ]


def set_sandbox_clock(state: LedgerState, command: SetSandboxClock, stamp: Stamp) -> list[LedgerEvent]:
    if command.release:
        return [SandboxClockSet(**head(state, CLOCK_STREAM, stamp), frozen_at=None)]
    now = state.sandbox_clock or stamp.ledger_time
    target = (command.frozen_at or now + timedelta(seconds=command.advance_seconds or 0)).astimezone(UTC)
    furthest = state.clock_high_water
    if furthest is not None and target < furthest:
        raise ClockMovesForwardOnly(furthest=furthest.isoformat(), target=target.isoformat())
    moved = stamp._replace(ledger_time=target)
    return [
        SandboxClockSet(**head(state, CLOCK_STREAM, moved), frozen_at=target),
        *check_deadlines(state, CheckDeadlines(key=command.key), moved),
    ]


DECIDERS: Deciders = {
    InitiateSettlement: initiate_settlement,
    ReturnSettlementFunds: return_settlement_funds,
    CloseSettlementByDelivery: close_by_delivery,
    ExtendSettlementDeadline: extend_deadline,
    CheckDeadlines: check_deadlines,
    SetSandboxClock: set_sandbox_clock,
}
