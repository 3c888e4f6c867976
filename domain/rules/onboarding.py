"""Onboarding: the bank itself, its clients and their KYC (no value moves before it)."""

from __future__ import annotations

from domain.calendar import zone_named
from domain.commands import EstablishBank, OnboardClient, VerifyKyc
from domain.errors import AlreadyExists, KycAlreadyVerified, KycNotVerified
from domain.events import BANK_STREAM, BankEstablished, ClientKycVerified, ClientOnboarded, LedgerEvent, stream_id
from domain.parties import Client, KycStatus
from domain.rules.base import Deciders, Stamp, find_client, head
from domain.state import LedgerState


def check_verified(client: Client) -> None:
    if client.kyc != KycStatus.VERIFIED:
        raise KycNotVerified(client=client.client_id, kyc=client.kyc.value)


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


def verify_kyc(state: LedgerState, command: VerifyKyc, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    if client.kyc == KycStatus.VERIFIED:
        raise KycAlreadyVerified(client=command.client_id)
    stream = stream_id("client", command.client_id)
    return [ClientKycVerified(**head(state, stream, stamp), client_id=command.client_id)]


DECIDERS: Deciders = {
    EstablishBank: establish_bank,
    OnboardClient: onboard_client,
    VerifyKyc: verify_kyc,
}
