"""Onboarding: the bank itself, its clients and their KYC (no value moves before it)."""

from __future__ import annotations

from datetime import date

from domain.calendar import zone_named
from domain.commands import (
    EstablishBank,
    FreezeClient,
    OffboardClient,
    OnboardClient,
    RevokeKyc,
    UnfreezeClient,
    VerifyKyc,
)
from domain.errors import (
    AlreadyExists,
    BalanceNotZero,
    ClientAlreadyFrozen,
    ClientNotFrozen,
    FrozenClient,
    KycAlreadyExpired,
    KycAlreadyVerified,
    KycExpired,
    KycNotRevocable,
    KycNotVerified,
    KycRevoked,
    OffboardedClient,
)
from domain.events import (
    BANK_STREAM,
    BankEstablished,
    ClientFrozen,
    ClientKycRevoked,
    ClientKycVerified,
    ClientOffboarded,
    ClientOnboarded,
    ClientUnfrozen,
    LedgerEvent,
    stream_id,
)
from domain.parties import Client, KycStatus
from domain.rules.base import Deciders, Stamp, find_client, head
from domain.state import LedgerState


def check_still_client(client: Client) -> None:
    """Nothing happens to a client who has left."""
    if client.offboarded:
        raise OffboardedClient(client=client.client_id)


def check_not_held(client: Client) -> None:
    """A client whose account may take or give value at all: neither
    offboarded nor frozen (a settlement's return and a reversal need no
    more than this: they are not the client's own operations)."""
    check_still_client(client)
    if client.frozen_reason is not None:
        raise FrozenClient(client=client.client_id, reason=client.frozen_reason)


def check_may_move(state: LedgerState, client: Client, stamp: Stamp) -> None:
    """A client who may move value: not held, and KYC-verified as of the
    command's ledger day (a revoked or expired verification is not one)."""
    check_not_held(client)
    if client.kyc == KycStatus.REVOKED:
        raise KycRevoked(client=client.client_id)
    if client.kyc != KycStatus.VERIFIED:
        raise KycNotVerified(client=client.client_id, kyc=client.kyc.value)
    if client.kyc_expired(state.day(stamp.ledger_time)):
        raise KycExpired(client=client.client_id, expired_on=str(client.kyc_expires_on))


def establish_bank(state: LedgerState, command: EstablishBank, stamp: Stamp) -> list[LedgerEvent]:
    zone_named(command.time_zone)  # refuses a name the zone database does not hold
    if state.bank is not None:
        raise AlreadyExists(kind="bank", key=state.bank.name)
    return [
        BankEstablished(
            **head(state, BANK_STREAM, stamp),
            name=command.name,
            htp_resident=command.htp_resident,
            nbrb_register_entry=command.nbrb_register_entry,
            time_zone=command.time_zone,
        )
    ]


def onboard_client(state: LedgerState, command: OnboardClient, stamp: Stamp) -> list[LedgerEvent]:
    if command.client_id in state.clients:
        raise AlreadyExists(kind="client", key=command.client_id)
    stream = stream_id("client", command.client_id)
    return [
        ClientOnboarded(
            **head(state, stream, stamp),
            client_id=command.client_id,
            name=command.name,
            residency=command.residency,
            kind=command.kind,
        )
    ]


def _renews(client: Client, expires_on: date | None, day: date) -> bool:
    """Whether a verification changes something: the client is not verified
    (pending, revoked or expired by `day`), or its expiry changes (a periodic
    review sets a new one)."""
    if client.kyc != KycStatus.VERIFIED or client.kyc_expired(day):
        return True
    return expires_on != client.kyc_expires_on


def verify_kyc(state: LedgerState, command: VerifyKyc, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    check_still_client(client)
    if command.expires_on is not None and command.expires_on <= state.day(stamp.ledger_time):
        raise KycAlreadyExpired(client=client.client_id, expires_on=str(command.expires_on))
    if not _renews(client, command.expires_on, state.day(stamp.ledger_time)):
        raise KycAlreadyVerified(client=command.client_id)
    stream = stream_id("client", command.client_id)
    return [ClientKycVerified(**head(state, stream, stamp), client_id=command.client_id, expires_on=command.expires_on)]


def revoke_kyc(state: LedgerState, command: RevokeKyc, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    check_still_client(client)
    if client.kyc != KycStatus.VERIFIED:
        raise KycNotRevocable(client=client.client_id, kyc=client.kyc.value)
    stream = stream_id("client", command.client_id)
    return [ClientKycRevoked(**head(state, stream, stamp), client_id=client.client_id, reason=command.reason)]


def freeze_client(state: LedgerState, command: FreezeClient, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    check_still_client(client)
    if client.frozen_reason is not None:
        raise ClientAlreadyFrozen(client=client.client_id, reason=client.frozen_reason)
    stream = stream_id("client", command.client_id)
    return [ClientFrozen(**head(state, stream, stamp), client_id=client.client_id, reason=command.reason)]


def unfreeze_client(state: LedgerState, command: UnfreezeClient, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    check_still_client(client)
    if client.frozen_reason is None:
        raise ClientNotFrozen(client=client.client_id)
    stream = stream_id("client", command.client_id)
    return [ClientUnfrozen(**head(state, stream, stamp), client_id=client.client_id, reason=command.reason)]


def _value_held(state: LedgerState, client_id: str) -> list[str]:
    """What a client still holds, and what of theirs is still abroad."""
    held = [
        f"{state.assets[asset].format(amount)} {asset}"
        for account, asset in sorted(state.client_balances(client_id))
        if (amount := state.balance(account, asset))
    ]
    held += [
        f"{state.assets[s.asset].format(s.outstanding_minor)} {s.asset} in transit ({s.settlement_id})"
        for s in sorted(state.settlements.values(), key=lambda s: s.settlement_id)
        if s.client_id == client_id and s.outstanding_minor
    ]
    return held


def offboard_client(state: LedgerState, command: OffboardClient, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    check_still_client(client)
    held = _value_held(state, client.client_id)
    if held:
        raise BalanceNotZero(client=client.client_id, balances=", ".join(held))
    stream = stream_id("client", command.client_id)
    return [ClientOffboarded(**head(state, stream, stamp), client_id=client.client_id, reason=command.reason)]


DECIDERS: Deciders = {
    EstablishBank: establish_bank,
    OnboardClient: onboard_client,
    VerifyKyc: verify_kyc,
    RevokeKyc: revoke_kyc,
    FreezeClient: freeze_client,
    UnfreezeClient: unfreeze_client,
    OffboardClient: offboard_client,
}
