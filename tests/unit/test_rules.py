"""Every rule of issuance, funding and transfers, decided on the pure model.

After every rejection the balances are unchanged, and a rule violation leaves
exactly one `CommandRejected` event with its rule code.
"""

from __future__ import annotations

import pytest

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
    AmountTooPrecise,
    BankNotEstablished,
    KycAlreadyVerified,
    NotAToken,
    SameClientOnBothSides,
    TokenOutsideIssuance,
    UnknownAsset,
    UnknownClient,
    UnknownIssuer,
)
from domain.events import CommandRejected, TokensIssued
from domain.money import AssetKind
from domain.parties import ClientKind, KycStatus, Residency
from domain.state import LedgerState
from tests.world import accept, apply, built_world


@pytest.fixture
def state() -> LedgerState:
    return built_world()


def balances_of(state: LedgerState) -> dict[tuple[str, str], int]:
    return dict(state.balances)


def assert_recorded_rejection(state: LedgerState, command: BaseCommand, rule: str) -> CommandRejected:
    before = balances_of(state)
    outcome = apply(state, command)
    assert outcome.violation is not None
    assert outcome.violation.rule == rule
    (event,) = outcome.events
    assert isinstance(event, CommandRejected)
    assert event.rule == rule
    assert event.command_key == command.key
    assert balances_of(state) == before
    return event


def assert_refused(state: LedgerState, command: BaseCommand, error: type[Exception], match: str | None = None) -> None:
    before = balances_of(state)
    versions = dict(state.versions)
    with pytest.raises(error, match=match) as refused:
        accept(state, command)
    assert type(refused.value) is error, f"{type(refused.value).__name__} raised, {error.__name__} expected"
    assert balances_of(state) == before
    assert state.versions == versions


# Issuance.


def test_licensed_issuer_mints_its_token_to_a_verified_client(state: LedgerState) -> None:
    outcome = apply(state, IssueTokens(key="m", issuer_id="svislach", asset="SVT", client_id="nord", amount="5"))
    (event,) = outcome.events
    assert isinstance(event, TokensIssued)
    assert state.balance("client:nord", "SVT") == 500
    assert state.supply("SVT") == state.holdings("SVT") == 30500


def test_unlicensed_issuer_cannot_mint(state: LedgerState) -> None:
    command = IssueTokens(key="m", issuer_id="grey-mint", asset="SVT", client_id="nord", amount="5")
    event = assert_recorded_rejection(state, command, "ISSUER_NOT_LICENSED")
    assert event.details == {"issuer": "grey-mint"}


def test_issuer_cannot_mint_another_issuers_token(state: LedgerState) -> None:
    command = IssueTokens(key="m", issuer_id="berezina", asset="SVT", client_id="nord", amount="5")
    assert_recorded_rejection(state, command, "NOT_ISSUERS_TOKEN")


def test_mint_over_the_supply_cap_is_rejected_and_recorded(state: LedgerState) -> None:
    command = IssueTokens(key="m", issuer_id="svislach", asset="SVT", client_id="nord", amount="700.01")
    event = assert_recorded_rejection(state, command, "SUPPLY_CAP_EXCEEDED")
    assert event.details == {"asset": "SVT", "requested": "700.01", "cap": "1000.00", "outstanding": "300.00"}


def test_mint_up_to_exactly_the_cap_is_accepted(state: LedgerState) -> None:
    accept(state, IssueTokens(key="m", issuer_id="svislach", asset="SVT", client_id="nord", amount="700.00"))
    assert state.supply("SVT") == 100000


def test_tokens_are_not_minted_to_a_client_without_kyc(state: LedgerState) -> None:
    command = IssueTokens(key="m", issuer_id="svislach", asset="SVT", client_id="pending", amount="1")
    assert_recorded_rejection(state, command, "KYC_NOT_VERIFIED")


def test_only_tokens_are_minted(state: LedgerState) -> None:
    command = IssueTokens(key="m", issuer_id="svislach", asset="BYN", client_id="nord", amount="1")
    assert_refused(state, command, NotAToken, "BYN is fiat, not a token")


def test_redeeming_burns_tokens_and_lowers_supply(state: LedgerState) -> None:
    accept(state, RedeemTokens(key="r", issuer_id="svislach", asset="SVT", client_id="alesia", amount="100"))
    assert state.balance("client:alesia", "SVT") == 20000
    assert state.supply("SVT") == state.holdings("SVT") == 20000


def test_redeeming_more_than_held_is_rejected(state: LedgerState) -> None:
    command = RedeemTokens(key="r", issuer_id="svislach", asset="SVT", client_id="alesia", amount="300.01")
    assert_recorded_rejection(state, command, "INSUFFICIENT_FUNDS")


def test_an_unlicensed_issuer_cannot_redeem(state: LedgerState) -> None:
    command = RedeemTokens(key="r", issuer_id="grey-mint", asset="SVT", client_id="alesia", amount="1")
    assert_recorded_rejection(state, command, "ISSUER_NOT_LICENSED")


