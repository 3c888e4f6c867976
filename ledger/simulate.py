"""Deterministic synthetic traffic for the sandbox, on a ledger clock of its own.

A seed gives the same commands, at the same ledger and recording times, every
time: two sandboxes initialised the same way and simulated with the same seed
hold byte-identical logs. Run again on a sandbox, the simulation continues
from its state and its ledger time (the day after the last one it saw), with
a random stream drawn from the seed and that day, so a continuation is as
reproducible as a first run.

The mix, per ledger day: the bank topping up its treasury's USDT (it sells
only what it holds), deposits, domestic trades and trades with the bank,
attempts on a foreign venue (refused for residents), transfers, token
issuance and redemption, cross-border settlements with returns, partial
returns and defaults, a blacklisted wallet now and then, and the daily
deadline check.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from domain.accounts import SystemAccount
from domain.addresses import Network, example_address
from domain.commands import (
    BaseCommand,
    BlacklistAddress,
    CheckDeadlines,
    CloseSettlementByDelivery,
    Deposit,
    ExecuteTrade,
    ExtendSettlementDeadline,
    FundTreasury,
    InitiateSettlement,
    IssueTokens,
    ListVenue,
    OnboardClient,
    RedeemTokens,
    RegisterAsset,
    RegisterIssuer,
    RegisterToken,
    ReturnSettlementFunds,
    SetReferenceRate,
    Transfer,
    VerifyKyc,
    Withdraw,
)
from domain.crossborder import OUTSTANDING_STATUSES, Direction, PartyInfo, SettlementStatus
from domain.money import AssetKind, format_amount
from domain.parties import ClientKind, Residency, VenueKind
from ledger.clock import ManualClock
from ledger.service import Ledger

SIM_START = datetime(2026, 1, 16, 9, 0, tzinfo=UTC)  # the day the crypto-bank decree was signed
CLIENTS_MAX = 100_000
DAYS_MAX = 3650
OPS_PER_DAY_MAX = 100_000
COUNTRIES = ("AE", "CN", "DE", "KZ", "RU", "TR")
# A small pool of valid TRON addresses, the same every run, so that blacklisting one hits.
WALLETS = tuple(example_address(Network.TRON, f"sim-wallet-{n}") for n in range(24))
# The treasury's USDT is topped up to this many whole USDT per operation of
# the day (at least TREASURY_USDT_MIN) whenever a day starts with less than
# half of it: a day's trades with the bank sell at most some 37 USDT per
# operation on average (a trade in 4.5 operations, a third of them with the
# bank, up to 500 USDT each), so the treasury never runs dry.
STRUCTURING_CHANCE = 0.1  # of a day with cash brought in pieces (linked AML operations)
TREASURY_USDT_PER_OPERATION = 100
TREASURY_USDT_MIN = 50_000
USDT_MINOR = 10**6


@dataclass(frozen=True)
class SimulationConfig:
    seed: int
    clients: int = 40
    days: int = 30
    operations_per_day: int = 60

    def __post_init__(self) -> None:
        if not 1 <= self.clients <= CLIENTS_MAX:
            raise ValueError(f"clients must be 1 to {CLIENTS_MAX}")
        if not 1 <= self.days <= DAYS_MAX:
            raise ValueError(f"days must be 1 to {DAYS_MAX}")
        if not 1 <= self.operations_per_day <= OPS_PER_DAY_MAX:
            raise ValueError(f"operations per day must be 1 to {OPS_PER_DAY_MAX}")


@dataclass
class Summary:
    first_day: date | None = None
    last_day: date | None = None
    commands: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)


def _client_ids(count: int) -> list[str]:
    return [f"sim-c{n:05d}" for n in range(count)]


def _reference_data(config: SimulationConfig) -> list[BaseCommand]:
    commands: list[BaseCommand] = [
        RegisterAsset(key="sim:asset:BYN", code="BYN", scale=2, kind=AssetKind.FIAT),
        RegisterAsset(key="sim:asset:USDT", code="USDT", scale=6, kind=AssetKind.CRYPTO),
        RegisterIssuer(key="sim:issuer", issuer_id="sim-issuer", name="Pripyat Tokens LLC", licensed=True),
        RegisterToken(key="sim:token", code="PRT", scale=2, issuer_id="sim-issuer", supply_cap="100000000.00"),
        ListVenue(
            key="sim:venue:1",
            venue_id="sim-minsk",
            name="Minsk Digital Exchange",
            kind=VenueKind.HTP_EXCHANGE_OPERATOR,
            assets=["BYN", "USDT", "PRT"],
        ),
        ListVenue(
            key="sim:venue:2",
            venue_id="sim-brest",
            name="Brest Token Platform",
            kind=VenueKind.HTP_PLATFORM,
            assets=["BYN", "USDT"],
        ),
        ListVenue(
            key="sim:venue:3",
            venue_id="sim-offshore",
            name="Seaside Global Exchange",
            kind=VenueKind.FOREIGN_EXCHANGE,
            assets=["BYN", "USDT"],
        ),
        SetReferenceRate(key="sim:rate:USD", code="USD", byn_per_unit="3.2000", effective_on=date(2026, 1, 1)),
        SetReferenceRate(key="sim:rate:USDT", code="USDT", byn_per_unit="3.2400", effective_on=date(2026, 1, 1)),
    ]
    return commands + _onboarding(config, 0)


def _onboarding(config: SimulationConfig, already: int) -> list[BaseCommand]:
    rng = random.Random(f"{config.seed}:clients:{already}")
    commands: list[BaseCommand] = []
    for client_id in _client_ids(config.clients)[already:]:
        residency = Residency.RESIDENT if rng.random() < 0.85 else Residency.NON_RESIDENT
        kind = rng.choices(list(ClientKind), weights=[70, 15, 15])[0]
        commands.append(
            OnboardClient(
                key=f"sim:onboard:{client_id}",
                client_id=client_id,
                name=f"Client {client_id[-5:]}",
                residency=residency,
                kind=kind,
            )
        )
        if rng.random() < 0.95:
            commands.append(VerifyKyc(key=f"sim:kyc:{client_id}", client_id=client_id))
    return commands


class _Day:
    """One ledger day of traffic, drawn from the seed and the day."""

    def __init__(self, ledger: Ledger, config: SimulationConfig, day: date) -> None:
        self.ledger = ledger
        self.state = ledger.state
        self.config = config
        self.day = day
        self.rng = random.Random(f"{config.seed}:{day.isoformat()}")
        self.count = 0
        self.clients = [c for c in _client_ids(config.clients) if c in self.state.clients]

    def key(self, kind: str) -> str:
        self.count += 1
        return f"sim:{self.config.seed}:{self.day.isoformat()}:{self.count}:{kind}"

    def amount(self, low: int, high: int) -> str:
        return f"{self.rng.randint(low, high)}.{self.rng.randint(0, 99):02d}"

    def commands(self) -> list[BaseCommand]:
        out: list[BaseCommand] = self.treasury_top_up()
        makers = [
            self.deposit,
            self.trade,
            self.foreign_attempt,
            self.transfer,
            self.issue,
            self.redeem,
            self.withdraw,
            self.settle,
        ]
        weights = [22, 22, 5, 15, 8, 4, 8, 6]
        for _ in range(self.config.operations_per_day):
            command = self.rng.choices(makers, weights=weights)[0]()
            if command is not None:
                out.append(command)
        out.extend(self.settlement_returns())
        out.extend(self.overdue_extensions())
        if self.rng.random() < STRUCTURING_CHANCE:
            out.extend(self.structured_deposits())
        if self.rng.random() < 0.05:
            address = self.rng.choice(WALLETS)
            if address not in self.state.blacklist:
                out.append(
                    BlacklistAddress(
                        key=self.key("blacklist"), address=address, listed_on=self.day, reason="sanctions list update"
                    )
                )
        out.append(CheckDeadlines(key=self.key("deadlines")))
        return out

    def treasury_top_up(self) -> list[BaseCommand]:
        """The USDT the bank buys outside for its treasury before the day's trades."""
        target = max(TREASURY_USDT_MIN, TREASURY_USDT_PER_OPERATION * self.config.operations_per_day) * USDT_MINOR
        held = self.state.balance(SystemAccount.TREASURY, "USDT")
        if held >= target // 2:
            return []
        amount = target - held
        return [
            FundTreasury(
                key=self.key("treasury"),
                asset="USDT",
                amount=f"{amount // USDT_MINOR}.{amount % USDT_MINOR:06d}",
                reference=f"otc-{self.day}",
            )
        ]

    def pick(self) -> str:
        return self.rng.choice(self.clients)

    def deposit(self) -> BaseCommand:
        asset = self.rng.choice(["BYN", "BYN", "USDT"])
        wallet = self.rng.choice(WALLETS) if asset == "USDT" else None
        return Deposit(
            key=self.key("deposit"),
            client_id=self.pick(),
            asset=asset,
            amount=self.amount(100, 20000),
            reference=f"in-{self.day}-{self.count}",
            wallet_address=wallet,
        )

    def trade(self) -> BaseCommand:
        venue = self.rng.choice(["sim-minsk", "sim-brest", None])
        base_amount = self.rng.randint(1, 500)
        return ExecuteTrade(
            key=self.key("trade"),
            venue_id=venue,
            buyer_client_id=self.pick(),
            seller_client_id=self.pick() if venue else None,
            base_asset="USDT",
            base_amount=str(base_amount),
            quote_asset="BYN",
            quote_amount=f"{base_amount * 324 // 100}.{base_amount * 324 % 100:02d}",
            fee="0.50",
        )

    def foreign_attempt(self) -> BaseCommand:
        return ExecuteTrade(
            key=self.key("offshore"),
            venue_id="sim-offshore",
            buyer_client_id=self.pick(),
            base_asset="USDT",
            base_amount=str(self.rng.randint(1, 300)),
            quote_asset="BYN",
            quote_amount=self.amount(5, 1000),
        )

    def transfer(self) -> BaseCommand | None:
        source, target = self.pick(), self.pick()
        if source == target:
            return None
        return Transfer(
            key=self.key("transfer"),
            source_client_id=source,
            target_client_id=target,
            asset=self.rng.choice(["BYN", "PRT"]),
            amount=self.amount(1, 3000),
        )

    def issue(self) -> BaseCommand:
        return IssueTokens(
            key=self.key("issue"),
            issuer_id="sim-issuer",
            asset="PRT",
            client_id=self.pick(),
            amount=self.amount(10, 5000),
        )

    def redeem(self) -> BaseCommand:
        return RedeemTokens(
            key=self.key("redeem"),
            issuer_id="sim-issuer",
            asset="PRT",
            client_id=self.pick(),
            amount=self.amount(1, 1000),
        )

    def withdraw(self) -> BaseCommand:
        return Withdraw(
            key=self.key("withdraw"),
            client_id=self.pick(),
            asset="BYN",
            amount=self.amount(10, 5000),
            reference=f"out-{self.day}-{self.count}",
        )

    def settle(self) -> BaseCommand:
        businesses = [c for c in self.clients if self.state.clients[c].kind != ClientKind.INDIVIDUAL]
        client = self.rng.choice(businesses) if businesses and self.rng.random() < 0.85 else self.pick()
        country = self.rng.choice(COUNTRIES)
        party = PartyInfo(
            name=f"Counterparty {country}",
            account=f"IBAN-{country}-{self.count}",
            address="Trade Street 1",
            country=country,
        )
        originator = PartyInfo(
            name=f"Client {client[-5:]}", account=f"client:{client}", customer_id=client, country="BY"
        )
        asset = "USDT" if self.rng.random() < 0.2 else "BYN"
        small = self.rng.random() < 0.3  # below the travel-rule threshold: gaps in its data are allowed
        if asset == "USDT":
            amount = str(self.rng.randint(50, 250) if small else self.rng.randint(400, 9000))
        else:
            amount = self.amount(500, 3000) if small else self.amount(3500, 30000)
        return InitiateSettlement(
            key=self.key("settle"),
            settlement_id=f"S-{self.day:%Y%m%d}-{self.count}",
            client_id=client,
            direction=self.rng.choice(list(Direction)),
            counterparty=party.name or "",
            country=country,
            contract_reference=f"K-{self.count}",
            asset=asset,
            amount=amount,
            deadline_days=self.rng.choice([7, 14, 21, 30, 60, 90, 180]),
            originator=originator,
            beneficiary=party if self.rng.random() < 0.9 else PartyInfo(name=party.name),
        )

    def structured_deposits(self) -> list[BaseCommand]:
        """An individual brings cash in pieces, each below the AML threshold, that
        together reach it within a day: the linked-operations rule's case."""
        individuals = [c for c in self.clients if self.state.clients[c].kind == ClientKind.INDIVIDUAL]
        if not individuals:
            return []
        client = self.rng.choice(individuals)
        return [
            Deposit(
                key=self.key("structured"),
                client_id=client,
                asset="BYN",
                amount=self.amount(23_000, 29_000),
                reference=f"cash-{self.day}-{self.count}",
            )
            for _ in range(4)
        ]

    def overdue_extensions(self) -> list[BaseCommand]:
        """Now and then the NBRB permits an overdue settlement a later deadline."""
        out: list[BaseCommand] = []
        for settlement in sorted(self.state.settlements.values(), key=lambda s: s.settlement_id):
            if settlement.status == SettlementStatus.OVERDUE and self.rng.random() < 0.02:
                out.append(
                    ExtendSettlementDeadline(
                        key=self.key("extend"),
                        settlement_id=settlement.settlement_id,
                        new_deadline=self.day + timedelta(days=60),
                        permit_reference=f"NBRB-P-{self.day:%Y%m%d}-{self.count}",
                    )
                )
        return out

    def settlement_returns(self) -> list[BaseCommand]:
        """About half of what goes abroad comes back, some of it in parts; an
        import's goods arrive now and then, which closes it by delivery."""
        out: list[BaseCommand] = []
        for settlement in sorted(self.state.settlements.values(), key=lambda s: s.settlement_id):
            if settlement.status not in OUTSTANDING_STATUSES:
                continue
            if self.rng.random() > 0.04:
                continue
            if settlement.direction == Direction.IMPORT and self.rng.random() < 0.3:
                out.append(
                    CloseSettlementByDelivery(
                        key=self.key("delivery"),
                        settlement_id=settlement.settlement_id,
                        delivery_reference=f"CMR-{self.day:%Y%m%d}-{self.count}",
                    )
                )
                continue
            part = settlement.outstanding_minor if self.rng.random() < 0.6 else settlement.outstanding_minor // 2
            if part <= 0 or self.rng.random() < 0.35:  # a default: nothing comes back
                continue
            out.append(
                ReturnSettlementFunds(
                    key=self.key("return"),
                    settlement_id=settlement.settlement_id,
                    amount=format_amount(part, scale=self.state.assets[settlement.asset].scale),
                    reference="swift-in",
                )
            )
        return out


