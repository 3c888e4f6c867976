"""Compliance, exactly: the refusals' whole messages, the refusals no
spelling escapes, and the streams its events are stored in (a stored contract)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest

from domain.addresses import Network, example_address
from domain.commands import (
    BlacklistAddress,
    BlockJurisdiction,
    ExecuteTrade,
    RemoveFromBlacklist,
    SetComplianceSettings,
    SetReferenceRate,
    UnblockJurisdiction,
    VerifyWalletOwnership,
)
from domain.errors import (
    AddressNotBlacklisted,
    AlreadyExists,
    BynRateFixed,
    ChangedBeforeLastChange,
    InvalidRate,
    InvalidSetting,
    JurisdictionNotBlocked,
    RemovalNotAfterListing,
)
from domain.state import LedgerState
from tests.unit.test_rules import assert_refused
from tests.world import LEDGER_TIME, accept, trading_world

HOUR = timedelta(hours=1)
ADDRESS = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
WALLET = example_address(Network.EVM, "a proven wallet")
ADDRESS_STREAM = UUID("18f663dd-a4c3-5d9d-835b-e6b67e4e5400")  # stream_id("address", ADDRESS)
WALLET_STREAM = UUID("d7e3872c-3b99-5208-bd2b-9a42021cf5ea")  # stream_id("wallet", f"jan:{WALLET}")
RU_STREAM = UUID("f092d559-3381-530d-b21b-8e8acbff0625")  # stream_id("jurisdiction", "RU")
AML_STREAM = UUID("255a2755-d90a-54cb-8bbd-80af37c6ab08")  # stream_id("aml", "big:alesia")


@pytest.fixture
def state() -> LedgerState:
    return trading_world()


def blacklisting(key: str = "bl") -> BlacklistAddress:
    return BlacklistAddress(key=key, address=ADDRESS, listed_on=date(2026, 2, 1), reason="sanctions")


def removal(key: str = "rm", removed_on: date = date(2026, 2, 2)) -> RemoveFromBlacklist:
    return RemoveFromBlacklist(key=key, address=ADDRESS, removed_on=removed_on, reason="delisted")


def proof(key: str = "proof") -> VerifyWalletOwnership:
    return VerifyWalletOwnership(
        key=key, client_id="jan", wallet_address=WALLET, method="signed_message", reference="sig-1"
    )


def test_an_address_s_listing_and_removal_are_stored_in_the_address_s_own_stream(state: LedgerState) -> None:
    (listed,) = accept(state, blacklisting())
    (removed,) = accept(state, removal())
    assert [(event.originator_id, event.originator_version) for event in (listed, removed)] == [
        (ADDRESS_STREAM, 1),
        (ADDRESS_STREAM, 2),
    ]


def test_a_jurisdiction_s_blocking_and_unblocking_are_stored_in_its_own_stream(state: LedgerState) -> None:
    (blocked,) = accept(state, BlockJurisdiction(key="b", country="RU", reason="sanctions"))
    (unblocked,) = accept(state, UnblockJurisdiction(key="u", country="RU", reason="lifted"))
    assert [(event.originator_id, event.originator_version) for event in (blocked, unblocked)] == [
        (RU_STREAM, 1),
        (RU_STREAM, 2),
    ]


def test_a_wallet_proof_is_stored_in_the_client_s_wallet_stream(state: LedgerState) -> None:
    (event,) = accept(state, proof())
    assert (event.originator_id, event.originator_version) == (WALLET_STREAM, 1)


def test_an_aml_notice_is_stored_in_a_stream_of_its_command_and_client(state: LedgerState) -> None:
    accept(state, SetComplianceSettings(key="s", aml_individual_base_units="1", base_unit_byn="10"))
    trade = {"key": "big", "venue_id": "minsk-htp", "buyer_client_id": "alesia", "seller_client_id": "nord"}
    trade |= {"base_asset": "USDT", "base_amount": "10", "quote_asset": "BYN", "quote_amount": "33.00"}
    _, notice = accept(state, ExecuteTrade.model_validate(trade))
    assert (notice.originator_id, notice.originator_version) == (AML_STREAM, 1)


def test_proving_a_wallet_twice_is_refused_naming_the_client_and_the_wallet(state: LedgerState) -> None:
    accept(state, proof())
    assert_refused(state, proof("again"), AlreadyExists, rf"^wallet proof 'jan:{WALLET}' already exists$")


def test_blacklisting_a_listed_address_again_is_refused_naming_it(state: LedgerState) -> None:
    accept(state, blacklisting())
    assert_refused(state, blacklisting("again"), AlreadyExists, rf"^blacklisted address '{ADDRESS}' already exists$")


def test_removing_an_address_not_on_the_blacklist_is_refused_naming_it(state: LedgerState) -> None:
    message = rf"^invalid command: wallet address '{ADDRESS}' is not on the blacklist: nothing to remove$"
    assert_refused(state, removal(), AddressNotBlacklisted, message)


def test_a_removal_dated_on_the_listing_day_is_refused_naming_both_days(state: LedgerState) -> None:
    accept(state, blacklisting())
    message = (
        rf"^invalid command: wallet address '{ADDRESS}' was blacklisted on 2026-02-01: "
        r"its removal must be dated after that, not 2026-02-01$"
    )
    assert_refused(state, removal(removed_on=date(2026, 2, 1)), RemovalNotAfterListing, message)


def test_blocking_a_blocked_jurisdiction_again_is_refused_naming_it(state: LedgerState) -> None:
    accept(state, BlockJurisdiction(key="b1", country="RU", reason="sanctions"))
    again = BlockJurisdiction(key="b2", country="RU", reason="sanctions")
    assert_refused(state, again, AlreadyExists, r"^blocked jurisdiction 'RU' already exists$")


def test_unblocking_a_jurisdiction_not_blocked_is_refused_naming_it(state: LedgerState) -> None:
    message = r"^invalid command: settlements to RU are not blocked: nothing to unblock$"
    assert_refused(state, UnblockJurisdiction(key="u", country="RU", reason="x"), JurisdictionNotBlocked, message)


def test_no_reference_rate_can_be_set_for_byn(state: LedgerState) -> None:
    command = SetReferenceRate(key="r", code="BYN", byn_per_unit="1", effective_on=date(2026, 2, 2))
    assert_refused(state, command, BynRateFixed, r"^invalid command: BYN is the unit of the rate table")


@pytest.mark.parametrize(
    "name",
    [
        "travel_rule_threshold_usd",
        "aml_individual_base_units",
        "aml_company_base_units",
        "base_unit_byn",
        "self_hosted_proof_threshold_eur",
    ],
)
def test_a_setting_of_more_whole_digits_than_a_rate_holds_is_refused_naming_the_setting_and_its_text(
    state: LedgerState, name: str
) -> None:
    too_long = "1" + "0" * 13  # a rate holds at most 12 whole digits (RATE_DIGITS_MAX)
    command = SetComplianceSettings.model_validate({"key": "s", name: too_long})
    message = rf"^invalid command: {name} '{too_long}' is not a plain decimal like '1000'$"
    assert_refused(state, command, InvalidSetting, message)


def test_a_jurisdiction_s_change_dated_before_its_last_change_is_refused_naming_it(state: LedgerState) -> None:
    accept(state, BlockJurisdiction(key="b1", country="RU", reason="sanctions", ledger_time=LEDGER_TIME + HOUR))
    early = UnblockJurisdiction(key="u1", country="RU", reason="lifted", ledger_time=LEDGER_TIME + HOUR / 2)
    message = (
        r"^invalid command: jurisdiction RU last changed with effect from 2026-02-02T10:00:00\+00:00; "
        r"a change with effect from 2026-02-02T09:30:00\+00:00 would come before it$"
    )
    assert_refused(state, early, ChangedBeforeLastChange, message)
    accept(state, UnblockJurisdiction(key="u2", country="RU", reason="lifted", ledger_time=LEDGER_TIME + 2 * HOUR))
    again = BlockJurisdiction(key="b2", country="RU", reason="sanctions", ledger_time=LEDGER_TIME + 1.5 * HOUR)
    assert_refused(state, again, ChangedBeforeLastChange, r"^invalid command: jurisdiction RU last changed")


def test_a_zero_reference_rate_is_refused_saying_why(state: LedgerState) -> None:
    command = SetReferenceRate(key="r0", code="USD", byn_per_unit="0.0000", effective_on=date(2026, 2, 2))
    assert_refused(state, command, InvalidRate, r"^invalid command: rate '0.0000' must be greater than zero$")


def test_an_address_listed_again_with_effect_before_its_removal_is_refused_naming_it(state: LedgerState) -> None:
    accept(state, blacklisting())
    accept(state, removal(removed_on=date(2026, 2, 10)))
    early = BlacklistAddress(key="bl2", address=ADDRESS, listed_on=date(2026, 2, 5), reason="sanctions again")
    message = (
        rf"^invalid command: address '{ADDRESS}' last changed with effect from 2026-02-10; "
        r"a change with effect from 2026-02-06 would come before it$"
    )
    assert_refused(state, early, ChangedBeforeLastChange, message)
    accept(state, early.model_copy(update={"key": "bl3", "listed_on": date(2026, 2, 9)}))