def test_an_unlicensed_issuer_cannot_register_a_token(state: LedgerState) -> None:
    command = RegisterToken(key="t", code="GRY", scale=2, issuer_id="grey-mint", supply_cap="10")
    assert_recorded_rejection(state, command, "ISSUER_NOT_LICENSED")
    assert "GRY" not in state.assets


def test_a_supply_cap_needs_the_tokens_own_scale(state: LedgerState) -> None:
    command = RegisterToken(key="t", code="NEW", scale=0, issuer_id="svislach", supply_cap="10.5")
    assert_refused(state, command, AmountTooPrecise, "NEW has 0 decimal places, 1 given")


# Funding.


def test_a_deposit_credits_the_client_from_the_external_account(state: LedgerState) -> None:
    accept(state, Deposit(key="d", client_id="nord", asset="USDT", amount="0.000001", reference="tx"))
    assert state.balance("client:nord", "USDT") == 1
    assert state.balance("system:external", "USDT") == -1


def test_tokens_cannot_be_deposited_from_outside(state: LedgerState) -> None:
    command = Deposit(key="d", client_id="nord", asset="SVT", amount="1", reference="tx")
    assert_refused(state, command, TokenOutsideIssuance, "tokens enter the ledger only by issuance")


def test_a_client_without_kyc_cannot_deposit(state: LedgerState) -> None:
    command = Deposit(key="d", client_id="pending", asset="BYN", amount="1", reference="tx")
    assert_recorded_rejection(state, command, "KYC_NOT_VERIFIED")


def test_a_withdrawal_of_more_than_the_balance_is_rejected(state: LedgerState) -> None:
    command = Withdraw(key="w", client_id="alesia", asset="BYN", amount="100.01", reference="out")
    event = assert_recorded_rejection(state, command, "INSUFFICIENT_FUNDS")
    assert event.details["available"] == "100.00"


def test_a_withdrawal_of_the_whole_balance_leaves_zero(state: LedgerState) -> None:
    accept(state, Withdraw(key="w", client_id="alesia", asset="BYN", amount="100", reference="out"))
    assert state.balance("client:alesia", "BYN") == 0


# Transfers.


def test_a_transfer_moves_value_between_verified_clients(state: LedgerState) -> None:
    accept(state, Transfer(key="t", source_client_id="alesia", target_client_id="nord", asset="SVT", amount="1"))
    assert state.balance("client:alesia", "SVT") == 29900
    assert state.balance("client:nord", "SVT") == 100


def test_a_transfer_to_a_client_without_kyc_is_rejected(state: LedgerState) -> None:
    command = Transfer(key="t", source_client_id="alesia", target_client_id="pending", asset="BYN", amount="1")
    assert_recorded_rejection(state, command, "KYC_NOT_VERIFIED")


def test_a_transfer_beyond_the_balance_is_rejected(state: LedgerState) -> None:
    command = Transfer(key="t", source_client_id="nord", target_client_id="alesia", asset="BYN", amount="0.01")
    assert_recorded_rejection(state, command, "INSUFFICIENT_FUNDS")


def test_a_transfer_to_oneself_is_refused(state: LedgerState) -> None:
    command = Transfer(key="t", source_client_id="alesia", target_client_id="alesia", asset="BYN", amount="1")
    assert_refused(state, command, SameClientOnBothSides, "source and target")


# Unknown and repeated parties.


@pytest.mark.parametrize(
    ("command", "error"),
    [
        (Deposit(key="x", client_id="ghost", asset="BYN", amount="1", reference="r"), UnknownClient),
        (Deposit(key="x", client_id="alesia", asset="EUR", amount="1", reference="r"), UnknownAsset),
        (IssueTokens(key="x", issuer_id="ghost", asset="SVT", client_id="alesia", amount="1"), UnknownIssuer),
        (VerifyKyc(key="x", client_id="ghost"), UnknownClient),
        (
            OnboardClient(
                key="x",
                client_id="alesia",
                name="A",
                residency=Residency.RESIDENT,
                kind=ClientKind.INDIVIDUAL,
            ),
            AlreadyExists,
        ),
        (RegisterAsset(key="x", code="BYN", scale=2, kind=AssetKind.FIAT), AlreadyExists),
        (RegisterIssuer(key="x", issuer_id="svislach", name="S", licensed=True), AlreadyExists),
        (EstablishBank(key="x", name="Other", htp_resident=True, nbrb_register_entry="CB-2"), AlreadyExists),
        (VerifyKyc(key="x", client_id="alesia"), KycAlreadyVerified),
    ],
)
def test_commands_naming_unknown_or_existing_things_are_refused(
    state: LedgerState, command: BaseCommand, error: type[Exception]
) -> None:
    assert_refused(state, command, error)


def test_nothing_happens_before_the_bank_is_established() -> None:
    state = LedgerState()
    with pytest.raises(BankNotEstablished):
        accept(state, RegisterAsset(key="a", code="BYN", scale=2, kind=AssetKind.FIAT))
    assert state.versions == {}


def test_kyc_verification_is_recorded_on_the_client(state: LedgerState) -> None:
    accept(state, VerifyKyc(key="k", client_id="pending"))
    assert state.clients["pending"].kyc == KycStatus.VERIFIED
