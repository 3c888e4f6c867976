"""Deciding: a command and the current state give the events to record.

Check, then emit: each handler validates against the state and raises a
`LedgerError`; it never mutates the state (the caller evolves it with the
events). `InvalidCommand` refuses the command outright; a `RuleViolation` is
turned by `handle` into a `CommandRejected` event, so the supervisor sees the
attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.accounts import SystemAccount, client_account
from domain.commands import (
    BaseCommand,
    Deposit,
    EstablishBank,
    IssueTokens,
    OnboardClient,
    RedeemTokens,
    RegisterAsset,
    RegisterIssuer,
    RegisterToken,
    Transfer,
    VerifyKyc,
    Withdraw,
)
from domain.errors import (
    AlreadyExists,
    BankNotEstablished,
    InsufficientFunds,
    InvalidCommand,
    IssuerNotLicensed,
    KycNotVerified,
    NotIssuersToken,
    RuleViolation,
    SupplyCapExceeded,
    UnknownAsset,
    UnknownClient,
    UnknownIssuer,
)
from domain.events import (
    BANK_STREAM,
    AssetRegistered,
    BankEstablished,
    ClientKycVerified,
    ClientOnboarded,
    CommandRejected,
    FundsDeposited,
    FundsTransferred,
    FundsWithdrawn,
    IssuerRegistered,
    LedgerEvent,
    Posting,
    TokenRegistered,
    TokensIssued,
    TokensRedeemed,
    stream_id,
)
from domain.money import Asset, AssetKind
from domain.parties import Client, Issuer, KycStatus
from domain.state import LedgerState


@dataclass(frozen=True)
class Stamp:
    """When a command is recorded (`recorded_at`), when it happened in
    business time (`ledger_time`), and the key of the command."""

    recorded_at: datetime
    ledger_time: datetime
    command_key: str


@dataclass(frozen=True)
class Outcome:
    events: list[LedgerEvent]
    violation: RuleViolation | None = None


def command_stream(key: str) -> UUID:
    """The stream of a command's transaction or rejection: one per key."""
    return stream_id("command", key)


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


def _head(state: LedgerState, stream: UUID, stamp: Stamp) -> dict[str, Any]:
    return {
        "originator_id": stream,
        "originator_version": state.version(stream) + 1,
        "timestamp": stamp.recorded_at,
        "ledger_time": stamp.ledger_time,
        "command_key": stamp.command_key,
    }


def _rejection(command: BaseCommand, violation: RuleViolation, stamp: Stamp) -> CommandRejected:
    command_type = command.model_dump()["type"]
    return CommandRejected(
        originator_id=command_stream(command.key),
        originator_version=1,
        timestamp=stamp.recorded_at,
        ledger_time=stamp.ledger_time,
        command_key=stamp.command_key,
        command_type=command_type,
        rule=violation.rule,
        reason=violation.message,
        details={name: str(value) for name, value in violation.context.items()},
        command=command.model_dump(mode="json", exclude={"key"}),
    )


# Look-ups that refuse what does not exist.


def _client(state: LedgerState, client_id: str) -> Client:
    client = state.clients.get(client_id)
    if client is None:
        raise UnknownClient(client=client_id)
    return client


def _issuer(state: LedgerState, issuer_id: str) -> Issuer:
    issuer = state.issuers.get(issuer_id)
    if issuer is None:
        raise UnknownIssuer(issuer=issuer_id)
    return issuer


def _asset(state: LedgerState, code: str) -> Asset:
    asset = state.assets.get(code)
    if asset is None:
        raise UnknownAsset(asset=code)
    return asset


def _token(state: LedgerState, code: str) -> Asset:
    asset = _asset(state, code)
    if asset.kind != AssetKind.TOKEN:
        raise InvalidCommand(reason=f"{code} is {asset.kind.value}, not a token")
    return asset


def _held_outside_issuance(state: LedgerState, code: str) -> Asset:
    asset = _asset(state, code)
    if asset.kind == AssetKind.TOKEN:
        raise InvalidCommand(
            reason=f"{code} is a token: tokens enter the ledger only by issuance "
            "and leave it only by redemption"
        )
    return asset


# Rules a supervisor sees when they refuse.


def _check_verified(client: Client) -> None:
    if client.kyc != KycStatus.VERIFIED:
        raise KycNotVerified(client=client.client_id, kyc=client.kyc.value)


