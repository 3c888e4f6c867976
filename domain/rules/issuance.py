"""Issuance: issuers, assets and tokens; only licensed issuers mint or burn their own tokens, within the cap."""

from __future__ import annotations

from domain.accounts import SystemAccount, client_account
from domain.commands import (
    IssueTokens,
    RedeemTokens,
    RegisterAsset,
    RegisterIssuer,
    RegisterToken,
    RevokeIssuerLicence,
)
from domain.errors import (
    AlreadyExists,
    IssuerNotLicensed,
    LicenceNotRevocable,
    LicenceRevoked,
    NotAToken,
    NotIssuersToken,
    SupplyCapExceeded,
)
from domain.events import (
    AssetRegistered,
    IssuerLicenceRevoked,
    IssuerRegistered,
    LedgerEvent,
    TokenRegistered,
    TokensIssued,
    TokensRedeemed,
    stream_id,
)
from domain.money import Asset, AssetKind
from domain.parties import Issuer
from domain.rules.base import Deciders, Stamp, command_stream, find_asset, find_client, find_issuer, head, movement
from domain.rules.funding import check_funds
from domain.rules.onboarding import check_may_move
from domain.state import LedgerState


def _token(state: LedgerState, code: str) -> Asset:
    asset = find_asset(state, code)
    if asset.kind != AssetKind.TOKEN:
        raise NotAToken(asset=code, kind=asset.kind.value)
    return asset


def _check_licensed(issuer: Issuer) -> None:
    """Licensed once: enough to redeem, even after the licence was revoked."""
    if not issuer.licensed:
        raise IssuerNotLicensed(issuer=issuer.issuer_id)


def check_may_issue(issuer: Issuer, asset_code: str) -> None:
    """Licensed now: new units (an issuance, a reversed redemption, a new token)."""
    _check_licensed(issuer)
    if issuer.licence_revoked:
        raise LicenceRevoked(issuer=issuer.issuer_id, asset=asset_code)


def _check_issuers_token(issuer: Issuer, token: Asset) -> None:
    if token.issuer_id != issuer.issuer_id:
        raise NotIssuersToken(issuer=issuer.issuer_id, asset=token.code, token_issuer=token.issuer_id)


def check_cap(state: LedgerState, token: Asset, amount_minor: int) -> None:
    assert token.supply_cap_minor is not None
    outstanding = state.supply(token.code)
    if outstanding + amount_minor > token.supply_cap_minor:
        raise SupplyCapExceeded(
            asset=token.code,
            requested=token.format(amount_minor),
            cap=token.format(token.supply_cap_minor),
            outstanding=token.format(outstanding),
        )


def register_issuer(state: LedgerState, command: RegisterIssuer, stamp: Stamp) -> list[LedgerEvent]:
    if command.issuer_id in state.issuers:
        raise AlreadyExists(kind="issuer", key=command.issuer_id)
    stream = stream_id("issuer", command.issuer_id)
    return [
        IssuerRegistered(
            **head(state, stream, stamp), issuer_id=command.issuer_id, name=command.name, licensed=command.licensed
        )
    ]


def register_asset(state: LedgerState, command: RegisterAsset, stamp: Stamp) -> list[LedgerEvent]:
    if command.code in state.assets:
        raise AlreadyExists(kind="asset", key=command.code)
    asset = Asset(code=command.code, scale=command.scale, kind=command.kind)
    return [AssetRegistered(**head(state, stream_id("asset", command.code), stamp), asset=asset)]


def register_token(state: LedgerState, command: RegisterToken, stamp: Stamp) -> list[LedgerEvent]:
    issuer = find_issuer(state, command.issuer_id)
    if command.code in state.assets:
        raise AlreadyExists(kind="asset", key=command.code)
    asset = Asset(code=command.code, scale=command.scale, kind=AssetKind.TOKEN, issuer_id=command.issuer_id)
    cap_minor = asset.parse(command.supply_cap)
    check_may_issue(issuer, asset.code)
    asset = asset.model_copy(update={"supply_cap_minor": cap_minor})
    return [TokenRegistered(**head(state, stream_id("asset", command.code), stamp), asset=asset)]


def issue_tokens(state: LedgerState, command: IssueTokens, stamp: Stamp) -> list[LedgerEvent]:
    issuer = find_issuer(state, command.issuer_id)
    token = _token(state, command.asset)
    client = find_client(state, command.client_id)
    amount_minor = token.parse(command.amount)
    check_may_issue(issuer, token.code)
    _check_issuers_token(issuer, token)
    check_may_move(state, client, stamp)
    check_cap(state, token, amount_minor)
    postings = movement(SystemAccount.ISSUANCE, client_account(client.client_id), token.code, amount_minor)
    return [
        TokensIssued(
            **head(state, command_stream(command.key), stamp),
            postings=postings,
            issuer_id=issuer.issuer_id,
            client_id=client.client_id,
            asset_code=token.code,
            amount_minor=amount_minor,
        )
    ]


def redeem_tokens(state: LedgerState, command: RedeemTokens, stamp: Stamp) -> list[LedgerEvent]:
    issuer = find_issuer(state, command.issuer_id)
    token = _token(state, command.asset)
    client = find_client(state, command.client_id)
    amount_minor = token.parse(command.amount)
    account = client_account(client.client_id)
    _check_licensed(issuer)
    _check_issuers_token(issuer, token)
    check_may_move(state, client, stamp)
    check_funds(state, account, token, amount_minor)
    return [
        TokensRedeemed(
            **head(state, command_stream(command.key), stamp),
            postings=movement(account, SystemAccount.ISSUANCE, token.code, amount_minor),
            issuer_id=issuer.issuer_id,
            client_id=client.client_id,
            asset_code=token.code,
            amount_minor=amount_minor,
        )
    ]


def revoke_issuer_licence(state: LedgerState, command: RevokeIssuerLicence, stamp: Stamp) -> list[LedgerEvent]:
    issuer = find_issuer(state, command.issuer_id)
    if not issuer.may_issue:
        status = "revoked already" if issuer.licence_revoked else "never licensed"
        raise LicenceNotRevocable(issuer=issuer.issuer_id, status=status)
    stream = stream_id("issuer", command.issuer_id)
    return [IssuerLicenceRevoked(**head(state, stream, stamp), issuer_id=issuer.issuer_id, reason=command.reason)]


DECIDERS: Deciders = {
    RegisterIssuer: register_issuer,
    RegisterAsset: register_asset,
    RegisterToken: register_token,
    IssueTokens: issue_tokens,
    RedeemTokens: redeem_tokens,
    RevokeIssuerLicence: revoke_issuer_licence,
}
