"""Corrections: a transaction reversed beside its original, by the exact opposite postings.

The original stays as it was; the reversal is a transaction of its own that
names it. What a reversal may undo is a movement by postings alone (an
issuance, a redemption, a deposit, a withdrawal, a transfer, a treasury
funding, a trade). A settlement's steps are not: its status machine corrects
them (a return, a delivery, an extension), and reversing one would leave the
settlement's record saying what its balances no longer do. A reversal is not
reversed either: the correction of a correction is a new transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.accounts import client_of, is_client_account, is_holding_account
from domain.commands import ReverseTransaction
from domain.errors import AlreadyReversed, NotReversible, UnknownTransaction
from domain.events import (
    COMMAND_TYPE_OF_FIRST_EVENT,
    CommandRejected,
    FundsDeposited,
    FundsTransferred,
    FundsWithdrawn,
    LedgerEvent,
    LedgerTransaction,
    Posting,
    TokensIssued,
    TokensRedeemed,
    TradeExecuted,
    TransactionReversed,
    TreasuryFunded,
)
from domain.rules.base import Deciders, Stamp, command_stream, find_asset, find_client, find_issuer, head
from domain.rules.funding import check_funds
from domain.rules.issuance import check_cap, check_may_issue
from domain.rules.onboarding import check_not_held
from domain.state import LedgerState

REVERSIBLE: tuple[type[LedgerTransaction], ...] = (
    TokensIssued,
    TokensRedeemed,
    FundsDeposited,
    FundsWithdrawn,
    FundsTransferred,
    TreasuryFunded,
    TradeExecuted,
)
"""The transactions a reversal undoes by their opposite postings alone."""


def _original(key: str, events: Sequence[LedgerEvent]) -> LedgerTransaction:
    """The one transaction the command of `key` recorded, if a reversal may undo it."""
    first = events[0] if events else None
    if isinstance(first, CommandRejected):
        raise NotReversible(original=key, original_type=first.command_type, why="a rejection moved nothing")
    if not isinstance(first, LedgerTransaction):
        kind = COMMAND_TYPE_OF_FIRST_EVENT.get(type(first), "a command") if first else "a command"
        raise NotReversible(original=key, original_type=kind, why="it made no postings")
    if not isinstance(first, REVERSIBLE):
        kind = COMMAND_TYPE_OF_FIRST_EVENT[type(first)]
        why = (
            "a correction is corrected by a new transaction"
            if isinstance(first, TransactionReversed)
            else "a settlement's steps are corrected by its own status machine"
        )
        raise NotReversible(original=key, original_type=kind, why=why)
    return first


def _check_clients(state: LedgerState, postings: Sequence[Posting]) -> None:
    """No client the reversal touches is frozen or offboarded (a freeze holds
    the account whole, against corrections too)."""
    for client_id in sorted({client_of(p.account) for p in postings if is_client_account(p.account)}):
        check_not_held(find_client(state, client_id))


def _check_new_units(state: LedgerState, original: LedgerTransaction) -> None:
    """A reversed redemption gives the units back: they count against the cap,
    and only an issuer that may issue now gives them."""
    if isinstance(original, TokensRedeemed):
        token = find_asset(state, original.asset_code)
        check_may_issue(find_issuer(state, original.issuer_id), token.code)
        check_cap(state, token, original.amount_minor)


def _check_funds(state: LedgerState, postings: Sequence[Posting]) -> None:
    for posting in postings:
        if posting.amount_minor < 0 and is_holding_account(posting.account):
            check_funds(state, posting.account, find_asset(state, posting.asset), -posting.amount_minor)


def _volume(original: LedgerTransaction) -> dict[str, object]:
    """What a reversed trade takes off its day's volumes (nothing for the rest)."""
    if not isinstance(original, TradeExecuted):
        return {}
    clients = tuple(sorted(c for c in (original.buyer_client_id, original.seller_client_id) if c is not None))
    return {
        "volume_asset": original.quote_asset,
        "volume_minor": original.quote_amount_minor,
        "volume_client_ids": clients,
    }


def reverse_transaction(state: LedgerState, command: ReverseTransaction, stamp: Stamp) -> list[LedgerEvent]:
    events = state.history.events_of(command.original_key)
    if events is None:
        raise UnknownTransaction(original=command.original_key)
    reversal = state.reversals.get(command.original_key)
    if reversal is not None:
        raise AlreadyReversed(original=command.original_key, reversal=reversal)
    original = _original(command.original_key, events)
    postings = tuple(Posting(account=p.account, asset=p.asset, amount_minor=-p.amount_minor) for p in original.postings)
    _check_clients(state, postings)
    _check_new_units(state, original)
    _check_funds(state, postings)
    return [
        TransactionReversed(
            **head(state, command_stream(command.key), stamp),
            postings=postings,
            original_key=command.original_key,
            original_type=COMMAND_TYPE_OF_FIRST_EVENT[type(original)],
            original_ledger_time=original.ledger_time,
            reason=command.reason,
            reference=command.reference,
            **_volume(original),
        )
    ]


DECIDERS: Deciders = {ReverseTransaction: reverse_transaction}
