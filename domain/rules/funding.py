"""Funding: value entering, leaving and moving between clients or into the treasury; no holding goes below zero."""

from __future__ import annotations

from domain.accounts import SystemAccount, client_account
from domain.commands import Deposit, FundTreasury, Transfer, Withdraw
from domain.errors import InsufficientFunds, SameClientOnBothSides, TokenOutsideIssuance
from domain.events import FundsDeposited, FundsTransferred, FundsWithdrawn, LedgerEvent, TreasuryFunded
from domain.money import Asset, AssetKind
from domain.rules.base import Deciders, Stamp, command_stream, find_asset, find_client, head, movement
from domain.rules.compliance import aml, check_crypto_travel_rule, check_not_blacklisted, check_self_hosted_wallet
from domain.rules.onboarding import check_may_move
from domain.state import LedgerState


def check_funds(state: LedgerState, account: str, asset: Asset, amount_minor: int) -> None:
    """A holding account (a client's, or the treasury) has `amount_minor` to give."""
    available = state.balance(account, asset.code)
    if available < amount_minor:
        raise InsufficientFunds(
            account=account,
            asset=asset.code,
            requested=asset.format(amount_minor),
            available=asset.format(available),
        )


def held_outside_issuance(state: LedgerState, code: str) -> Asset:
    """An asset that may enter or leave the ledger from outside: fiat or crypto, never a token."""
    asset = find_asset(state, code)
    if asset.kind == AssetKind.TOKEN:
        raise TokenOutsideIssuance(asset=code)
    return asset


def deposit(state: LedgerState, command: Deposit, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    asset = held_outside_issuance(state, command.asset)
    amount_minor = asset.parse(command.amount)
    check_may_move(state, client, stamp)
    check_not_blacklisted(state, command.wallet_address, stamp)
    postings = movement(SystemAccount.EXTERNAL, client_account(client.client_id), asset.code, amount_minor)
    return [
        FundsDeposited(
            **head(state, command_stream(command.key), stamp),
            postings=postings,
            client_id=client.client_id,
            asset_code=asset.code,
            amount_minor=amount_minor,
            reference=command.reference,
            wallet_address=command.wallet_address,
        ),
        *aml(state, stamp, client, asset, amount_minor, command.type),
    ]


def withdraw(state: LedgerState, command: Withdraw, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    asset = held_outside_issuance(state, command.asset)
    amount_minor = asset.parse(command.amount)
    account = client_account(client.client_id)
    check_may_move(state, client, stamp)
    check_not_blacklisted(state, command.wallet_address, stamp)
    if asset.kind == AssetKind.CRYPTO:
        day = state.day(stamp.ledger_time)
        check_crypto_travel_rule(state, command, asset, amount_minor, day)
        check_self_hosted_wallet(state, command, client, asset, amount_minor, day)
    check_funds(state, account, asset, amount_minor)
    return [
        FundsWithdrawn(
            **head(state, command_stream(command.key), stamp),
            postings=movement(account, SystemAccount.EXTERNAL, asset.code, amount_minor),
            client_id=client.client_id,
            asset_code=asset.code,
            amount_minor=amount_minor,
            reference=command.reference,
            wallet_address=command.wallet_address,
            ivms101=command.ivms101,
        ),
        *aml(state, stamp, client, asset, amount_minor, command.type),
    ]


def fund_treasury(state: LedgerState, command: FundTreasury, stamp: Stamp) -> list[LedgerEvent]:
    asset = held_outside_issuance(state, command.asset)
    amount_minor = asset.parse(command.amount)
    check_not_blacklisted(state, command.wallet_address, stamp)
    return [
        TreasuryFunded(
            **head(state, command_stream(command.key), stamp),
            postings=movement(SystemAccount.EXTERNAL, SystemAccount.TREASURY, asset.code, amount_minor),
            asset_code=asset.code,
            amount_minor=amount_minor,
            reference=command.reference,
            wallet_address=command.wallet_address,
        )
    ]


def transfer(state: LedgerState, command: Transfer, stamp: Stamp) -> list[LedgerEvent]:
    source = find_client(state, command.source_client_id)
    target = find_client(state, command.target_client_id)
    if source.client_id == target.client_id:
        raise SameClientOnBothSides(sides="source and target", client=source.client_id)
    asset = find_asset(state, command.asset)
    amount_minor = asset.parse(command.amount)
    source_account = client_account(source.client_id)
    check_may_move(state, source, stamp)
    check_may_move(state, target, stamp)
    check_funds(state, source_account, asset, amount_minor)
    postings = movement(source_account, client_account(target.client_id), asset.code, amount_minor)
    return [
        FundsTransferred(
            **head(state, command_stream(command.key), stamp),
            postings=postings,
            source_client_id=source.client_id,
            target_client_id=target.client_id,
            asset_code=asset.code,
            amount_minor=amount_minor,
        ),
        *aml(state, stamp, source, asset, amount_minor, command.type),
    ]


DECIDERS: Deciders = {
    Deposit: deposit,
    Withdraw: withdraw,
    Transfer: transfer,
    FundTreasury: fund_treasury,
}
