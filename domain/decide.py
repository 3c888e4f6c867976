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
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, NamedTuple

from domain.accounts import SystemAccount, client_account
from domain.commands import (
    BaseCommand,
    CheckDeadlines,
    CloseSettlementByDelivery,
    DelistVenue,
    EstablishBank,
    ExecuteTrade,
    ExtendSettlementDeadline,
    InitiateSettlement,
    ListVenue,
    ReturnSettlementFunds,
    SetSandboxClock,
    SetTradingPolicy,
    SetVolumeCap,
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
    AssetNotListedOnVenue,
    BankNotEstablished,
    BankVolumeCapExceeded,
    BlockedJurisdiction,
    ClientVolumeCapExceeded,
    ForeignVenueForbidden,
    InvalidCommand,
    RuleViolation,
    SettlementNotPermitted,
    VenueNotListed,
)
from domain.events import (
    BANK_STREAM,
    CLOCK_STREAM,
    CommandRejected,
    FundsReturned,
    LedgerEvent,
    Posting,
    SandboxClockSet,
    SettlementClosedByDelivery,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
    TradeExecuted,
    TradingPolicySet,
    VenueDelisted,
    VenueListed,
    VolumeCapSet,
    rejection_subject,
    stream_id,
)
from domain.money import Asset
from domain.parties import Client, TradingPolicy, Venue
from domain.rules import compliance, funding, issuance, onboarding
from domain.rules.base import Stamp, command_stream
from domain.rules.base import find_asset as _asset
from domain.rules.base import find_client as _client
from domain.rules.base import find_settlement as _settlement
from domain.rules.base import find_venue as _venue
from domain.rules.base import head as _head
from domain.rules.base import movement as _movement
from domain.rules.compliance import aml as _aml
from domain.rules.compliance import check_not_blacklisted as _check_not_blacklisted
from domain.rules.compliance import check_travel_rule as _check_travel_rule
from domain.rules.funding import check_funds as _check_funds
from domain.rules.onboarding import check_verified as _check_verified
from domain.state import BANK_SCOPE, LedgerState


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


def _list_venue(state: LedgerState, c: ListVenue, stamp: Stamp) -> list[LedgerEvent]:
    current = state.venues.get(c.venue_id)
    if current is not None and current.listed:
        raise AlreadyExists(kind="listed venue", key=c.venue_id)
    for code in c.assets:
        _asset(state, code)
    venue = Venue(venue_id=c.venue_id, name=c.name, kind=c.kind, listed=True, assets=tuple(c.assets))
    return [VenueListed(**_head(state, stream_id("venue", c.venue_id), stamp), venue=venue)]


def _delist_venue(state: LedgerState, c: DelistVenue, stamp: Stamp) -> list[LedgerEvent]:
    venue = _venue(state, c.venue_id)
    if not venue.listed:
        raise InvalidCommand(reason=f"venue {c.venue_id!r} is delisted already")
    stream = stream_id("venue", c.venue_id)
    return [VenueDelisted(**_head(state, stream, stamp), venue_id=c.venue_id, reason=c.reason)]


def _set_trading_policy(state: LedgerState, c: SetTradingPolicy, stamp: Stamp) -> list[LedgerEvent]:
    policy = TradingPolicy(
        non_residents_on_foreign_venues=c.non_residents_on_foreign_venues,
        resident_companies_on_foreign_venues=c.resident_companies_on_foreign_venues,
    )
    return [TradingPolicySet(**_head(state, BANK_STREAM, stamp), policy=policy)]


def _set_volume_cap(state: LedgerState, c: SetVolumeCap, stamp: Stamp) -> list[LedgerEvent]:
    if c.client_id is not None:
        _client(state, c.client_id)
    asset = _asset(state, c.asset)
    cap_minor = asset.parse(c.daily_cap)
    stream = stream_id("volume-cap", f"{c.client_id or 'bank'}:{asset.code}")
    return [
        VolumeCapSet(
            **_head(state, stream, stamp),
            client_id=c.client_id,
            asset_code=asset.code,
            daily_cap_minor=cap_minor,
        )
    ]


@dataclass(frozen=True)
class _Trade:
    venue: Venue | None
    buyer: Client | None
    seller: Client | None
    base: Asset
    quote: Asset
    base_minor: int
    quote_minor: int
    fee_minor: int

    @property
    def clients(self) -> list[Client]:
        return [client for client in (self.buyer, self.seller) if client is not None]

    def account(self, client: Client | None) -> str:
        if client is not None:
            return client_account(client.client_id)
        return SystemAccount.TREASURY if self.venue is None else SystemAccount.EXTERNAL

    @property
    def fee_payer(self) -> Client:
        payer = self.buyer or self.seller
        assert payer is not None
        return payer


