"""Random command sequences against an oracle: the ledger moves value exactly where a plain model says.

Each step is drawn from the oracle's state (a trade at a volume cap needs to
know the day's volume), applied to the ledger's decision state through
`handle` (the in-memory path of the other property tests) and to the oracle
(tests/oracle.py). After every step both give the same outcome (accepted, or
the same code) and the same balance map, to the minor unit; a refused
command changes neither. The sequences hold clean and blacklisted wallets,
every compliance setting that decides an outcome, reference rates changing
over ledger days, the trading policy, and trades exactly at a volume cap and
one minor unit past it.

Checked by hand against mutations of the domain (each made the test fail): a
fee-less trade charging one minor unit; the buyer's side dropped from the
client volume cap, or the buyer's volume never counted; a trade exactly at the
bank's cap refused; deposits not checked against the blacklist; the travel
rule blind to the originator's gaps (withdrawals, settlements); the
resident-companies policy flag dropped; a venue's far side booked to the
treasury. The blacklist check with `or` turned into `and` is equivalent here
(an address never listed has no history to refuse it by).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain import commands as c
from domain.addresses import Network, example_address
from domain.crossborder import Direction, PartyInfo
from domain.decide import Stamp, handle
from domain.errors import InvalidCommand
from domain.money import AssetKind
from domain.parties import ClientKind, VenueKind
from domain.state import LedgerState, RememberedHistory
from tests.oracle import Oracle, Refused
from tests.world import LEDGER_TIME, funding_commands, setup_commands, trading_commands

CLIENTS = ["alesia", "nord", "jan", "ivan", "pending"]
TRADERS = ["alesia", "nord", "jan", "ivan"] * 3 + ["pending"]
SETTLERS = ["nord", "ivan"] * 3 + ["alesia", "jan"]
VENUES = {
    "minsk-htp": VenueKind.HTP_PLATFORM,
    "grodno-x": VenueKind.HTP_EXCHANGE_OPERATOR,
    "offshore": VenueKind.FOREIGN_EXCHANGE,
}
SCALES = {"BYN": 2, "USDT": 6, "SVT": 2, "BRZ": 0}
WALLETS = [example_address(Network.EVM, "clean"), example_address(Network.TRON, "clean")]
LISTED = [example_address(Network.EVM, "listed"), example_address(Network.BITCOIN, "listed")]
ALL_WALLETS = WALLETS + LISTED
FULL = PartyInfo(name="N", account="A", customer_id="C", country="DE")
UNIDENTIFIED = PartyInfo(name="N", account="A", country="DE")
RATES = ["3.2000", "2.9500", "3.5200", "1", "0.4"]
ORIGINATOR: dict[str, Any] = {
    "originator_persons": [
        {"natural_person": {"name": {"primary_identifier": "Novak"}, "customer_identification": "j"}}
    ],
    "account_number": ["client:jan"],
}
VASP = {"legal_person": {"name": {"legal_person_name": "Kraken Ltd"}}}


def text(minor: int, code: str) -> str:
    scale = SCALES[code]
    return str(minor) if scale == 0 else f"{minor // 10**scale}.{minor % 10**scale:0{scale}d}"


def ivms101(shape: str, wallet: str) -> dict[str, Any] | None:
    """Travel-rule data of a withdrawal to `wallet`: none, complete (self-hosted or to a VASP), or with one gap."""
    if shape == "none":
        return None
    beneficiary = {"beneficiary_persons": [{"natural_person": {"name": {"primary_identifier": "B"}}}]}
    payload: dict[str, Any] = {
        "originator": ORIGINATOR,
        "beneficiary": {**beneficiary, "account_number": [wallet]},
    }
    if shape == "vasp":
        payload["beneficiary_vasp"] = {"beneficiary_vasp": VASP}
    elif shape == "originator gap":
        payload["originator"] = {**ORIGINATOR, "account_number": []}
    elif shape == "other wallet":
        payload["beneficiary"] = {**beneficiary, "account_number": [WALLETS[0] if wallet != WALLETS[0] else LISTED[0]]}
    return payload


class Steps:
    """Draws the next command from what the oracle knows."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any], oracle: Oracle) -> None:
        self.draw, self.oracle, self.count = draw, oracle, 0
        self.keys: list[str] = ["fund-byn", "fund-svt", "fund-nord-usdt", "venue-minsk"]

    def pick(self, values: Any) -> Any:
        return self.draw(st.sampled_from(list(values)))

    def amount(self, code: str, units_max: int = 300) -> str:
        whole = self.draw(st.integers(min_value=0, max_value=units_max))
        part = self.draw(st.sampled_from([0, 0, 1, 10 ** SCALES[code] // 2])) if SCALES[code] else 0
        return text(max(1, whole * 10 ** SCALES[code] + part), code)

    def next(self, moment: datetime) -> c.BaseCommand:
        self.count += 1
        key = f"step-{self.count}"
        self.keys.append(key)
        kind = self.pick(KINDS)
        command: c.BaseCommand = getattr(self, kind)(key, moment)
        return command

    def deposit(self, key: str, _: datetime) -> c.BaseCommand:
        asset = self.pick(["BYN", "USDT", "USDT", "BYN", "USDT", "SVT"])
        wallet = self.pick([None, *ALL_WALLETS]) if asset == "USDT" else None
        client, amount = self.pick(TRADERS), self.amount(asset)
        return c.Deposit(key=key, client_id=client, asset=asset, amount=amount, reference="in", wallet_address=wallet)

    def withdraw(self, key: str, moment: datetime) -> c.BaseCommand:
        asset = self.pick(["BYN", "USDT", "USDT"])
        client, amount = self.pick(TRADERS), self.amount(asset, 1200 if asset == "USDT" else 100)
        if asset == "BYN":
            return c.Withdraw(key=key, client_id=client, asset=asset, amount=amount, reference="out")
        if self.draw(st.booleans()):
            amount = self.at_threshold(asset, moment) or amount
        wallet = self.pick(ALL_WALLETS)
        payload = ivms101(self.pick(["none", "complete", "vasp", "originator gap", "other wallet"]), wallet)
        fields = {"client_id": client, "asset": asset, "amount": amount, "reference": "out"}
        return c.Withdraw.model_validate({"key": key, **fields, "wallet_address": wallet, "ivms101": payload})

    def transfer(self, key: str, _: datetime) -> c.BaseCommand:
        asset = self.pick(SCALES)
        source, target = self.pick(CLIENTS), self.pick(CLIENTS)
        amount = self.amount(asset, 100)
        return c.Transfer(key=key, source_client_id=source, target_client_id=target, asset=asset, amount=amount)

    def fund_treasury(self, key: str, _: datetime) -> c.BaseCommand:
        asset = self.pick(["BYN", "USDT"])
        wallet = self.pick([None, *ALL_WALLETS]) if asset == "USDT" else None
        return c.FundTreasury(key=key, asset=asset, amount=self.amount(asset), reference="t", wallet_address=wallet)

    def issue(self, key: str, _: datetime) -> c.BaseCommand:
        token = self.pick(["SVT", "BRZ"])
        issuer = self.pick(["svislach", "berezina", "grey-mint"])
        command = self.pick([c.IssueTokens, c.IssueTokens, c.RedeemTokens])
        amount = self.amount(token, 200)
        made: c.BaseCommand = command(
            key=key, issuer_id=issuer, asset=token, client_id=self.pick(CLIENTS), amount=amount
        )
        return made

    def trade(self, key: str, moment: datetime) -> c.BaseCommand:
        venue = self.pick([None, None, *VENUES])
        buyer, seller = self.pick([*TRADERS, None, None]), self.pick([*TRADERS, None, None])
        base, quote = self.pick([("USDT", "BYN"), ("USDT", "BYN"), ("SVT", "BYN"), ("BYN", "USDT"), ("SVT", "USDT")])
        quote_amount = self.amount(quote, 60)
        if self.pick([True, True, False]):
            quote_amount = self.at_cap(buyer, seller, quote, moment) or quote_amount
        fee = self.pick(["0", "0.0", text(1, quote), self.amount(quote, 2)])
        return c.ExecuteTrade(
            key=key,
            venue_id=venue,
            buyer_client_id=buyer,
            seller_client_id=seller,
            base_asset=base,
            base_amount=self.amount(base, 50),
            quote_asset=quote,
            quote_amount=quote_amount,
            fee=fee,
        )

    def capped_trade(self, key: str, moment: datetime) -> c.BaseCommand:
        """A trade of a capped client (Nord in BYN, Jan in USDT) on either side, at its cap or one unit past it."""
        client, base, quote = self.pick([("nord", "USDT", "BYN"), ("jan", "BYN", "USDT")])
        other = self.pick([None, None, "alesia", "ivan"])
        buyer, seller = (client, other) if self.draw(st.booleans()) else (other, client)
        day = moment.astimezone(self.oracle.zone).date()
        cap = self.oracle.caps.get((client, quote), 0)
        minor = max(1, cap - self.oracle.volumes[(client, quote, day)] + self.pick([0, 1]))
        if self.draw(st.booleans()):
            minor = max(1, minor // 2)  # half way: the next one reaches the cap
        return c.ExecuteTrade(
            key=key,
            venue_id=self.pick([None, None, "minsk-htp"]),
            buyer_client_id=buyer,
            seller_client_id=seller,
            base_asset=base,
            base_amount=self.amount(base, 5),
            quote_asset=quote,
            quote_amount=text(minor, quote),
            fee=self.pick(["0", text(1, quote)]),
        )

    def at_cap(self, buyer: str | None, seller: str | None, quote: str, moment: datetime) -> str | None:
        """A quote amount that brings a capped scope's day exactly to its cap, or one minor unit past it."""
        day = moment.astimezone(self.oracle.zone).date()
        scopes = [scope for scope in ("bank", buyer, buyer, seller, seller) if (scope, quote) in self.oracle.caps]
        if not scopes:
            return None
        scope = self.pick(scopes)
        remaining = self.oracle.caps[(scope, quote)] - self.oracle.volumes[(scope, quote, day)]
        minor = remaining + self.pick([0, 1])
        return text(minor, quote) if minor > 0 else None

    def at_threshold(self, asset: str, moment: datetime) -> str | None:
        """An amount worth exactly a crypto withdrawal's threshold (the travel rule's in USD, the
        self-hosted wallet's in EUR) at the day's rates, or one minor unit past it; None where
        the rates are missing or make no whole number of minor units of it."""
        day = moment.astimezone(self.oracle.zone).date()
        currency, threshold = self.pick([("USD", self.oracle.travel_rule_usd), ("EUR", self.oracle.self_hosted_eur)])
        try:
            minor = threshold / self.oracle.value_in(currency, asset, 1, day)
        except Refused:
            return None
        if minor.denominator != 1 or minor <= 0:
            return None
        return text(int(minor) + self.pick([0, 1]), asset)

    def volume_cap(self, key: str, _: datetime) -> c.BaseCommand:
        asset = self.pick(["BYN", "USDT"])
        client = self.pick([None, None, *CLIENTS[:4]])
        return c.SetVolumeCap(key=key, client_id=client, asset=asset, daily_cap=self.amount(asset, 80))

    def venue(self, key: str, _: datetime) -> c.BaseCommand:
        venue = self.pick(VENUES)
        if self.draw(st.booleans()):
            return c.DelistVenue(key=key, venue_id=venue, reason="review")
        assets = self.pick([["BYN", "USDT"], ["BYN", "USDT", "SVT"]])
        return c.ListVenue(key=key, venue_id=venue, name=venue, kind=VENUES[venue], assets=assets)

    def policy(self, key: str, _: datetime) -> c.BaseCommand:
        non_residents, companies = self.draw(st.booleans()), self.draw(st.booleans())
        return c.SetTradingPolicy(
            key=key, non_residents_on_foreign_venues=non_residents, resident_companies_on_foreign_venues=companies
        )

    def blacklist(self, key: str, moment: datetime) -> c.BaseCommand:
        wallet = self.pick(ALL_WALLETS)
        day = moment.astimezone(self.oracle.zone).date() + timedelta(days=self.pick([-1, 0, 1, 2]))
        if self.draw(st.booleans()):
            return c.BlacklistAddress(key=key, address=wallet, listed_on=day, reason="sanctions")
        return c.RemoveFromBlacklist(key=key, address=wallet, removed_on=day, reason="cleared")

    def wallet_proof(self, key: str, _: datetime) -> c.BaseCommand:
        client, wallet = self.pick(CLIENTS), self.pick(ALL_WALLETS)
        return c.VerifyWalletOwnership(
            key=key, client_id=client, wallet_address=wallet, method="signed_message", reference="sig"
        )

    def rate(self, key: str, moment: datetime) -> c.BaseCommand:
        code = self.pick(["USDT", "USDT", "USD", "EUR", "SVT"])
        day = moment.astimezone(self.oracle.zone).date() + timedelta(days=self.pick([-1, 0, 0, 1]))
        return c.SetReferenceRate(key=key, code=code, byn_per_unit=self.pick(RATES), effective_on=day)

    def compliance(self, key: str, _: datetime) -> c.BaseCommand:
        kinds = self.draw(st.lists(st.sampled_from(list(ClientKind)), max_size=3, unique=True))
        return c.SetComplianceSettings(
            key=key,
            travel_rule_threshold_usd=self.pick(["1000", "1000", "300", "0", "5000"]),
            self_hosted_proof_threshold_eur=self.pick([None, "1000", "250", "0", "9000"]),
            aml_individual_base_units=self.pick(["2000", "10"]),
            aml_company_base_units=self.pick(["20000", "10"]),
            aml_window_hours=self.pick([None, 1, 48]),
            settling_kinds=kinds,
        )

    def client_status(self, key: str, _: datetime) -> c.BaseCommand:
        client = self.pick(CLIENTS)
        command = self.pick([c.FreezeClient, c.UnfreezeClient, c.UnfreezeClient, c.RevokeKyc])
        if self.draw(st.booleans()):
            return c.VerifyKyc(key=key, client_id=client)
        return command(key=key, client_id=client, reason="review")  # type: ignore[no-any-return]

    def licence(self, key: str, _: datetime) -> c.BaseCommand:
        return c.RevokeIssuerLicence(key=key, issuer_id=self.pick(["svislach", "grey-mint"]), reason="revoked")

    def jurisdiction(self, key: str, _: datetime) -> c.BaseCommand:
        command = self.pick([c.BlockJurisdiction, c.UnblockJurisdiction])
        return command(key=key, country=self.pick(["AE", "DE"]), reason="sanctions")  # type: ignore[no-any-return]

    def settlement(self, key: str, _: datetime) -> c.BaseCommand:
        settlement_id = self.pick(["s1", "s2", "s3"])
        roll = self.pick(["initiate", "initiate", "return", "close"])
        if roll == "return":
            asset = self.oracle.settlements.get(settlement_id, {}).get("asset", "BYN")
            amount = self.amount(asset, 150)
            return c.ReturnSettlementFunds(key=key, settlement_id=settlement_id, amount=amount, reference="r")
        if roll == "close":
            return c.CloseSettlementByDelivery(key=key, settlement_id=settlement_id, delivery_reference="d")
        asset = self.pick(["BYN", "USDT", "USDT", "SVT"])
        return c.InitiateSettlement(
            key=key,
            settlement_id=settlement_id,
            client_id=self.pick(SETTLERS),
            direction=self.pick(Direction),
            counterparty="Far Away GmbH",
            country=self.pick(["DE", "AE"]),
            contract_reference="C-1",
            asset=asset,
            amount=self.amount(asset, 120),
            originator=self.pick([FULL, FULL, UNIDENTIFIED, PartyInfo()]),
            beneficiary=self.pick([FULL, FULL, UNIDENTIFIED]),
            beneficiary_wallet=self.pick([None, None, *ALL_WALLETS]),
        )

    def reversal(self, key: str, _: datetime) -> c.BaseCommand:
        original = self.pick(self.keys[:-1])
        return c.ReverseTransaction(key=key, original_key=original, reason="fix", reference="T-1")


KINDS = (
    ["deposit"] * 3
    + ["withdraw"] * 3
    + ["transfer"] * 2
    + ["trade"] * 5
    + ["capped_trade"] * 3
    + ["volume_cap"] * 2
    + ["issue", "fund_treasury", "venue", "policy", "blacklist", "wallet_proof", "rate", "compliance"]
    + ["client_status", "licence", "jurisdiction", "settlement", "settlement", "reversal", "reversal"]
)


def preamble() -> list[c.BaseCommand]:
    """The world of tests/world.py, with rates, a funded treasury, a blacklisted wallet and a bank cap."""
    day = LEDGER_TIME.date()
    return [
        *setup_commands(),
        *funding_commands(),
        *trading_commands(),
        *(
            c.SetReferenceRate(key=f"rate-{code}", code=code, byn_per_unit=rate, effective_on=day)
            for code, rate in (("USD", "3.2000"), ("USDT", "3.2000"), ("EUR", "3.5200"))
        ),
        c.FundTreasury(key="treasury-byn", asset="BYN", amount="500", reference="capital"),
        c.FundTreasury(key="treasury-usdt", asset="USDT", amount="500", reference="capital"),
        c.BlacklistAddress(key="listed", address=LISTED[0], listed_on=day - timedelta(days=1), reason="sanctions"),
        c.SetVolumeCap(key="bank-cap", asset="BYN", daily_cap="150.00"),
        c.SetVolumeCap(key="nord-cap", client_id="nord", asset="BYN", daily_cap="30.00"),
        c.SetVolumeCap(key="jan-cap", client_id="jan", asset="USDT", daily_cap="100"),
        c.SetComplianceSettings(key="settings", travel_rule_threshold_usd="500", self_hosted_proof_threshold_eur="300"),
    ]


def ledger_step(state: LedgerState, command: c.BaseCommand, moment: datetime) -> str | None:
    """The command through the decider, as the write path runs it: None when accepted, else its code."""
    try:
        outcome = handle(state, command, Stamp(moment, moment, command.key))
    except InvalidCommand as error:
        return error.code
    state.evolve_all(outcome.events)
    assert isinstance(state.history, RememberedHistory)
    state.history.remember(outcome.events)
    return None if outcome.violation is None else outcome.violation.rule


def nonzero(balances: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    return {key: amount for key, amount in balances.items() if amount}


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_every_balance_after_random_commands_is_what_the_oracle_predicts(data: st.DataObject) -> None:
    state, oracle = LedgerState(), Oracle()
    state.history = RememberedHistory()
    for command in preamble():
        assert ledger_step(state, command, LEDGER_TIME) is None, command
        assert oracle.step(command, LEDGER_TIME) is None, command
    assert nonzero(state.balances) == oracle.nonzero_balances()
    steps, moment = Steps(data.draw, oracle), LEDGER_TIME
    for _ in range(data.draw(st.integers(min_value=1, max_value=40))):
        moment += timedelta(hours=data.draw(st.sampled_from([0, 0, 0, 2, 7, 24, 27])))
        command = steps.next(moment)
        before = nonzero(state.balances)
        outcome = ledger_step(state, command, moment)
        predicted = oracle.step(command, moment)
        event(f"{command.command_type}: {outcome or 'accepted'}")
        assert outcome == predicted, (command, outcome, predicted)
        assert nonzero(state.balances) == oracle.nonzero_balances(), command
        if outcome is not None:
            assert nonzero(state.balances) == before, command


def test_the_oracle_sees_a_trade_at_the_bank_cap_accepted_and_one_unit_past_it_rejected() -> None:
    """A check of the oracle itself, on the preamble's bank cap of 150.00 BYN."""
    oracle = Oracle()
    for command in preamble():
        assert oracle.step(command, LEDGER_TIME) is None, command

    def trade(key: str, quote: str) -> c.ExecuteTrade:
        return c.ExecuteTrade(
            key=key, seller_client_id="jan", base_asset="USDT", base_amount="1", quote_asset="BYN", quote_amount=quote
        )

    assert oracle.step(trade("at-cap", "150.00"), LEDGER_TIME) is None
    assert oracle.balances[("system:treasury", "BYN")] == 500_00 - 150_00
    assert oracle.step(trade("past-cap", "0.01"), LEDGER_TIME) == "BANK_VOLUME_CAP_EXCEEDED"
    assert oracle.step(trade("next-day", "0.01"), LEDGER_TIME + timedelta(days=1)) is None


def test_asset_kinds_of_the_world_are_what_the_oracle_assumes() -> None:
    kinds = {command.code: command.kind for command in setup_commands() if isinstance(command, c.RegisterAsset)}
    assert kinds == {"BYN": AssetKind.FIAT, "USDT": AssetKind.CRYPTO}
