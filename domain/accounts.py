"""Account names and the system accounts that make every movement balance.

A client holds one account, with a balance per asset. System accounts are the
other side of value that enters or leaves the bank's books: their balances may
be negative (the issuance account is minus the outstanding supply), while a
client's balance never is.
"""

from __future__ import annotations

from enum import StrEnum

CLIENT_PREFIX = "client:"


class SystemAccount(StrEnum):
    ISSUANCE = "system:issuance"  # minus the outstanding supply of each token
    EXTERNAL = "system:external"  # minus client value deposited from outside
    FEES = "system:fees"  # the bank's fee income
    TREASURY = "system:treasury"  # the bank's own position when it is the counterparty
    IN_TRANSIT = "system:in_transit"  # cross-border value sent but not settled
    SUSPENSE = "system:suspense"  # value held while a question is resolved


def client_account(client_id: str) -> str:
    return CLIENT_PREFIX + client_id


def is_client_account(account: str) -> bool:
    return account.startswith(CLIENT_PREFIX)


def client_of(account: str) -> str:
    assert is_client_account(account), account
    return account[len(CLIENT_PREFIX) :]