def simulate(ledger: Ledger, config: SimulationConfig, progress: Callable[[int], None] | None = None) -> Summary:
    """Runs `config.days` ledger days after the sandbox's last one; the ledger
    must use `ManualClock`s that this function moves, for both times."""
    assert isinstance(ledger.clock, ManualClock)
    assert isinstance(ledger.ledger_clock, ManualClock)
    summary = Summary()
    setup = (
        _reference_data(config)
        if "sim-issuer" not in ledger.state.issuers
        else _onboarding(config, sum(1 for c in _client_ids(config.clients) if c in ledger.state.clients))
    )
    if setup:
        _run(ledger, setup, summary)
    start = next_day(ledger)
    for offset in range(config.days):
        day = start + timedelta(days=offset)
        moment = datetime.combine(day, SIM_START.timetz())
        ledger.clock.current = ledger.ledger_clock.current = moment
        _run(ledger, _Day(ledger, config, day).commands(), summary)
        summary.first_day = summary.first_day or day
        summary.last_day = day
        if progress is not None:
            progress(1)
    return summary


def next_day(ledger: Ledger) -> date:
    """The ledger day after the latest ledger time in the log (or the simulation's start)."""
    with ledger.read_model.session() as session:
        latest = ledger.read_model.ledger_day(session)
    if latest is None:
        return SIM_START.date()
    return max(SIM_START.date(), latest + timedelta(days=1))


def _run(ledger: Ledger, commands: list[BaseCommand], summary: Summary) -> None:
    from domain.errors import BatchRejected  # noqa: PLC0415 (kept beside its only use)

    pending = list(commands)
    while pending:
        try:
            results = ledger.submit(pending)
        except BatchRejected as refused:
            # An invalid command (a redemption of more tokens than exist, a
            # transfer of an unknown asset...) is dropped; the rest go again.
            position = int(str(refused.context["position"]))
            summary.rejected[f"invalid:{type(refused.cause).__name__}"] += 1
            pending = pending[:position] + pending[position + 1 :]
            continue
        for result in results:
            summary.commands += 1
            if result.accepted:
                summary.accepted[result.command_type] += 1
            else:
                summary.rejected[result.rule or "?"] += 1
        return
