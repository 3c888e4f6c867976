"""Trading: venues, the trading policy, volume caps and trades (residents only on listed domestic venues)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.accounts import SystemAccount, client_account, is_holding_account
from domain.commands import DelistVenue, ExecuteTrade, ListVenue, SetTradingPolicy, SetVolumeCap
from domain.errors import (
    AlreadyExists,
    AssetNotListedOnVenue,
    BankVolumeCapExceeded,
    ClientVolumeCapExceeded,
    ForeignVenueForbidden,
    SameAssetOnBothSides,
    SameClientOnBothSides,
    TokenOutsideLedger,
    TradeWithoutClient,
    VenueAlreadyDelisted,
    VenueNotListed,
)
from domain.events import (
    BANK_STREAM,
    LedgerEvent,
    Posting,
    TradeExecuted,
    TradingPolicySet,
    VenueDelisted,
    VenueListed,
    VolumeCapSet,
    stream_id,
)
from domain.money import Asset, AssetKind, decimal_digits
from domain.parties import Client, TradingPolicy, Venue
from domain.rules.base import (
    Deciders,
    Stamp,
    check_after_last_change,
    command_stream,
    find_asset,
    find_client,
    find_venue,
    head,
)
from domain.rules.compliance import aml
from domain.rules.funding import check_funds
from domain.rules.onboarding import check_may_move
from domain.state import BANK_SCOPE, LedgerState


def list_venue(state: LedgerState, command: ListVenue, stamp: Stamp) -> list[LedgerEvent]:
    current = state.venues.get(command.venue_id)
    if current is not None and current.listed:
        raise AlreadyExists(kind="listed venue", key=command.venue_id)
    for code in command.assets:
        find_asset(state, code)
    check_after_last_change(
        f"venue {command.venue_id!r}", state.venue_history.get(command.venue_id, ()), stamp.ledger_time
    )
    venue = Venue(
        venue_id=command.venue_id, name=command.name, kind=command.kind, listed=True, assets=tuple(command.assets)
    )
    return [VenueListed(**head(state, stream_id("venue", command.venue_id), stamp), venue=venue)]


def delist_venue(state: LedgerState, command: DelistVenue, stamp: Stamp) -> list[LedgerEvent]:
    venue = find_venue(state, command.venue_id)
    if not venue.listed:
        raise VenueAlreadyDelisted(venue=command.venue_id)
    check_after_last_change(f"venue {command.venue_id!r}", state.venue_history[command.venue_id], stamp.ledger_time)
    stream = stream_id("venue", command.venue_id)
    return [VenueDelisted(**head(state, stream, stamp), venue_id=command.venue_id, reason=command.reason)]


def set_trading_policy(state: LedgerState, command: SetTradingPolicy, stamp: Stamp) -> list[LedgerEvent]:
    check_after_last_change("the trading policy", state.policy_history, stamp.ledger_time)
    policy = TradingPolicy(
        non_residents_on_foreign_venues=command.non_residents_on_foreign_venues,
        resident_companies_on_foreign_venues=command.resident_companies_on_foreign_venues,
    )
    return [TradingPolicySet(**head(state, BANK_STREAM, stamp), policy=policy)]


def set_volume_cap(state: LedgerState, command: SetVolumeCap, stamp: Stamp) -> list[LedgerEvent]:
    if command.client_id is not None:
        find_client(state, command.client_id)
    asset = find_asset(state, command.asset)
    cap_minor = asset.parse(command.daily_cap)
    stream = stream_id("volume-cap", f"{command.client_id or 'bank'}:{asset.code}")
    return [
        VolumeCapSet(
            **head(state, stream, stamp),
            client_id=command.client_id,
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


def _read_trade(state: LedgerState, command: ExecuteTrade) -> _Trade:
    """The structural checks: everything named exists and the amounts parse."""
    venue = find_venue(state, command.venue_id) if command.venue_id is not None else None
    buyer = find_client(state, command.buyer_client_id) if command.buyer_client_id is not None else None
    seller = find_client(state, command.seller_client_id) if command.seller_client_id is not None else None
    if buyer is None and seller is None:
        raise TradeWithoutClient()
    if buyer is not None and seller is not None and buyer.client_id == seller.client_id:
        raise SameClientOnBothSides(sides="buyer and seller", client=buyer.client_id)
    base, quote = find_asset(state, command.base_asset), find_asset(state, command.quote_asset)
    if base.code == quote.code:
        raise SameAssetOnBothSides(asset=base.code)
    fee_minor = 0 if _zero(command.fee) else quote.parse(command.fee)
    return _Trade(
        venue, buyer, seller, base, quote, base.parse(command.base_amount), quote.parse(command.quote_amount), fee_minor
    )


def _zero(text: str) -> bool:
    """A fee of zero in any spelling ('0', '0.0', '0.00'): no fee, where a
    positive amount is what `parse` demands of every other."""
    digits = decimal_digits(text)
    return digits is not None and not (digits[0] + digits[1]).strip("0")


def _check_venue(state: LedgerState, trade: _Trade, stamp: Stamp) -> None:
    """The venue and the trading policy as they were at the trade's ledger time."""
    if trade.venue is None:
        return  # a trade with the bank itself
    venue = state.venue_at(trade.venue.venue_id, stamp.ledger_time)
    if venue is None or not venue.listed:
        raise VenueNotListed(venue=trade.venue.venue_id)
    if not venue.domestic:
        policy = state.policy_at(stamp.ledger_time)
        for client in trade.clients:
            if not policy.allows_foreign_venue(client):
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


