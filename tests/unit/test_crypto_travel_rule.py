"""The travel rule for crypto withdrawals (IVMS101 data) and the proof of control of a self-hosted wallet."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from domain.addresses import Network, example_address
from domain.commands import Deposit, SetComplianceSettings, SetReferenceRate, VerifyWalletOwnership, Withdraw
from domain.errors import AlreadyExists, MissingRate
from domain.events import FundsWithdrawn, WalletOwnershipVerified
from domain.ivms101 import IdentityPayload
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import LEDGER_TIME, accept, apply, trading_world

WALLET = example_address(Network.EVM, "jan's own wallet")
DAY = LEDGER_TIME.date()
# USDT at 3.20 BYN and USD at 3.20 BYN: one USDT is one USD; EUR at 3.52 BYN: 1,100 USDT is 1,000 EUR.
RATES = (("USD", "3.2000"), ("USDT", "3.2000"), ("EUR", "3.5200"))

ORIGINATOR: dict[str, Any] = {
    "originator_persons": [
        {"natural_person": {"name": {"primary_identifier": "Novak", "secondary_identifier": "Jan"},
                            "customer_identification": "jan"}}
    ],
    "account_number": ["client:jan"],
}  # fmt: skip
VASP = {"beneficiary_vasp": {"beneficiary_vasp": {"legal_person": {"name": {"legal_person_name": "Kraken Ltd"}}}}}


def beneficiary(wallet: str = WALLET) -> dict[str, Any]:
    return {
        "beneficiary_persons": [{"natural_person": {"name": {"primary_identifier": "Novak"}}}],
        "account_number": [wallet],
    }


def complete(**changes: Any) -> dict[str, Any]:
    return {"originator": ORIGINATOR, "beneficiary": beneficiary(), **changes}


@pytest.fixture
def state() -> LedgerState:
    state = trading_world()
    for code, rate in RATES:
        accept(state, SetReferenceRate(key=f"rate-{code}", code=code, byn_per_unit=rate, effective_on=DAY))
    for client in ("jan", "ivan"):
        accept(state, Deposit(key=f"more-{client}", client_id=client, asset="USDT", amount="10000", reference="in"))
    return state


def withdraw(amount: str, ivms101: dict[str, Any] | None = None, key: str = "w", **fields: Any) -> Withdraw:
    return Withdraw.model_validate(
        {
            "key": key,
            "client_id": "jan",
            "asset": "USDT",
            "amount": amount,
            "reference": key,
            "wallet_address": WALLET,
            "ivms101": ivms101,
            **fields,
        }
    )


# The travel rule: at or above USD 1,000.


def test_a_crypto_withdrawal_at_the_threshold_without_data_is_a_recorded_rejection(state: LedgerState) -> None:
    event = assert_recorded_rejection(
        state, withdraw("1000", complete() | {"originator": None}), "TRAVEL_RULE_INCOMPLETE"
    )
    assert event.details["missing"] == "originator"
    assert event.details["value_usd"] == "1000.00"


def test_one_minor_unit_below_the_threshold_needs_no_data(state: LedgerState) -> None:
    outcome = apply(state, withdraw("999.999999", VASP))
    assert outcome.violation is None


def test_the_rejection_names_every_missing_field(state: LedgerState) -> None:
    thin = {
        "originator": {"originator_persons": [{"natural_person": {}}]},
        "beneficiary": {"beneficiary_persons": [{"legal_person": {}}], "account_number": ["someone else"]},
    }
    event = assert_recorded_rejection(state, withdraw("1000", thin), "TRAVEL_RULE_INCOMPLETE")
    missing = event.details["missing"].split("; ")
    assert missing == [
        "originator.name",
        "originator.account_number",
        "originator.geographic_address, national_identification, customer_identification or date_and_place_of_birth",
        "beneficiary.name",
        f"beneficiary.account_number (the wallet {WALLET})",
    ]


def test_no_data_at_all_is_named_as_such(state: LedgerState) -> None:
    event = assert_recorded_rejection(state, withdraw("5000"), "TRAVEL_RULE_INCOMPLETE")
    assert event.details["missing"] == "ivms101 (originator and beneficiary)"


@pytest.mark.parametrize(
    "identification",
    [
        {"customer_identification": "jan"},
        {"national_identification": {"national_identifier": "AB123", "national_identifier_type": "CCPT"}},
        {"date_and_place_of_birth": {"date_of_birth": "1990-01-02", "place_of_birth": "Brno"}},
        {"geographic_address": [{"town_name": "Brno", "country": "CZ"}]},
    ],
)
def test_any_one_identification_of_the_originator_completes_it(
    state: LedgerState, identification: dict[str, Any]
) -> None:
    person = {"natural_person": {"name": {"primary_identifier": "Novak"}, **identification}}
    originator = {"originator_persons": [person], "account_number": ["client:jan"]}
    outcome = apply(state, withdraw("1000", complete(originator=originator) | VASP))
    assert outcome.violation is None


def test_an_address_without_a_town_does_not_identify(state: LedgerState) -> None:
    person = {"natural_person": {"name": {"primary_identifier": "Novak"}, "geographic_address": [{"country": "CZ"}]}}
    originator = {"originator_persons": [person], "account_number": ["client:jan"]}
    assert_recorded_rejection(state, withdraw("1000", complete(originator=originator) | VASP), "TRAVEL_RULE_INCOMPLETE")


def test_the_beneficiary_account_is_compared_in_the_wallets_canonical_spelling(state: LedgerState) -> None:
    outcome = apply(state, withdraw("1000", complete(beneficiary=beneficiary(WALLET.lower())) | VASP))
    assert outcome.violation is None


def test_the_data_is_stored_in_the_withdrawals_event(state: LedgerState) -> None:
    (event, *_) = apply(state, withdraw("1000", complete() | VASP)).events
    assert isinstance(event, FundsWithdrawn)
    assert event.ivms101 == IdentityPayload.model_validate(complete() | VASP)
    assert event.ivms101 is not None


def test_fiat_withdrawals_are_not_crypto_transfers(state: LedgerState) -> None:
    fiat = Withdraw(key="f", client_id="nord", asset="BYN", amount="50", reference="f")
    assert apply(state, fiat).violation is None


def test_without_a_usd_rate_an_incomplete_transfer_is_refused_outright() -> None:
    state = trading_world()
    accept(state, SetReferenceRate(key="r", code="USDT", byn_per_unit="3.2", effective_on=DAY))
    message = (
        f"^no reference rate for USD on {DAY}: record one with set_reference_rate "
        "before valuing USD against a threshold$"
    )
    assert_refused(state, withdraw("1000"), MissingRate, message)


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ({"originator": {"originator_persons": [{}]}}, "exactly one of natural_person and legal_person"),
        ({"originator": {"originator_persons": []}}, "at least 1 item"),
        ({"originator": {"persons": []}}, "Extra inputs are not permitted"),
        ({"originator": {"originator_persons": [{"natural_person": {"name": {"primary_identifier": 7}}}]}}, "string"),
        ({"beneficiary": {"beneficiary_persons": [{"natural_person": {"name": {"primary_identifier": "a\nb"}}}]}},
         "ivms101.beneficiary.beneficiary_persons[0].natural_person.name.primary_identifier"),
        ({"originator": {"originator_persons": [{"natural_person": {"geographic_address": [{"country": "cz"}]}}]}},
         "pattern"),
    ],
)  # fmt: skip
def test_malformed_ivms101_data_is_invalid_input(payload: dict[str, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says.replace("[", r"\[").replace("]", r"\]")):
        withdraw("1", payload)


def test_a_withdrawal_without_travel_rule_data_digests_as_before() -> None:
    command = Withdraw(key="w", client_id="jan", asset="BYN", amount="1", reference="r")
    assert command.digest() == command.model_copy(update={"ivms101": None}).digest()
    with_data = withdraw("1", complete())
    assert with_data.digest() != with_data.model_copy(update={"ivms101": None}).digest()


# Self-hosted wallets: above EUR 1,000, a recorded proof of control.


def test_a_self_hosted_wallet_above_eur_1000_without_proof_is_a_recorded_rejection(state: LedgerState) -> None:
    event = assert_recorded_rejection(state, withdraw("1100.000001", complete()), "SELF_HOSTED_WALLET_UNVERIFIED")
    assert (event.details["wallet"], event.details["client"]) == (WALLET, "jan")
    assert event.details["threshold_eur"] == "1000.00"


def test_a_self_hosted_transfer_naming_no_wallet_is_refused_saying_none_was_given(state: LedgerState) -> None:
    # Above the EUR threshold, below the USD one (raised for the test): only the wallet's proof is missing.
    accept(state, SetComplianceSettings(key="s", travel_rule_threshold_usd="100000"))
    nowhere = withdraw("1100.000001", wallet_address=None)
    event = assert_recorded_rejection(state, nowhere, "SELF_HOSTED_WALLET_UNVERIFIED")
    assert event.details["wallet"] == "(none given)"
    assert event.reason == (
        "a transfer worth 1000.00 EUR (threshold 1000.00) to the self-hosted wallet (none given) "
        "needs a recorded proof that client 'jan' controls it (verify_wallet_ownership)"
    )


def test_exactly_eur_1000_to_a_self_hosted_wallet_needs_no_proof(state: LedgerState) -> None:
    assert apply(state, withdraw("1100", complete())).violation is None


def test_a_recorded_proof_lets_the_client_send_to_its_wallet(state: LedgerState) -> None:
    proof = VerifyWalletOwnership(
        key="p", client_id="jan", wallet_address=WALLET.lower(), method="signed_message", reference="sig-1"
    )
    (event,) = apply(state, proof).events
    assert isinstance(event, WalletOwnershipVerified)
    assert event.wallet_address == WALLET
    assert apply(state, withdraw("5000", complete())).violation is None
    # The proof is the client's own: another client sending there still needs one.
    other = withdraw("5000", complete(), key="w2").model_copy(update={"client_id": "ivan"})
    assert_recorded_rejection(state, other, "SELF_HOSTED_WALLET_UNVERIFIED")


def test_a_wallet_hosted_by_a_vasp_needs_no_proof(state: LedgerState) -> None:
    assert apply(state, withdraw("5000", complete() | VASP)).violation is None


def test_a_proof_is_recorded_once(state: LedgerState) -> None:
    proof = VerifyWalletOwnership(key="p", client_id="jan", wallet_address=WALLET, method="satoshi_test", reference="t")
    accept(state, proof)
    assert_refused(state, proof.model_copy(update={"key": "p2"}), AlreadyExists)


def test_the_eur_threshold_is_a_setting(state: LedgerState) -> None:
    accept(state, SetComplianceSettings(key="s", self_hosted_proof_threshold_eur="0"))
    assert_recorded_rejection(state, withdraw("1", complete()), "SELF_HOSTED_WALLET_UNVERIFIED")


def test_without_a_eur_rate_a_self_hosted_transfer_is_refused_outright() -> None:
    state = trading_world()
    for code, rate in RATES[:2]:
        accept(state, SetReferenceRate(key=f"rate-{code}", code=code, byn_per_unit=rate, effective_on=DAY))
    assert_refused(state, withdraw("1", complete()), MissingRate, "no reference rate for EUR")


def test_proofs_are_carried_by_the_snapshot(state: LedgerState) -> None:
    accept(state, VerifyWalletOwnership(key="p", client_id="jan", wallet_address=WALLET, method="other", reference="t"))
    restored = LedgerState.restored(state.snapshot())
    assert restored.verified_wallets == {("jan", WALLET): "other"}
    assert restored.snapshot() == state.snapshot()


def test_a_proof_is_rolled_back_with_its_batch(state: LedgerState) -> None:
    state.begin()
    accept(state, VerifyWalletOwnership(key="p", client_id="jan", wallet_address=WALLET, method="other", reference="t"))
    state.rollback()
    assert state.verified_wallets == {}


def test_a_transfer_without_a_beneficiary_names_the_beneficiary_as_missing(state: LedgerState) -> None:
    event = assert_recorded_rejection(state, withdraw("1000", {"originator": ORIGINATOR}), "TRAVEL_RULE_INCOMPLETE")
    assert event.details["missing"] == "beneficiary"


def test_a_transfer_naming_no_wallet_asks_for_the_wallet_of_the_withdrawal(state: LedgerState) -> None:
    event = assert_recorded_rejection(
        state, withdraw("1000", complete() | VASP, wallet_address=None), "TRAVEL_RULE_INCOMPLETE"
    )
    assert event.details["missing"] == "beneficiary.account_number (the wallet of the withdrawal)"
