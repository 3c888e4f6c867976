"""Lifecycles: KYC revoked and expiring, clients frozen, unfrozen and offboarded, issuers' licences revoked.

Every refusal a supervisor should see is a recorded rejection under its own
rule code, and leaves every balance as it was.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from domain.commands import (
    BaseCommand,
    Deposit,
    FreezeClient,
    IssueTokens,
    OffboardClient,
    RedeemTokens,
    ReverseTransaction,
    RevokeIssuerLicence,
    RevokeKyc,
    Transfer,
    UnfreezeClient,
    VerifyKyc,
    Withdraw,
)
from domain.errors import (
    ClientAlreadyFrozen,
    ClientNotFrozen,
    KycAlreadyExpired,
    KycAlreadyVerified,
    KycNotRevocable,
    LicenceNotRevocable,
)
from domain.events import ClientOffboarded
from domain.parties import KycStatus
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import LEDGER_TIME, accept, apply, built_world


@pytest.fixture
def state() -> LedgerState:
    return built_world()


def on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, 0, tzinfo=UTC)


def deposit(key: str, client: str = "alesia", amount: str = "1.00", at: datetime | None = None) -> Deposit:
    return Deposit(key=key, client_id=client, asset="BYN", amount=amount, reference=key, ledger_time=at)


# KYC revoked.


def test_a_client_whose_kyc_was_revoked_can_move_nothing(state: LedgerState) -> None:
    accept(state, RevokeKyc(key="revoke", client_id="alesia", reason="forged passport"))
    assert state.clients["alesia"].kyc == KycStatus.REVOKED
    assert_recorded_rejection(state, deposit("d"), "KYC_REVOKED")
    withdrawal = Withdraw(key="w", client_id="alesia", asset="BYN", amount="1", reference="out")
    assert_recorded_rejection(state, withdrawal, "KYC_REVOKED")
    assert_recorded_rejection(
        state,
        Transfer(key="t", source_client_id="nord", target_client_id="alesia", asset="BYN", amount="1"),
        "KYC_REVOKED",
    )


def test_a_revoked_client_is_verified_again_and_moves_again(state: LedgerState) -> None:
    accept(state, RevokeKyc(key="revoke", client_id="alesia", reason="forged passport"))
    accept(state, VerifyKyc(key="again", client_id="alesia"))
    assert apply(state, deposit("d")).violation is None


def test_only_a_verification_is_revoked(state: LedgerState) -> None:
    assert_refused(state, RevokeKyc(key="r", client_id="pending", reason="x"), KycNotRevocable)


# KYC expiring.


def test_a_verification_holds_until_the_day_before_its_expiry(state: LedgerState) -> None:
    expiry = date(2026, 3, 1)
    accept(state, VerifyKyc(key="renew", client_id="alesia", expires_on=expiry))
    assert apply(state, deposit("last-day", at=on(date(2026, 2, 28)))).violation is None
    late_evening = datetime(2026, 2, 28, 23, 59, 59, tzinfo=state.zone)  # the bank's day, not UTC's
    assert apply(state, deposit("last-second", at=late_evening)).violation is None
    assert apply(state, deposit("minsk-midnight", at=datetime(2026, 2, 28, 21, tzinfo=UTC))).violation is not None


def test_from_its_expiry_day_on_a_client_counts_as_not_verified(state: LedgerState) -> None:
    accept(state, VerifyKyc(key="renew", client_id="alesia", expires_on=date(2026, 3, 1)))
    midnight = datetime(2026, 3, 1, tzinfo=state.zone)
    event = assert_recorded_rejection(state, deposit("expired", at=midnight), "KYC_EXPIRED")
    assert event.details["expired_on"] == "2026-03-01"


def test_an_expired_client_is_verified_again(state: LedgerState) -> None:
    accept(state, VerifyKyc(key="renew", client_id="alesia", expires_on=date(2026, 3, 1)))
    later = on(date(2026, 3, 2))
    accept(state, VerifyKyc(key="again", client_id="alesia", ledger_time=later))
    assert apply(state, deposit("d", at=later)).violation is None


def test_a_verification_already_expired_is_refused_as_input(state: LedgerState) -> None:
    command = VerifyKyc(key="v", client_id="pending", expires_on=LEDGER_TIME.date())
    assert_refused(state, command, KycAlreadyExpired)


def test_a_verification_without_expiry_is_not_verified_again(state: LedgerState) -> None:
    assert_refused(state, VerifyKyc(key="v", client_id="alesia"), KycAlreadyVerified)


def test_a_stored_verify_kyc_command_digests_as_before_expiry_existed() -> None:
    command = VerifyKyc(key="kyc", client_id="alesia")
    assert "expires_on" not in command.model_dump_json(exclude={"key", "metadata", "expires_on"})
    assert command.digest() == VerifyKyc(key="other", client_id="alesia").digest()
    assert command.digest() != VerifyKyc(key="kyc", client_id="alesia", expires_on=date(2027, 1, 1)).digest()


# Frozen and unfrozen.


def test_a_frozen_client_cannot_move_value_of_any_kind(state: LedgerState) -> None:
    accept(state, FreezeClient(key="freeze", client_id="alesia", reason="court order 12/7"))
    event = assert_recorded_rejection(state, deposit("d"), "CLIENT_FROZEN")
    assert event.details["reason"] == "court order 12/7"
    assert event.client_id == "alesia"
    withdrawal = Withdraw(key="w", client_id="alesia", asset="BYN", amount="1", reference="out")
    assert_recorded_rejection(state, withdrawal, "CLIENT_FROZEN")
    incoming = Transfer(key="t", source_client_id="nord", target_client_id="alesia", asset="SVT", amount="1")
    assert_recorded_rejection(state, incoming, "CLIENT_FROZEN")
    issue = IssueTokens(key="i", issuer_id="svislach", asset="SVT", client_id="alesia", amount="1")
    assert_recorded_rejection(state, issue, "CLIENT_FROZEN")


def test_an_unfrozen_client_moves_again(state: LedgerState) -> None:
    accept(state, FreezeClient(key="freeze", client_id="alesia", reason="court order"))
    accept(state, UnfreezeClient(key="unfreeze", client_id="alesia", reason="order lifted"))
    assert apply(state, deposit("d")).violation is None


def test_freezing_twice_or_unfreezing_a_free_client_is_invalid(state: LedgerState) -> None:
    assert_refused(state, UnfreezeClient(key="u", client_id="alesia", reason="x"), ClientNotFrozen)
    accept(state, FreezeClient(key="freeze", client_id="alesia", reason="court order"))
    assert_refused(state, FreezeClient(key="again", client_id="alesia", reason="x"), ClientAlreadyFrozen)


# Offboarded.


def test_a_client_holding_value_is_not_offboarded(state: LedgerState) -> None:
    event = assert_recorded_rejection(
        state, OffboardClient(key="off", client_id="alesia", reason="left"), "BALANCE_NOT_ZERO"
    )
    assert event.details["balances"] == "100.00 BYN, 300.00 SVT"


def test_one_minor_unit_left_keeps_a_client_from_offboarding(state: LedgerState) -> None:
    accept(state, RedeemTokens(key="r", issuer_id="svislach", asset="SVT", client_id="alesia", amount="300.00"))
    accept(state, Withdraw(key="w", client_id="alesia", asset="BYN", amount="99.99", reference="out"))
    event = assert_recorded_rejection(
        state, OffboardClient(key="off", client_id="alesia", reason="left"), "BALANCE_NOT_ZERO"
    )
    assert event.details["balances"] == "0.01 BYN"
    accept(state, Withdraw(key="w2", client_id="alesia", asset="BYN", amount="0.01", reference="out"))
    (offboarded,) = apply(state, OffboardClient(key="off2", client_id="alesia", reason="left")).events
    assert isinstance(offboarded, ClientOffboarded)


def test_nothing_happens_to_an_offboarded_client(state: LedgerState) -> None:
    accept(state, OffboardClient(key="off", client_id="pending", reason="never completed KYC"))
    assert state.clients["pending"].offboarded
    assert_recorded_rejection(state, deposit("d", client="pending"), "CLIENT_OFFBOARDED")
    assert_recorded_rejection(state, VerifyKyc(key="v", client_id="pending"), "CLIENT_OFFBOARDED")
    assert_recorded_rejection(state, FreezeClient(key="f", client_id="pending", reason="x"), "CLIENT_OFFBOARDED")
    assert_recorded_rejection(state, OffboardClient(key="o", client_id="pending", reason="x"), "CLIENT_OFFBOARDED")


# An issuer's licence revoked.


def test_an_issuer_whose_licence_was_revoked_issues_no_more(state: LedgerState) -> None:
    accept(state, RevokeIssuerLicence(key="revoke", issuer_id="svislach", reason="HTP supervisory board decision"))
    issue = IssueTokens(key="i", issuer_id="svislach", asset="SVT", client_id="alesia", amount="1")
    assert_recorded_rejection(state, issue, "ISSUER_LICENCE_REVOKED")


def test_an_issuer_whose_licence_was_revoked_still_redeems(state: LedgerState) -> None:
    accept(state, RevokeIssuerLicence(key="revoke", issuer_id="svislach", reason="HTP decision"))
    redeem = RedeemTokens(key="r", issuer_id="svislach", asset="SVT", client_id="alesia", amount="300.00")
    assert apply(state, redeem).violation is None
    assert state.supply("SVT") == 0


def test_a_licence_is_revoked_once_and_only_if_held(state: LedgerState) -> None:
    assert_refused(state, RevokeIssuerLicence(key="r", issuer_id="grey-mint", reason="x"), LicenceNotRevocable)
    accept(state, RevokeIssuerLicence(key="revoke", issuer_id="svislach", reason="x"))
    assert_refused(state, RevokeIssuerLicence(key="r2", issuer_id="svislach", reason="x"), LicenceNotRevocable)


# Journalled and snapshotted.


def lifecycle_history() -> list[BaseCommand]:
    return [
        VerifyKyc(key="review", client_id="alesia", expires_on=date(2027, 1, 1)),
        FreezeClient(key="freeze", client_id="nord", reason="court order"),
        RevokeKyc(key="revoke", client_id="nord", reason="stolen passport"),
        OffboardClient(key="off", client_id="pending", reason="never verified"),
        RevokeIssuerLicence(key="licence", issuer_id="berezina", reason="HTP decision"),
        ReverseTransaction(key="undo", original_key="fund-byn", reason="twice", reference="T-1"),
    ]


def state_fields(state: LedgerState) -> dict[str, object]:
    return {name: value for name, value in vars(state).items() if name not in ("_handlers", "_journal", "history")}


def test_a_snapshot_carries_every_lifecycle_and_reversal(state: LedgerState) -> None:
    for command in lifecycle_history():
        assert apply(state, command).violation is None, command
    restored = LedgerState.restored(state.snapshot())
    assert state_fields(restored) == state_fields(state)
    assert restored.reversals == {"fund-byn": "undo"}
    assert restored.clients["nord"].frozen_reason == "court order"


def test_a_rolled_back_batch_undoes_every_lifecycle_and_reversal(state: LedgerState) -> None:
    before = state_fields(LedgerState.restored(state.snapshot()))
    state.begin()
    for command in lifecycle_history():
        assert apply(state, command).violation is None, command
    state.rollback()
    assert state_fields(state) == before