def _check_tokens_stay_on_the_ledger(trade: _Trade) -> None:
    """A venue's outside counterparty neither delivers a token (nobody on the
    ledger holds what it would deliver: the units would be made outside
    issuance) nor receives one (the units would leave without redemption)."""
    if trade.venue is None:
        return  # a trade with the bank moves units that its treasury or a client holds
    legs = (
        (trade.base, trade.base_minor, "deliver", "receive"),
        (trade.quote, trade.quote_minor, "receive", "deliver"),
    )
    for asset, amount_minor, as_seller, as_buyer in legs:
        if asset.kind != AssetKind.TOKEN:
            continue
        for client, side in ((trade.seller, as_seller), (trade.buyer, as_buyer)):
            if client is None:
                raise TokenOutsideLedger(
                    asset=asset.code, venue=trade.venue.venue_id, side=side, amount=asset.format(amount_minor)
                )


def _check_trade_funds(state: LedgerState, trade: _Trade, postings: tuple[Posting, ...]) -> None:
    """Every holding account that gives, clients and the bank's treasury
    alike, holds what it gives; the outside counterparty is outside the books."""
    for posting in postings:
        if posting.amount_minor < 0 and is_holding_account(posting.account):
            asset = trade.base if posting.asset == trade.base.code else trade.quote
            check_funds(state, posting.account, asset, -posting.amount_minor)


def execute_trade(state: LedgerState, command: ExecuteTrade, stamp: Stamp) -> list[LedgerEvent]:
    trade = _read_trade(state, command)
    _check_venue(state, trade, stamp)
    for client in trade.clients:
        check_may_move(state, client, stamp)
    _check_tokens_stay_on_the_ledger(trade)
    postings = _trade_postings(trade)
    _check_trade_funds(state, trade, postings)
    _check_volume_caps(state, trade, state.day(stamp.ledger_time).isoformat())
    return [
        TradeExecuted(
            **head(state, command_stream(command.key), stamp),
            postings=postings,
            venue_id=command.venue_id,
            buyer_client_id=command.buyer_client_id,
            seller_client_id=command.seller_client_id,
            base_asset=trade.base.code,
            base_amount_minor=trade.base_minor,
            quote_asset=trade.quote.code,
            quote_amount_minor=trade.quote_minor,
            fee_minor=trade.fee_minor,
        ),
        *(
            notice
            for client in trade.clients
            for notice in aml(state, stamp, client, trade.quote, trade.quote_minor, command.type)
        ),
    ]


DECIDERS: Deciders = {
    ListVenue: list_venue,
    DelistVenue: delist_venue,
    SetTradingPolicy: set_trading_policy,
    SetVolumeCap: set_volume_cap,
    ExecuteTrade: execute_trade,
}
