"""An oracle of the ledger's postings: a deliberately plain, independent model of what each command does.

It imports no rule and no state of `domain`: balances are a dict of
(account, asset) to minor units, parties and settings are dicts and sets, and
each command type is a short function that first checks (raising `Refused`
with the code the ledger gives) and only then changes anything, so that a
refused command leaves the oracle as it was. It reads the command objects
(their fields are already validated and canonical) and nothing else of the
ledger. The property test in tests/property/test_oracle.py runs it beside the
ledger and demands the same outcome and the same balance map after every
command.

What it leaves out, because no balance and no outcome depends on it: AML
notices, events' metadata and deadlines, KYC expiry, back-dated commands.
Time only moves forward here, so a dated fact (a venue, the policy, a
jurisdiction) is its latest value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from domain import commands as c

EXTERNAL, ISSUANCE, TREASURY, FEES, IN_TRANSIT = (
    "system:external",
    "system:issuance",
    "system:treasury",
    "system:fees",
    "system:in_transit",
)
HOLDING_SYSTEM_ACCOUNTS = {TREASURY, FEES}
REVERSIBLE = {"deposit", "withdraw", "transfer", "fund_treasury", "issue_tokens", "redeem_tokens", "execute_trade"}


class Refused(Exception):
    """The command is refused with `code` (a rule code, or an invalid command's code)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def account_of(client_id: str) -> str:
    return f"client:{client_id}"


def travel_data_complete(party: Any) -> bool:
    """A name, an account, a country, and one way to identify the party."""
    identified = party.address or party.national_id or party.customer_id or (party.birth_date and party.birth_place)
    return bool(party.name and party.account and party.country and identified)


def holds_value(account: str) -> bool:
    return account.startswith("client:") or account in HOLDING_SYSTEM_ACCOUNTS


@dataclass
class Transaction:
    """What an accepted command recorded: its type, postings and what a reversal needs."""

    type: str
    postings: dict[tuple[str, str], int]
    day: date | None = None
    clients: tuple[str, ...] = ()
    quote: tuple[str, int] | None = None  # a trade's quote asset and amount
    issuer: str | None = None  # a redemption's issuer


@dataclass
class Oracle:
    balances: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    issuers: dict[str, dict[str, bool]] = field(default_factory=dict)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    venues: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy: dict[str, bool] = field(default_factory=lambda: {"non_residents": True, "resident_companies": False})
    caps: dict[tuple[str, str], int] = field(default_factory=dict)  # (client id or "bank", asset)
    volumes: dict[tuple[str, str, date], int] = field(default_factory=lambda: defaultdict(int))
    blacklist: dict[str, list[tuple[date, bool]]] = field(default_factory=dict)
    rates: dict[str, dict[date, Fraction]] = field(default_factory=dict)
    travel_rule_usd: Fraction = Fraction(1000)
    self_hosted_eur: Fraction = Fraction(1000)
    settling_kinds: set[str] = field(default_factory=lambda: {"company", "self_employed"})
    verified_wallets: set[tuple[str, str]] = field(default_factory=set)
    blocked: dict[str, str] = field(default_factory=dict)
    settlements: dict[str, dict[str, Any]] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    recorded: dict[str, str] = field(default_factory=dict)  # every recorded key: "rejected", or its command type
    reversed: set[str] = field(default_factory=set)

    # The one entry point.

    def step(self, command: c.BaseCommand, moment: datetime) -> str | None:
        """Applies `command` at `moment`: None when accepted, else the refusal's code."""
        handler: Callable[[Any, date], None] = getattr(self, f"_{command.command_type}")
        try:
            handler(command, moment.astimezone(self.zone).date())
        except Refused as refusal:
            if refusal.code not in INVALID:
                self.recorded[command.key] = "rejected"  # an invalid command records nothing
            return refusal.code
        self.recorded.setdefault(command.key, command.command_type)
        return None

    def nonzero_balances(self) -> dict[tuple[str, str], int]:
        return {key: amount for key, amount in self.balances.items() if amount}

    # Look-ups and checks (they never change anything).

    def client(self, client_id: str) -> dict[str, Any]:
        if client_id not in self.clients:
            raise Refused("UNKNOWN_CLIENT")
        return self.clients[client_id]

    def asset(self, code: str) -> dict[str, Any]:
        if code not in self.assets:
            raise Refused("UNKNOWN_ASSET")
        return self.assets[code]

    def outside_asset(self, code: str) -> dict[str, Any]:
        asset = self.asset(code)
        if asset["kind"] == "token":
            raise Refused("TOKEN_OUTSIDE_ISSUANCE")
        return asset

    def minor(self, text: str, asset: dict[str, Any]) -> int:
        units = Decimal(text) * 10 ** asset["scale"]
        if units != units.to_integral_value():
            raise Refused("AMOUNT_TOO_PRECISE")
        if units <= 0:
            raise Refused("AMOUNT_NOT_POSITIVE")
        return int(units)

    def check_present(self, client_id: str) -> None:
        client = self.clients[client_id]
        if client["offboarded"]:
            raise Refused("CLIENT_OFFBOARDED")
        if client["frozen"]:
            raise Refused("CLIENT_FROZEN")

    def check_may_move(self, client_id: str) -> None:
        self.check_present(client_id)
        kyc = self.clients[client_id]["kyc"]
        if kyc == "revoked":
            raise Refused("KYC_REVOKED")
        if kyc != "verified":
            raise Refused("KYC_NOT_VERIFIED")

    def check_has(self, account: str, asset: str, amount_minor: int) -> None:
        if self.balances[(account, asset)] < amount_minor:
            raise Refused("INSUFFICIENT_FUNDS")

    def check_clean(self, address: str | None, day: date) -> None:
        refused = False
        for effective, listed in self.blacklist.get(address or "", []):
            if effective <= day:
                refused = listed
        if refused:
            raise Refused("BLACKLISTED_ADDRESS")

    def rate(self, code: str, day: date) -> Fraction:
        if code == "BYN":
            return Fraction(1)
        known = {on: rate for on, rate in self.rates.get(code, {}).items() if on <= day}
        if not known:
            raise Refused("MISSING_RATE")
        return known[max(known)]

    def value_in(self, currency: str, asset_code: str, amount_minor: int, day: date) -> Fraction:
        whole = Fraction(amount_minor, 10 ** self.assets[asset_code]["scale"])
        return whole * self.rate(asset_code, day) / self.rate(currency, day)

    def supply(self, token: str) -> int:
        return -self.balances[(ISSUANCE, token)]

    def post(self, postings: dict[tuple[str, str], int]) -> None:
        for key, amount in postings.items():
            self.balances[key] += amount

    def record(self, key: str, transaction: Transaction) -> None:
        self.post(transaction.postings)
        self.transactions[key] = transaction

    # Onboarding.

    def _establish_bank(self, command: c.EstablishBank, _: date) -> None:
        self.zone = ZoneInfo(command.time_zone)

    def _register_issuer(self, command: c.RegisterIssuer, _: date) -> None:
        self.issuers[command.issuer_id] = {"licensed": command.licensed, "revoked": False}

    def _onboard_client(self, command: c.OnboardClient, _: date) -> None:
        if command.client_id in self.clients:
            raise Refused("ALREADY_EXISTS")
        self.clients[command.client_id] = {
            "residency": command.residency.value,
            "kind": command.kind.value,
            "kyc": "pending",
            "frozen": False,
            "offboarded": False,
        }

    def _verify_kyc(self, command: c.VerifyKyc, _: date) -> None:
        client = self.client(command.client_id)
        if client["offboarded"]:
            raise Refused("CLIENT_OFFBOARDED")
        if client["kyc"] == "verified":
            raise Refused("KYC_ALREADY_VERIFIED")
        client["kyc"] = "verified"

    def _revoke_kyc(self, command: c.RevokeKyc, _: date) -> None:
        client = self.client(command.client_id)
        if client["offboarded"]:
            raise Refused("CLIENT_OFFBOARDED")
        if client["kyc"] != "verified":
            raise Refused("KYC_NOT_REVOCABLE")
        client["kyc"] = "revoked"

    def _freeze_client(self, command: c.FreezeClient, _: date) -> None:
        client = self.client(command.client_id)
        if client["offboarded"]:
            raise Refused("CLIENT_OFFBOARDED")
        if client["frozen"]:
            raise Refused("CLIENT_ALREADY_FROZEN")
        client["frozen"] = True

    def _unfreeze_client(self, command: c.UnfreezeClient, _: date) -> None:
        client = self.client(command.client_id)
        if client["offboarded"]:
            raise Refused("CLIENT_OFFBOARDED")
        if not client["frozen"]:
            raise Refused("CLIENT_NOT_FROZEN")
        client["frozen"] = False

    # Issuance.

    def _register_asset(self, command: c.RegisterAsset, _: date) -> None:
        self.assets[command.code] = {"scale": command.scale, "kind": command.kind.value}

    def _register_token(self, command: c.RegisterToken, _: date) -> None:
        token = {"scale": command.scale, "kind": "token", "issuer": command.issuer_id}
        token["cap"] = self.minor(command.supply_cap, token)
        self.assets[command.code] = token

    def _token_of(self, issuer_id: str, code: str) -> tuple[dict[str, bool], dict[str, Any]]:
        if issuer_id not in self.issuers:
            raise Refused("UNKNOWN_ISSUER")
        token = self.asset(code)
        if token["kind"] != "token":
            raise Refused("NOT_A_TOKEN")
        return self.issuers[issuer_id], token

    def check_may_issue(self, issuer: dict[str, bool]) -> None:
        if not issuer["licensed"]:
            raise Refused("ISSUER_NOT_LICENSED")
        if issuer["revoked"]:
            raise Refused("ISSUER_LICENCE_REVOKED")

    def check_cap(self, code: str, amount_minor: int) -> None:
        if self.supply(code) + amount_minor > self.assets[code]["cap"]:
            raise Refused("SUPPLY_CAP_EXCEEDED")

    def _issue_tokens(self, command: c.IssueTokens, day: date) -> None:
        issuer, token = self._token_of(command.issuer_id, command.asset)
        self.client(command.client_id)
        amount = self.minor(command.amount, token)
        self.check_may_issue(issuer)
        if token["issuer"] != command.issuer_id:
            raise Refused("NOT_ISSUERS_TOKEN")
        self.check_may_move(command.client_id)
        self.check_cap(command.asset, amount)
        postings = {(ISSUANCE, command.asset): -amount, (account_of(command.client_id), command.asset): amount}
        self.record(command.key, Transaction("issue_tokens", postings))

    def _redeem_tokens(self, command: c.RedeemTokens, day: date) -> None:
        issuer, token = self._token_of(command.issuer_id, command.asset)
        self.client(command.client_id)
        amount = self.minor(command.amount, token)
        if not issuer["licensed"]:
            raise Refused("ISSUER_NOT_LICENSED")
        if token["issuer"] != command.issuer_id:
            raise Refused("NOT_ISSUERS_TOKEN")
        self.check_may_move(command.client_id)
        account = account_of(command.client_id)
        self.check_has(account, command.asset, amount)
        postings = {(account, command.asset): -amount, (ISSUANCE, command.asset): amount}
        self.record(command.key, Transaction("redeem_tokens", postings, issuer=command.issuer_id))

    def _revoke_issuer_licence(self, command: c.RevokeIssuerLicence, _: date) -> None:
        if command.issuer_id not in self.issuers:
            raise Refused("UNKNOWN_ISSUER")
        issuer = self.issuers[command.issuer_id]
        if not issuer["licensed"] or issuer["revoked"]:
            raise Refused("LICENCE_NOT_REVOCABLE")
        issuer["revoked"] = True

    # Funding.

    def _deposit(self, command: c.Deposit, day: date) -> None:
        self.client(command.client_id)
        amount = self.minor(command.amount, self.outside_asset(command.asset))
        self.check_may_move(command.client_id)
        self.check_clean(command.wallet_address, day)
        postings = {(EXTERNAL, command.asset): -amount, (account_of(command.client_id), command.asset): amount}
        self.record(command.key, Transaction("deposit", postings))

    def _withdraw(self, command: c.Withdraw, day: date) -> None:
        self.client(command.client_id)
        asset = self.outside_asset(command.asset)
        amount = self.minor(command.amount, asset)
        self.check_may_move(command.client_id)
        self.check_clean(command.wallet_address, day)
        if asset["kind"] == "crypto":
            self._check_crypto_withdrawal(command, amount, day)
        account = account_of(command.client_id)
        self.check_has(account, command.asset, amount)
        postings = {(account, command.asset): -amount, (EXTERNAL, command.asset): amount}
        self.record(command.key, Transaction("withdraw", postings))

    def _check_crypto_withdrawal(self, command: c.Withdraw, amount: int, day: date) -> None:
        """The travel rule (complete data at or above the USD threshold), then
        the proof of a self-hosted wallet (above the EUR threshold)."""
        payload = command.ivms101
        complete = (
            payload is not None
            and payload.originator is not None
            and bool(payload.originator.account_number)
            and payload.beneficiary is not None
            and command.wallet_address in payload.beneficiary.account_number
        )
        if not complete and self.value_in("USD", command.asset, amount, day) >= self.travel_rule_usd:
            raise Refused("TRAVEL_RULE_INCOMPLETE")
        hosted = payload is not None and payload.beneficiary_vasp is not None
        proven = command.wallet_address is not None and (command.client_id, command.wallet_address) in (
            self.verified_wallets
        )
        if hosted or proven:
            return
        if self.value_in("EUR", command.asset, amount, day) > self.self_hosted_eur:
            raise Refused("SELF_HOSTED_WALLET_UNVERIFIED")

    def _fund_treasury(self, command: c.FundTreasury, day: date) -> None:
        amount = self.minor(command.amount, self.outside_asset(command.asset))
        self.check_clean(command.wallet_address, day)
        postings = {(EXTERNAL, command.asset): -amount, (TREASURY, command.asset): amount}
        self.record(command.key, Transaction("fund_treasury", postings))

    def _transfer(self, command: c.Transfer, day: date) -> None:
        self.client(command.source_client_id)
        self.client(command.target_client_id)
        if command.source_client_id == command.target_client_id:
            raise Refused("SAME_CLIENT_ON_BOTH_SIDES")
        amount = self.minor(command.amount, self.asset(command.asset))
        self.check_may_move(command.source_client_id)
        self.check_may_move(command.target_client_id)
        source = account_of(command.source_client_id)
        self.check_has(source, command.asset, amount)
        postings = {(source, command.asset): -amount, (account_of(command.target_client_id), command.asset): amount}
        self.record(command.key, Transaction("transfer", postings))

    # Trading.

    def _list_venue(self, command: c.ListVenue, _: date) -> None:
        if self.venues.get(command.venue_id, {}).get("listed"):
            raise Refused("ALREADY_EXISTS")
        for code in command.assets:
            self.asset(code)
        foreign = command.kind.value == "foreign_exchange"
        self.venues[command.venue_id] = {"foreign": foreign, "listed": True, "assets": set(command.assets)}

    def _delist_venue(self, command: c.DelistVenue, _: date) -> None:
        if command.venue_id not in self.venues:
            raise Refused("UNKNOWN_VENUE")
        if not self.venues[command.venue_id]["listed"]:
            raise Refused("VENUE_ALREADY_DELISTED")
        self.venues[command.venue_id]["listed"] = False

    def _set_trading_policy(self, command: c.SetTradingPolicy, _: date) -> None:
        self.policy = {
            "non_residents": command.non_residents_on_foreign_venues,
            "resident_companies": command.resident_companies_on_foreign_venues,
        }

    def _set_volume_cap(self, command: c.SetVolumeCap, _: date) -> None:
        if command.client_id is not None:
            self.client(command.client_id)
        cap = self.minor(command.daily_cap, self.asset(command.asset))
        self.caps[(command.client_id or "bank", command.asset)] = cap

    def may_trade_abroad(self, client_id: str) -> bool:
        client = self.clients[client_id]
        if client["residency"] == "non_resident":
            return self.policy["non_residents"]
        return client["kind"] == "company" and self.policy["resident_companies"]

    def _execute_trade(self, command: c.ExecuteTrade, day: date) -> None:
        venue_id, buyer, seller = command.venue_id, command.buyer_client_id, command.seller_client_id
        if venue_id is not None and venue_id not in self.venues:
            raise Refused("UNKNOWN_VENUE")
        for client_id in (buyer, seller):
            if client_id is not None:
                self.client(client_id)
        if buyer is None and seller is None:
            raise Refused("TRADE_WITHOUT_CLIENT")
        if buyer == seller:
            raise Refused("SAME_CLIENT_ON_BOTH_SIDES")
        base, quote = self.asset(command.base_asset), self.asset(command.quote_asset)
        if command.base_asset == command.quote_asset:
            raise Refused("SAME_ASSET_ON_BOTH_SIDES")
        fee = 0 if Decimal(command.fee) == 0 else self.minor(command.fee, quote)
        base_minor, quote_minor = self.minor(command.base_amount, base), self.minor(command.quote_amount, quote)
        clients = [client_id for client_id in (buyer, seller) if client_id is not None]
        if venue_id is not None:
            venue = self.venues[venue_id]
            if not venue["listed"]:
                raise Refused("VENUE_NOT_LISTED")
            if venue["foreign"] and not all(self.may_trade_abroad(client_id) for client_id in clients):
                raise Refused("FOREIGN_VENUE_FORBIDDEN")
            if not {command.base_asset, command.quote_asset} <= venue["assets"]:
                raise Refused("ASSET_NOT_LISTED_ON_VENUE")
        for client_id in clients:
            self.check_may_move(client_id)
        tokens = base["kind"] == "token" or quote["kind"] == "token"
        if venue_id is not None and tokens and len(clients) < 2:
            raise Refused("TOKEN_OUTSIDE_LEDGER")
        other_side = TREASURY if venue_id is None else EXTERNAL
        buyer_account = account_of(buyer) if buyer else other_side
        seller_account = account_of(seller) if seller else other_side
        payer = account_of(buyer or seller or "")
        postings: dict[tuple[str, str], int] = defaultdict(int)
        postings[(seller_account, command.base_asset)] -= base_minor
        postings[(buyer_account, command.base_asset)] += base_minor
        postings[(buyer_account, command.quote_asset)] -= quote_minor
        postings[(seller_account, command.quote_asset)] += quote_minor
        postings[(payer, command.quote_asset)] -= fee
        postings[(FEES, command.quote_asset)] += fee
        postings = {key: amount for key, amount in postings.items() if amount}
        for (account, asset), amount in postings.items():
            if amount < 0 and holds_value(account):
                self.check_has(account, asset, -amount)
        for scope in [*clients, "bank"]:
            cap = self.caps.get((scope, command.quote_asset))
            if cap is not None and self.volumes[(scope, command.quote_asset, day)] + quote_minor > cap:
                raise Refused("BANK_VOLUME_CAP_EXCEEDED" if scope == "bank" else "CLIENT_VOLUME_CAP_EXCEEDED")
        for scope in [*clients, "bank"]:
            self.volumes[(scope, command.quote_asset, day)] += quote_minor
        trade = Transaction("execute_trade", postings, day, tuple(clients), (command.quote_asset, quote_minor))
        self.record(command.key, trade)

    # Compliance.

    def _blacklist_address(self, command: c.BlacklistAddress, _: date) -> None:
        history = self.blacklist.get(command.address, [])
        if history and history[-1][1]:
            raise Refused("ALREADY_EXISTS")
        refused_from = command.listed_on + timedelta(days=1)
        if history and refused_from < history[-1][0]:
            raise Refused("CHANGED_BEFORE_LAST_CHANGE")
        self.blacklist[command.address] = [*history, (refused_from, True)]

    def _remove_from_blacklist(self, command: c.RemoveFromBlacklist, _: date) -> None:
        history = self.blacklist.get(command.address, [])
        if not history or not history[-1][1]:
            raise Refused("ADDRESS_NOT_BLACKLISTED")
        if command.removed_on <= history[-1][0] - timedelta(days=1):
            raise Refused("REMOVAL_NOT_AFTER_LISTING")
        if command.removed_on < history[-1][0]:
            raise Refused("CHANGED_BEFORE_LAST_CHANGE")
        self.blacklist[command.address] = [*history, (command.removed_on, False)]

    def _verify_wallet_ownership(self, command: c.VerifyWalletOwnership, _: date) -> None:
        self.client(command.client_id)
        if (command.client_id, command.wallet_address) in self.verified_wallets:
            raise Refused("ALREADY_EXISTS")
        self.verified_wallets.add((command.client_id, command.wallet_address))

    def _set_reference_rate(self, command: c.SetReferenceRate, _: date) -> None:
        if command.code == "BYN":
            raise Refused("BYN_RATE_FIXED")
        if command.code not in ("USD", "EUR"):
            self.asset(command.code)
        rate = Fraction(Decimal(command.byn_per_unit))
        self.rates.setdefault(command.code, {})[command.effective_on] = rate

    def _set_compliance_settings(self, command: c.SetComplianceSettings, _: date) -> None:
        self.travel_rule_usd = Fraction(Decimal(command.travel_rule_threshold_usd))
        self.self_hosted_eur = Fraction(Decimal(command.self_hosted_proof_threshold_eur or "1000"))
        self.settling_kinds = {kind.value for kind in command.settling_kinds}

    def _block_jurisdiction(self, command: c.BlockJurisdiction, _: date) -> None:
        if command.country in self.blocked:
            raise Refused("ALREADY_EXISTS")
        self.blocked[command.country] = command.reason

    def _unblock_jurisdiction(self, command: c.UnblockJurisdiction, _: date) -> None:
        if command.country not in self.blocked:
            raise Refused("JURISDICTION_NOT_BLOCKED")
        del self.blocked[command.country]

    # Settlements.

    def _initiate_settlement(self, command: c.InitiateSettlement, day: date) -> None:
        if command.settlement_id in self.settlements:
            raise Refused("ALREADY_EXISTS")
        client = self.client(command.client_id)
        amount = self.minor(command.amount, self.outside_asset(command.asset))
        if client["kind"] not in self.settling_kinds:
            raise Refused("SETTLEMENT_NOT_PERMITTED")
        if command.country in self.blocked:
            raise Refused("BLOCKED_JURISDICTION")
        self.check_may_move(command.client_id)
        self.check_clean(command.beneficiary_wallet, day)
        complete = travel_data_complete(command.originator) and travel_data_complete(command.beneficiary)
        if not complete and self.value_in("USD", command.asset, amount, day) >= self.travel_rule_usd:
            raise Refused("TRAVEL_RULE_INCOMPLETE")
        account = account_of(command.client_id)
        self.check_has(account, command.asset, amount)
        self.settlements[command.settlement_id] = {
            "client": command.client_id,
            "asset": command.asset,
            "import": command.direction.value == "import",
            "outstanding": amount,
        }
        self.post({(account, command.asset): -amount, (IN_TRANSIT, command.asset): amount})
        self.recorded[command.key] = "settlement"

    def _settlement(self, settlement_id: str) -> dict[str, Any]:
        if settlement_id not in self.settlements:
            raise Refused("UNKNOWN_SETTLEMENT")
        return self.settlements[settlement_id]

    def _return_settlement_funds(self, command: c.ReturnSettlementFunds, _: date) -> None:
        settlement = self._settlement(command.settlement_id)
        amount = self.minor(command.amount, self.assets[settlement["asset"]])
        if not settlement["outstanding"]:
            raise Refused("SETTLEMENT_NOT_OUTSTANDING")
        if amount > settlement["outstanding"]:
            raise Refused("RETURN_EXCEEDS_OUTSTANDING")
        self.check_present(settlement["client"])
        settlement["outstanding"] -= amount
        self.post(
            {
                (IN_TRANSIT, settlement["asset"]): -amount,
                (account_of(settlement["client"]), settlement["asset"]): amount,
            }
        )
        self.recorded[command.key] = "settlement"

    def _close_settlement_by_delivery(self, command: c.CloseSettlementByDelivery, _: date) -> None:
        settlement = self._settlement(command.settlement_id)
        if not settlement["outstanding"]:
            raise Refused("SETTLEMENT_NOT_OUTSTANDING")
        if not settlement["import"]:
            raise Refused("DELIVERY_CLOSES_IMPORTS_ONLY")
        amount, settlement["outstanding"] = settlement["outstanding"], 0
        self.post({(IN_TRANSIT, settlement["asset"]): -amount, (EXTERNAL, settlement["asset"]): amount})
        self.recorded[command.key] = "settlement"

    # Corrections.

    def _reverse_transaction(self, command: c.ReverseTransaction, _: date) -> None:
        key = command.original_key
        if key not in self.recorded:
            raise Refused("UNKNOWN_TRANSACTION")
        if key in self.reversed:
            raise Refused("ALREADY_REVERSED")
        original = self.transactions.get(key)
        if original is None or original.type not in REVERSIBLE:
            raise Refused("NOT_REVERSIBLE")
        postings = {account_asset: -amount for account_asset, amount in original.postings.items()}
        touched = sorted({account for account, _ in postings if account.startswith("client:")})
        for account in touched:
            self.check_present(account.removeprefix("client:"))
        if original.type == "redeem_tokens":
            assert original.issuer is not None
            self.check_may_issue(self.issuers[original.issuer])
            ((token, amount),) = {
                (asset, -amount) for (account, asset), amount in postings.items() if account == ISSUANCE
            }
            self.check_cap(token, amount)
        for (account, asset), amount in postings.items():
            if amount < 0 and holds_value(account):
                self.check_has(account, asset, -amount)
        if original.quote is not None:
            assert original.day is not None
            for scope in [*original.clients, "bank"]:
                self.volumes[(scope, original.quote[0], original.day)] -= original.quote[1]
        self.post(postings)
        self.reversed.add(key)
        self.recorded[command.key] = "reversal"


# Codes of commands refused outright (an invalid command: nothing is recorded);
# every other code is a rule code, and the ledger records its rejection.
INVALID = frozenset(
    {
        "UNKNOWN_CLIENT",
        "UNKNOWN_ASSET",
        "UNKNOWN_ISSUER",
        "UNKNOWN_VENUE",
        "UNKNOWN_SETTLEMENT",
        "UNKNOWN_TRANSACTION",
        "MISSING_RATE",
        "ALREADY_EXISTS",
        "AMOUNT_TOO_PRECISE",
        "AMOUNT_NOT_POSITIVE",
        "TOKEN_OUTSIDE_ISSUANCE",
        "NOT_A_TOKEN",
        "SAME_CLIENT_ON_BOTH_SIDES",
        "SAME_ASSET_ON_BOTH_SIDES",
        "TRADE_WITHOUT_CLIENT",
        "VENUE_ALREADY_DELISTED",
        "KYC_ALREADY_VERIFIED",
        "KYC_NOT_REVOCABLE",
        "CLIENT_ALREADY_FROZEN",
        "CLIENT_NOT_FROZEN",
        "LICENCE_NOT_REVOCABLE",
        "CHANGED_BEFORE_LAST_CHANGE",
        "ADDRESS_NOT_BLACKLISTED",
        "REMOVAL_NOT_AFTER_LISTING",
        "BYN_RATE_FIXED",
        "JURISDICTION_NOT_BLOCKED",
        "SETTLEMENT_NOT_OUTSTANDING",
        "RETURN_EXCEEDS_OUTSTANDING",
        "DELIVERY_CLOSES_IMPORTS_ONLY",
    }
)
