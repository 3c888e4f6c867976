"""One way to provoke each rule code's rejection in the trading world, and the details the supervisor must see.

Every case starts from `tests.world.trading_world` (its commands), runs its
own `before` commands (each must be accepted), then the `command` that is
rejected, with exactly `details` (every field, every value, as strings).
The ledger day is 2026-02-02 (tests.world.LEDGER_TIME, Europe/Minsk).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import NamedTuple

from domain import commands as c
from domain.addresses import Network, example_address
from domain.crossborder import Direction, PartyInfo
from tests.world import LEDGER_TIME

WALLET = example_address(Network.EVM, "a wallet of the rejection cases")
DAY = LEDGER_TIME.date()
FULL = PartyInfo(name="N", account="A", customer_id="C", country="DE")
RATES: list[c.BaseCommand] = [
    c.SetReferenceRate(key=f"rate-{code}", code=code, byn_per_unit=rate, effective_on=DAY)
    for code, rate in (("USD", "3.2000"), ("USDT", "3.2000"), ("EUR", "3.5200"))
]


class Case(NamedTuple):
    before: list[c.BaseCommand]
    command: c.BaseCommand
    details: dict[str, str]


def deposit(client: str, amount: str = "1.00", **fields: object) -> c.Deposit:
    return c.Deposit.model_validate(
        {"key": "provoke", "client_id": client, "asset": "BYN", "amount": amount, "reference": "in", **fields}
    )


def trade(key: str = "provoke", **fields: object) -> c.ExecuteTrade:
    """Nord buys USDT from Jan for BYN with the bank, unless `fields` say otherwise."""
    terms: dict[str, object] = {
        "key": key,
        "buyer_client_id": "nord",
        "seller_client_id": "jan",
        "base_asset": "USDT",
        "base_amount": "1",
        "quote_asset": "BYN",
        "quote_amount": "15.00",
    }
    return c.ExecuteTrade.model_validate(terms | fields)


def settle(client: str, country: str = "DE") -> c.InitiateSettlement:
    return c.InitiateSettlement(
        key="provoke",
        settlement_id="s-1",
        client_id=client,
        direction=Direction.IMPORT,
        counterparty="Far Away GmbH",
        country=country,
        contract_reference="C-1",
        asset="BYN",
        amount="10.00",
        originator=FULL,
        beneficiary=FULL,
    )


def withdraw_usdt(amount: str) -> c.Withdraw:
    return c.Withdraw(
        key="provoke", client_id="jan", asset="USDT", amount=amount, reference="out", wallet_address=WALLET
    )


CASES: dict[str, Callable[[], Case]] = {
    "ISSUER_NOT_LICENSED": lambda: Case(
        [],
        c.IssueTokens(key="provoke", issuer_id="grey-mint", asset="SVT", client_id="alesia", amount="1.00"),
        {"issuer": "grey-mint"},
    ),
    "NOT_ISSUERS_TOKEN": lambda: Case(
        [],
        c.IssueTokens(key="provoke", issuer_id="berezina", asset="SVT", client_id="alesia", amount="1.00"),
        {"issuer": "berezina", "asset": "SVT", "token_issuer": "svislach"},
    ),
    "SUPPLY_CAP_EXCEEDED": lambda: Case(
        [],
        c.IssueTokens(key="provoke", issuer_id="svislach", asset="SVT", client_id="alesia", amount="700.01"),
        {"asset": "SVT", "requested": "700.01", "cap": "1000.00", "outstanding": "300.00"},
    ),
    "KYC_NOT_VERIFIED": lambda: Case([], deposit("pending"), {"client": "pending", "kyc": "pending"}),
    "KYC_REVOKED": lambda: Case(
        [c.RevokeKyc(key="revoke", client_id="alesia", reason="stale documents")],
        deposit("alesia"),
        {"client": "alesia"},
    ),
    "KYC_EXPIRED": lambda: Case(
        [c.VerifyKyc(key="review", client_id="ivan", expires_on=DAY + timedelta(days=1))],
        deposit("ivan", ledger_time=LEDGER_TIME + timedelta(days=1)),
        {"client": "ivan", "expired_on": "2026-02-03"},
    ),
    "CLIENT_FROZEN": lambda: Case(
        [c.FreezeClient(key="freeze", client_id="alesia", reason="court order 7")],
        deposit("alesia"),
        {"client": "alesia", "reason": "court order 7"},
    ),
    "CLIENT_OFFBOARDED": lambda: Case(
        [c.OffboardClient(key="leave", client_id="pending", reason="left")],
        deposit("pending"),
        {"client": "pending"},
    ),
    "BALANCE_NOT_ZERO": lambda: Case(
        [],
        c.OffboardClient(key="provoke", client_id="alesia", reason="left"),
        {"client": "alesia", "balances": "100.00 BYN, 300.00 SVT"},
    ),
    "ISSUER_LICENCE_REVOKED": lambda: Case(
        [c.RevokeIssuerLicence(key="revoke", issuer_id="svislach", reason="NBRB decision")],
        c.IssueTokens(key="provoke", issuer_id="svislach", asset="SVT", client_id="alesia", amount="1.00"),
        {"issuer": "svislach", "asset": "SVT"},
    ),
    "ALREADY_REVERSED": lambda: Case(
        [c.ReverseTransaction(key="first-fix", original_key="fund-byn", reason="typo", reference="T-1")],
        c.ReverseTransaction(key="provoke", original_key="fund-byn", reason="typo", reference="T-2"),
        {"original": "fund-byn", "reversal": "first-fix"},
    ),
    "NOT_REVERSIBLE": lambda: Case(
        [],
        c.ReverseTransaction(key="provoke", original_key="venue-minsk", reason="typo", reference="T-1"),
        {"original": "venue-minsk", "original_type": "list_venue", "why": "it made no postings"},
    ),
    "INSUFFICIENT_FUNDS": lambda: Case(
        [],
        c.Withdraw(key="provoke", client_id="alesia", asset="BYN", amount="100.01", reference="out"),
        {"account": "client:alesia", "asset": "BYN", "requested": "100.01", "available": "100.00"},
    ),
    "TOKEN_OUTSIDE_LEDGER": lambda: Case(
        [],
        trade(
            venue_id="minsk-htp",
            buyer_client_id="alesia",
            seller_client_id=None,
            base_asset="SVT",
            base_amount="5.00",
            quote_amount="10.00",
        ),
        {"asset": "SVT", "venue": "minsk-htp", "side": "deliver", "amount": "5.00"},
    ),
    "VENUE_NOT_LISTED": lambda: Case(
        [c.DelistVenue(key="delist", venue_id="grodno-x", reason="licence lapsed")],
        trade(venue_id="grodno-x"),
        {"venue": "grodno-x"},
    ),
    "FOREIGN_VENUE_FORBIDDEN": lambda: Case(
        [],
        trade(venue_id="offshore", buyer_client_id="alesia", seller_client_id=None),
        {"client": "alesia", "residency": "resident", "kind": "individual", "venue": "offshore"},
    ),
    "ASSET_NOT_LISTED_ON_VENUE": lambda: Case(
        [],
        trade(venue_id="grodno-x", buyer_client_id="nord", seller_client_id="alesia", base_asset="SVT"),
        {"venue": "grodno-x", "asset": "SVT"},
    ),
    "CLIENT_VOLUME_CAP_EXCEEDED": lambda: Case(
        [c.SetVolumeCap(key="cap", client_id="nord", asset="BYN", daily_cap="30.00"), trade("earlier")],
        trade(quote_amount="15.01"),
        {
            "client": "nord",
            "asset": "BYN",
            "day": "2026-02-02",
            "requested": "15.01",
            "cap": "30.00",
            "used": "15.00",
        },
    ),
    "BANK_VOLUME_CAP_EXCEEDED": lambda: Case(
        [c.SetVolumeCap(key="cap", asset="BYN", daily_cap="20.00"), trade("earlier")],
        trade(quote_amount="5.01"),
        {"asset": "BYN", "day": "2026-02-02", "requested": "5.01", "cap": "20.00", "used": "15.00"},
    ),
    "BLACKLISTED_ADDRESS": lambda: Case(
        [c.BlacklistAddress(key="list", address=WALLET, listed_on=DAY - timedelta(days=1), reason="OFAC")],
        c.Deposit(key="provoke", client_id="jan", asset="USDT", amount="5", reference="in", wallet_address=WALLET),
        {"address": WALLET, "effective": "2026-02-02"},
    ),
    "TRAVEL_RULE_INCOMPLETE": lambda: Case(
        RATES,
        withdraw_usdt("1000"),
        {"value_usd": "1000.00", "threshold_usd": "1000.00", "missing": "ivms101 (originator and beneficiary)"},
    ),
    "SELF_HOSTED_WALLET_UNVERIFIED": lambda: Case(
        [*RATES, c.SetComplianceSettings(key="settings", self_hosted_proof_threshold_eur="300")],
        withdraw_usdt("500"),  # 1,600 BYN: 454.55 EUR, below the travel rule's USD 1,000
        {"value_eur": "454.55", "threshold_eur": "300.00", "wallet": WALLET, "client": "jan"},
    ),
    "BLOCKED_JURISDICTION": lambda: Case(
        [c.BlockJurisdiction(key="block", country="IR", reason="UN sanctions")],
        settle("nord", country="IR"),
        {"country": "IR", "reason": "UN sanctions"},
    ),
    "SETTLEMENT_NOT_PERMITTED": lambda: Case(
        [],
        settle("alesia"),
        {"client": "alesia", "kind": "individual", "permitted": "company, self_employed"},
    ),
}
"""Each rule code's case, by its code (tests/unit/test_rejection_details.py demands one for every code)."""
