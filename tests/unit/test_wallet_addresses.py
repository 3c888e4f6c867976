"""Wallet addresses at the command boundary: checked, kept in their canonical spelling, compared as such."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.addresses import Network, example_address, normalise_address
from domain.commands import (
    COMMAND_ADAPTER,
    BlacklistAddress,
    Deposit,
    InitiateSettlement,
    SetReferenceRate,
    Withdraw,
)
from domain.errors import AlreadyExists
from domain.events import AddressBlacklisted, stream_id
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import LEDGER_TIME, accept, apply, trading_world

EVM = example_address(Network.EVM, "mixer")
TRON = example_address(Network.TRON, "mixer")


@pytest.fixture
def state() -> LedgerState:
    state = trading_world()
    for code, rate in (("USD", "3.2000"), ("EUR", "3.5000"), ("USDT", "3.2500")):
        accept(
            state, SetReferenceRate(key=f"rate-{code}", code=code, byn_per_unit=rate, effective_on=LEDGER_TIME.date())
        )
    return state


def withdraw(address: str, key: str = "w") -> Withdraw:
    return Withdraw(key=key, client_id="nord", asset="USDT", amount="1", reference="r", wallet_address=address)


def test_an_example_address_is_valid_and_the_same_for_the_same_seed() -> None:
    for network in Network:
        address = example_address(network, "seed")
        assert normalise_address(address) == (network, address)
        assert example_address(network, "seed") == address
        assert example_address(network, "other seed") != address


def test_an_evm_address_in_a_command_is_kept_in_its_eip55_spelling() -> None:
    assert EVM.lower() != EVM
    assert withdraw(EVM.lower()).wallet_address == EVM
    assert withdraw("0x" + EVM[2:].upper()).wallet_address == EVM


def test_the_same_withdrawal_in_another_spelling_digests_the_same() -> None:
    assert withdraw(EVM.lower()).digest() == withdraw(EVM).digest()


@pytest.mark.parametrize(
    ("field", "command"),
    [
        ("wallet_address", {"type": "deposit", "client_id": "a", "asset": "USDT", "amount": "1", "reference": "r"}),
        ("wallet_address", {"type": "withdraw", "client_id": "a", "asset": "USDT", "amount": "1", "reference": "r"}),
        ("wallet_address", {"type": "fund_treasury", "asset": "USDT", "amount": "1", "reference": "r"}),
        ("address", {"type": "blacklist_address", "listed_on": "2026-02-01", "reason": "r"}),
    ],
)
def test_a_malformed_address_is_invalid_input_naming_the_field_and_why(field: str, command: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as raised:
        COMMAND_ADAPTER.validate_python({**command, "key": "k", field: "TMixer000000000001"})
    (error,) = raised.value.errors()
    assert error["loc"][-1] == field
    assert error["type"] == "wallet_address"
    assert "not a TRON address: 25 to 35 Base58 characters" in error["msg"]


def test_a_wrong_checksum_is_refused_with_the_right_spelling() -> None:
    at = next(i for i, c in enumerate(EVM) if i > 1 and c.isalpha())
    wrong = EVM[:at] + EVM[at].swapcase() + EVM[at + 1 :]
    with pytest.raises(ValidationError, match=f"it is spelled {EVM}"):
        withdraw(wrong)


def test_a_beneficiary_wallet_of_a_settlement_is_checked_too() -> None:
    with pytest.raises(ValidationError, match="beneficiary_wallet"):
        InitiateSettlement.model_validate(
            {
                "key": "s",
                "settlement_id": "S",
                "client_id": "nord",
                "direction": "export",
                "counterparty": "Acme",
                "country": "DE",
                "contract_reference": "C",
                "asset": "BYN",
                "amount": "1",
                "beneficiary_wallet": "0x123",
            }
        )


def test_an_evm_address_blacklisted_checksummed_is_refused_in_lower_case(state: LedgerState) -> None:
    listed_on = LEDGER_TIME.date() - timedelta(days=1)
    accept(state, BlacklistAddress(key="bl", address=EVM, listed_on=listed_on, reason="mixer"))
    assert_recorded_rejection(state, withdraw(EVM.lower()), "BLACKLISTED_ADDRESS")


def test_an_evm_address_blacklisted_in_lower_case_is_refused_checksummed(state: LedgerState) -> None:
    listed_on = LEDGER_TIME.date() - timedelta(days=1)
    (event,) = apply(state, BlacklistAddress(key="bl", address=EVM.lower(), listed_on=listed_on, reason="m")).events
    assert isinstance(event, AddressBlacklisted)
    assert event.address == EVM
    deposit = Deposit(key="d", client_id="nord", asset="USDT", amount="1", reference="r", wallet_address=EVM)
    assert_recorded_rejection(state, deposit, "BLACKLISTED_ADDRESS")
    assert_recorded_rejection(state, withdraw(EVM, key="w2"), "BLACKLISTED_ADDRESS")


def test_an_address_blacklisted_again_in_another_spelling_already_exists(state: LedgerState) -> None:
    accept(state, BlacklistAddress(key="bl", address=EVM, listed_on=LEDGER_TIME.date(), reason="mixer"))
    again = BlacklistAddress(key="bl2", address=EVM.lower(), listed_on=LEDGER_TIME.date(), reason="mixer")
    assert_refused(state, again, AlreadyExists)


def event_of_an_old_store(address: str, key: str) -> AddressBlacklisted:
    """As a store written before addresses were checked holds it: the raw text."""
    return AddressBlacklisted(
        originator_id=stream_id("address", address),
        originator_version=1,
        timestamp=LEDGER_TIME,
        ledger_time=LEDGER_TIME,
        command_key=key,
        address=address,
        listed_on=LEDGER_TIME.date() - timedelta(days=1),
        reason="old list",
    )


def test_an_old_event_with_a_lower_case_evm_address_is_keyed_by_its_canonical_spelling() -> None:
    state = LedgerState()
    state.evolve(event_of_an_old_store(EVM.lower(), "old-1"))
    assert EVM in state.blacklist
    assert EVM.lower() not in state.blacklist


def test_an_old_event_with_text_that_is_no_address_replays_keyed_by_its_raw_text() -> None:
    state = LedgerState()
    state.evolve(event_of_an_old_store("TMixer000000000001", "old-1"))
    assert "TMixer000000000001" in state.blacklist
    assert LedgerState.restored(state.snapshot()).blacklist == state.blacklist


def test_a_tron_address_is_compared_exactly(state: LedgerState) -> None:
    accept(
        state, BlacklistAddress(key="bl", address=TRON, listed_on=LEDGER_TIME.date() - timedelta(days=1), reason="m")
    )
    assert_recorded_rejection(state, withdraw(TRON), "BLACKLISTED_ADDRESS")
    other = example_address(Network.TRON, "someone else")
    assert apply(state, withdraw(other, key="w2")).violation is None