def _check_licensed(issuer: Issuer) -> None:
    if not issuer.licensed:
        raise IssuerNotLicensed(issuer=issuer.issuer_id)


def _check_issuers_token(issuer: Issuer, token: Asset) -> None:
    if token.issuer_id != issuer.issuer_id:
        raise NotIssuersToken(issuer=issuer.issuer_id, asset=token.code, token_issuer=token.issuer_id)


def _check_funds(state: LedgerState, account: str, asset: Asset, amount_minor: int) -> None:
    available = state.balance(account, asset.code)
    if available < amount_minor:
        raise InsufficientFunds(
            account=account,
            asset=asset.code,
            requested=asset.format(amount_minor),
            available=asset.format(available),
        )


def _check_cap(state: LedgerState, token: Asset, amount_minor: int) -> None:
    assert token.supply_cap_minor is not None
    outstanding = state.supply(token.code)
    if outstanding + amount_minor > token.supply_cap_minor:
        raise SupplyCapExceeded(
            asset=token.code,
            requested=token.format(amount_minor),
            cap=token.format(token.supply_cap_minor),
            outstanding=token.format(outstanding),
        )


def _movement(source: str, target: str, asset: str, amount_minor: int) -> tuple[Posting, ...]:
    return (
        Posting(account=source, asset=asset, amount_minor=-amount_minor),
        Posting(account=target, asset=asset, amount_minor=amount_minor),
    )


# One decider per command.


def _establish_bank(state: LedgerState, c: EstablishBank, stamp: Stamp) -> list[LedgerEvent]:
    if state.bank is not None:
        raise AlreadyExists(kind="bank", key=state.bank.name)
    return [
        BankEstablished(
            **_head(state, BANK_STREAM, stamp),
            name=c.name,
            htp_resident=c.htp_resident,
            nbrb_register_entry=c.nbrb_register_entry,
        )
    ]


def _register_issuer(state: LedgerState, c: RegisterIssuer, stamp: Stamp) -> list[LedgerEvent]:
    if c.issuer_id in state.issuers:
        raise AlreadyExists(kind="issuer", key=c.issuer_id)
    stream = stream_id("issuer", c.issuer_id)
    return [
        IssuerRegistered(
            **_head(state, stream, stamp), issuer_id=c.issuer_id, name=c.name, licensed=c.licensed
        )
    ]


def _onboard_client(state: LedgerState, c: OnboardClient, stamp: Stamp) -> list[LedgerEvent]:
    if c.client_id in state.clients:
        raise AlreadyExists(kind="client", key=c.client_id)
    stream = stream_id("client", c.client_id)
    return [
        ClientOnboarded(
            **_head(state, stream, stamp),
            client_id=c.client_id,
            name=c.name,
            residency=c.residency,
            kind=c.kind,
        )
    ]


def _verify_kyc(state: LedgerState, c: VerifyKyc, stamp: Stamp) -> list[LedgerEvent]:
    client = _client(state, c.client_id)
    if client.kyc == KycStatus.VERIFIED:
        raise InvalidCommand(reason=f"client {c.client_id!r} is already KYC-verified")
    stream = stream_id("client", c.client_id)
    return [ClientKycVerified(**_head(state, stream, stamp), client_id=c.client_id)]


def _register_asset(state: LedgerState, c: RegisterAsset, stamp: Stamp) -> list[LedgerEvent]:
    if c.code in state.assets:
        raise AlreadyExists(kind="asset", key=c.code)
    asset = Asset(code=c.code, scale=c.scale, kind=c.kind)
    return [AssetRegistered(**_head(state, stream_id("asset", c.code), stamp), asset=asset)]


def _register_token(state: LedgerState, c: RegisterToken, stamp: Stamp) -> list[LedgerEvent]:
    issuer = _issuer(state, c.issuer_id)
    if c.code in state.assets:
        raise AlreadyExists(kind="asset", key=c.code)
    asset = Asset(code=c.code, scale=c.scale, kind=AssetKind.TOKEN, issuer_id=c.issuer_id)
    cap_minor = asset.parse(c.supply_cap)
    _check_licensed(issuer)
    asset = asset.model_copy(update={"supply_cap_minor": cap_minor})
    return [TokenRegistered(**_head(state, stream_id("asset", c.code), stamp), asset=asset)]