def _read_trade(state: LedgerState, c: ExecuteTrade) -> _Trade:
    """The structural checks: everything named exists and the amounts parse."""
    venue = _venue(state, c.venue_id) if c.venue_id is not None else None
    buyer = _client(state, c.buyer_client_id) if c.buyer_client_id is not None else None
    seller = _client(state, c.seller_client_id) if c.seller_client_id is not None else None
    if buyer is None and seller is None:
        raise InvalidCommand(reason="a trade needs a client on at least one side")
    if buyer is not None and seller is not None and buyer.client_id == seller.client_id:
        raise InvalidCommand(reason=f"buyer and seller are both {buyer.client_id!r}")
    base, quote = _asset(state, c.base_asset), _asset(state, c.quote_asset)
    if base.code == quote.code:
        raise InvalidCommand(reason=f"base and quote are both {base.code}")
    fee_minor = 0 if c.fee in ("0", "0." + "0" * quote.scale) else quote.parse(c.fee)
    return _Trade(venue, buyer, seller, base, quote, base.parse(c.base_amount), quote.parse(c.quote_amount), fee_minor)


def _check_venue(state: LedgerState, trade: _Trade) -> None:
    venue = trade.venue
    if venue is None:
        return  # a trade with the bank itself
    if not venue.listed:
        raise VenueNotListed(venue=venue.venue_id)
    if not venue.domestic:
        for client in trade.clients:
            if not state.policy.allows_foreign_venue(client):
                raise ForeignVenueForbidden(
                    client=client.client_id,
                    residency=client.residency.value,
                    kind=client.kind.value,
                    venue=venue.venue_id,
                )
    for asset in (trade.base, trade.quote):
        if asset.code not in venue.assets:
            raise AssetNotListedOnVenue(venue=venue.venue_id, asset=asset.code)


def _check_volume_caps(state: LedgerState, trade: _Trade, day: str) -> None:
    quote = trade.quote
    for client in trade.clients:
        cap = state.volume_caps.get((client.client_id, quote.code))
        used = state.volume(client.client_id, quote.code, day)
        if cap is not None and used + trade.quote_minor > cap:
            raise ClientVolumeCapExceeded(
                client=client.client_id,
                asset=quote.code,
                day=day,
                requested=quote.format(trade.quote_minor),
                cap=quote.format(cap),
                used=quote.format(used),
            )
    cap = state.volume_caps.get((BANK_SCOPE, quote.code))
    used = state.volume(BANK_SCOPE, quote.code, day)
    if cap is not None and used + trade.quote_minor > cap:
        raise BankVolumeCapExceeded(
            asset=quote.code,
            day=day,
            requested=quote.format(trade.quote_minor),
            cap=quote.format(cap),
            used=quote.format(used),
        )


def _trade_postings(trade: _Trade) -> tuple[Posting, ...]:
    """Net postings per account and asset: base to the buyer, quote to the
    seller, the fee from the paying client to the bank."""
    nets: dict[tuple[str, str], int] = {}

    def post(account: str, asset: str, amount_minor: int) -> None:
        nets[(account, asset)] = nets.get((account, asset), 0) + amount_minor

    buyer, seller = trade.account(trade.buyer), trade.account(trade.seller)
    post(seller, trade.base.code, -trade.base_minor)
    post(buyer, trade.base.code, trade.base_minor)
    post(buyer, trade.quote.code, -trade.quote_minor)
    post(seller, trade.quote.code, trade.quote_minor)
    if trade.fee_minor:
        post(trade.account(trade.fee_payer), trade.quote.code, -trade.fee_minor)
        post(SystemAccount.FEES, trade.quote.code, trade.fee_minor)
    return tuple(
        Posting(account=account, asset=asset, amount_minor=amount)
        for (account, asset), amount in nets.items()
        if amount
    )


def _check_trade_funds(state: LedgerState, trade: _Trade, postings: tuple[Posting, ...]) -> None:
    for posting in postings:
        if posting.amount_minor < 0 and posting.account.startswith("client:"):
            asset = trade.base if posting.asset == trade.base.code else trade.quote
            _check_funds(state, posting.account, asset, -posting.amount_minor)


def _execute_trade(state: LedgerState, c: ExecuteTrade, stamp: Stamp) -> list[LedgerEvent]:
    trade = _read_trade(state, c)
    _check_venue(state, trade)
    for client in trade.clients:
        _check_verified(client)
    postings = _trade_postings(trade)
    _check_trade_funds(state, trade, postings)
    _check_volume_caps(state, trade, stamp.ledger_time.date().isoformat())
    return [
        TradeExecuted(
            **_head(state, command_stream(c.key), stamp),
            postings=postings,
            venue_id=c.venue_id,
            buyer_client_id=c.buyer_client_id,
            seller_client_id=c.seller_client_id,
            base_asset=trade.base.code,
            base_amount_minor=trade.base_minor,
            quote_asset=trade.quote.code,
            quote_amount_minor=trade.quote_minor,
            fee_minor=trade.fee_minor,
        ),
        *(
            notice
            for client in trade.clients
            for notice in _aml(state, stamp, client, trade.quote, trade.quote_minor, c.type)
        ),
    ]


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
    **issuance.DECIDERS,
    **funding.DECIDERS,
    **compliance.DECIDERS,
    ListVenue: _list_venue,
    DelistVenue: _delist_venue,
    SetTradingPolicy: _set_trading_policy,
    SetVolumeCap: _set_volume_cap,
    ExecuteTrade: _execute_trade,
    InitiateSettlement: _initiate_settlement,
    ReturnSettlementFunds: _return_settlement_funds,
    CloseSettlementByDelivery: _close_by_delivery,
    ExtendSettlementDeadline: _extend_deadline,
    CheckDeadlines: _check_deadlines,
    SetSandboxClock: _set_sandbox_clock,
}
