"""Account names: a stored contract (every posting names its account), pinned
by literal value, and which accounts hold real value."""

from __future__ import annotations

import pytest

from domain.accounts import (
    BANK_HOLDINGS,
    CLIENT_PREFIX,
    SystemAccount,
    client_account,
    client_of,
    is_client_account,
    is_holding_account,
)


def test_the_account_names_have_their_stored_values() -> None:
    assert CLIENT_PREFIX == "client:"
    assert {account.name: account.value for account in SystemAccount} == {
        "ISSUANCE": "system:issuance",
        "EXTERNAL": "system:external",
        "FEES": "system:fees",
        "TREASURY": "system:treasury",
        "IN_TRANSIT": "system:in_transit",
        "SUSPENSE": "system:suspense",
    }


def test_a_client_s_account_is_its_id_after_the_client_prefix_and_back() -> None:
    assert client_account("alesia") == "client:alesia"
    assert client_of("client:alesia") == "alesia"
    assert client_of("client:client:x") == "client:x"  # only the prefix is taken off


def test_only_a_name_starting_with_the_client_prefix_is_a_client_s_account() -> None:
    assert is_client_account("client:nord")
    assert not is_client_account("system:fees")
    assert not is_client_account("xclient:nord")
    assert not is_client_account("Client:nord")


def test_the_client_of_a_system_account_is_not_asked_for() -> None:
    with pytest.raises(AssertionError, match="system:treasury"):
        client_of("system:treasury")


def test_clients_the_treasury_and_fees_hold_value_and_the_other_system_accounts_do_not() -> None:
    assert sorted(BANK_HOLDINGS) == ["system:fees", "system:treasury"]
    assert [is_holding_account(account) for account in ("client:nord", "system:treasury", "system:fees")] == [
        True,
        True,
        True,
    ]
    others = ("system:issuance", "system:external", "system:in_transit", "system:suspense", "xclient:nord")
    assert [is_holding_account(account) for account in others] == [False] * len(others)