def _issue_tokens(state: LedgerState, c: IssueTokens, stamp: Stamp) -> list[LedgerEvent]:
    issuer = _issuer(state, c.issuer_id)
    token = _token(state, c.asset)
    client = _client(state, c.client_id)
    amount_minor = token.parse(c.amount)
    _check_licensed(issuer)
    _check_issuers_token(issuer, token)
    _check_verified(client)
    _check_cap(state, token, amount_minor)
    postings = _movement(SystemAccount.ISSUANCE, client_account(client.client_id), token.code, amount_minor)
    return [
        TokensIssued(
            **_head(state, command_stream(c.key), stamp),
            postings=postings,
            issuer_id=issuer.issuer_id,
            client_id=client.client_id,
            asset_code=token.code,
            amount_minor=amount_minor,
        )
    ]


def _redeem_tokens(state: LedgerState, c: RedeemTokens, stamp: Stamp) -> list[LedgerEvent]:
    issuer = _issuer(state, c.issuer_id)
    token = _token(state, c.asset)
    client = _client(state, c.client_id)
    amount_minor = token.parse(c.amount)
    account = client_account(client.client_id)
    _check_licensed(issuer)
    _check_issuers_token(issuer, token)
    _check_verified(client)
    _check_funds(state, account, token, amount_minor)
    return [
        TokensRedeemed(
            **_head(state, command_stream(c.key), stamp),
            postings=_movement(account, SystemAccount.ISSUANCE, token.code, amount_minor),
            issuer_id=issuer.issuer_id,
            client_id=client.client_id,
            asset_code=token.code,
            amount_minor=amount_minor,
        )
    ]


def _deposit(state: LedgerState, c: Deposit, stamp: Stamp) -> list[LedgerEvent]:
    client = _client(state, c.client_id)
    asset = _held_outside_issuance(state, c.asset)
    amount_minor = asset.parse(c.amount)
    _check_verified(client)
    postings = _movement(SystemAccount.EXTERNAL, client_account(client.client_id), asset.code, amount_minor)
    return [
        FundsDeposited(
            **_head(state, command_stream(c.key), stamp),
            postings=postings,
            client_id=client.client_id,
            asset_code=asset.code,
            amount_minor=amount_minor,
            reference=c.reference,
        )
    ]


def _withdraw(state: LedgerState, c: Withdraw, stamp: Stamp) -> list[LedgerEvent]:
    client = _client(state, c.client_id)
    asset = _held_outside_issuance(state, c.asset)
    amount_minor = asset.parse(c.amount)
    account = client_account(client.client_id)
    _check_verified(client)
    _check_funds(state, account, asset, amount_minor)
    return [
        FundsWithdrawn(
            **_head(state, command_stream(c.key), stamp),
            postings=_movement(account, SystemAccount.EXTERNAL, asset.code, amount_minor),
            client_id=client.client_id,
            asset_code=asset.code,
            amount_minor=amount_minor,
            reference=c.reference,
        )
    ]


def _transfer(state: LedgerState, c: Transfer, stamp: Stamp) -> list[LedgerEvent]:
    source = _client(state, c.source_client_id)
    target = _client(state, c.target_client_id)
    if source.client_id == target.client_id:
        raise InvalidCommand(reason=f"source and target are both {source.client_id!r}")
    asset = _asset(state, c.asset)
    amount_minor = asset.parse(c.amount)
    source_account = client_account(source.client_id)
    _check_verified(source)
    _check_verified(target)
    _check_funds(state, source_account, asset, amount_minor)
    postings = _movement(source_account, client_account(target.client_id), asset.code, amount_minor)
    return [
        FundsTransferred(
            **_head(state, command_stream(c.key), stamp),
            postings=postings,
            source_client_id=source.client_id,
            target_client_id=target.client_id,
            asset_code=asset.code,
            amount_minor=amount_minor,
        )
    ]


_DECIDERS: dict[type[BaseCommand], Callable[[LedgerState, Any, Stamp], list[LedgerEvent]]] = {
    EstablishBank: _establish_bank,
    RegisterIssuer: _register_issuer,
    OnboardClient: _onboard_client,
    VerifyKyc: _verify_kyc,
    RegisterAsset: _register_asset,
    RegisterToken: _register_token,
    IssueTokens: _issue_tokens,
    RedeemTokens: _redeem_tokens,
    Deposit: _deposit,
    Withdraw: _withdraw,
    Transfer: _transfer,
}
