"""Onboarding, exactly: the refusals' whole messages, and the client's own
stream that every change of a client is stored in (a stored contract)."""

from __future__ import annotations

from uuid import UUID

import pytest

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
    ClientAlreadyFrozen,
    ClientNotFrozen,
    KycAlreadyExpired,
    KycAlreadyVerified,
    KycNotRevocable,
)
from domain.parties import ClientKind, Residency
from domain.state import LedgerState
from tests.unit.test_rules import assert_refused
from tests.world import LEDGER_TIME, accept, trading_world

DARIA_STREAM = UUID("be5ec913-1748-5b62-88ca-d48227849e6a")  # stream_id("client", "daria")


def daria(key: str = "onboard-daria") -> OnboardClient:
    return OnboardClient(
        key=key, client_id="daria", name="Daria K.", residency=Residency.RESIDENT, kind=ClientKind.INDIVIDUAL
    )


@pytest.fixture
def state() -> LedgerState:
    return trading_world()


def test_onboarding_a_client_id_again_is_refused_naming_it(state: LedgerState) -> None:
    accept(state, daria())
    assert_refused(state, daria("again"), AlreadyExists, r"^client 'daria' already exists$")


def test_revoking_a_verification_never_made_is_refused_naming_the_client_and_its_status(state: LedgerState) -> None:
    accept(state, daria())
    message = r"^invalid command: client 'daria' has KYC status pending: only a verification is revoked$"
    assert_refused(state, RevokeKyc(key="revoke", client_id="daria", reason="review"), KycNotRevocable, message)


def test_freezing_a_frozen_client_is_refused_naming_it_and_why_it_is_frozen(state: LedgerState) -> None:
    accept(state, FreezeClient(key="freeze", client_id="jan", reason="court order 7"))
    message = r"^invalid command: client 'jan' is frozen already \(court order 7\)$"
    assert_refused(state, FreezeClient(key="again", client_id="jan", reason="review"), ClientAlreadyFrozen, message)


def test_unfreezing_a_client_not_frozen_is_refused_naming_it(state: LedgerState) -> None:
    message = r"^invalid command: client 'jan' is not frozen$"
    assert_refused(state, UnfreezeClient(key="thaw", client_id="jan", reason="review"), ClientNotFrozen, message)


def test_every_change_of_a_client_is_stored_in_the_client_s_own_stream(state: LedgerState) -> None:
    changes = [
        daria(),
        VerifyKyc(key="verify", client_id="daria"),
        RevokeKyc(key="revoke", client_id="daria", reason="review"),
        FreezeClient(key="freeze", client_id="daria", reason="review"),
        UnfreezeClient(key="thaw", client_id="daria", reason="cleared"),
        OffboardClient(key="off", client_id="daria", reason="left"),
    ]
    for command in changes:
        (event,) = accept(state, command)
        assert event.originator_id == DARIA_STREAM, command.key
    assert state.version(DARIA_STREAM) == len(changes)


def test_establishing_the_bank_again_is_refused_naming_it(state: LedgerState) -> None:
    again = EstablishBank(key="again", name="Other Bank", htp_resident=True, nbrb_register_entry="X-1")
    assert_refused(state, again, AlreadyExists, r"^bank 'Zubr Crypto Bank JSC' already exists$")


def test_a_verification_expiring_today_is_refused_naming_the_client_and_the_day(state: LedgerState) -> None:
    accept(state, daria())
    today = LEDGER_TIME.date()
    message = rf"^invalid command: a verification of 'daria' expiring on {today} has expired already$"
    assert_refused(state, VerifyKyc(key="verify", client_id="daria", expires_on=today), KycAlreadyExpired, message)


def test_verifying_a_verified_client_again_is_refused_naming_it(state: LedgerState) -> None:
    message = r"^invalid command: client 'jan' is already KYC-verified$"
    assert_refused(state, VerifyKyc(key="again", client_id="jan"), KycAlreadyVerified, message)
