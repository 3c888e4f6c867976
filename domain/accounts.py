"""Account names and the system accounts that make every movement balance.

A client holds one account, with a balance per asset. System accounts are the
other side of value that enters or leaves the bank's books: their balances may
be negative (the issuance account is minus the outstanding supply). Holding
accounts are the ones that hold real value and never go below zero: every
client's, and the bank's own treasury (its position when it is a trade's
counterparty, funded by `fund_treasury` or by what it buys from clients) and
its fee income. A token's supply is always exactly what they hold.
"""

from __future__ import annotations

from enum import StrEnum

CLIENT_PREFIX = "client:"


class SystemAccount(StrEnum):
    ISSUANCE = "system:issuance"  # minus the outstanding supply of each token
    EXTERNAL = "system:external"  # minus client value deposited from outside
    FEES = "system:fees"  # the bank's fee income
    TREASURY = "system:treasury"  # the bank's own holdings, its side of a trade with the bank; never negative
    IN_TRANSIT = "system:in_transit"  # cross-border value sent but not settled
    SUSPENSE = "system:suspense"  # value held while a question is resolved


def client_account(client_id: str) -> str:
    return CLIENT_PREFIX + client_id


def is_client_account(account: str) -> bool:
    return account.startswith(CLIENT_PREFIX)


# The bank's own holdings: its treasury, and the fees it has earned (which
# only ever receive).
BANK_HOLDINGS = frozenset({SystemAccount.TREASURY.value, SystemAccount.FEES.value})


def is_holding_account(account: str) -> bool:
    """A client's account or one of the bank's own: balances never below zero."""
    return account.startswith(CLIENT_PREFIX) or account in BANK_HOLDINGS


def client_of(account: str) -> str:
    assert is_client_account(account), account
    return account[len(CLIENT_PREFIX) :]
