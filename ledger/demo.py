"""The main job: a full scenario end to end in a sandbox, with a readable summary.

The scenario onboards a licensed and an unlicensed token issuer and three
clients, registers fiat, crypto and a bank-issued token, funds the clients,
moves value, and shows what the ledger refuses: rule violations recorded for
the supervisor, and malformed input that writes nothing. Its idempotency keys
are fixed, so running it again in the same home changes nothing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domain.commands import (
    BaseCommand,
    CheckDeadlines,
    CloseSettlementByDelivery,
    Deposit,
    ExecuteTrade,
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
from domain.crossborder import Direction, PartyInfo
from domain.errors import BatchRejected
from domain.money import AssetKind
from domain.parties import ClientKind, Residency, VenueKind
from ledger.audit.bundle import export_bundle
from ledger.audit.verify import verify_bundle
from ledger.clock import ManualClock
from ledger.extras import SERVICE
from ledger.reports import compliance, print_settlements
from ledger.reports import settlements as settlement_report
from ledger.sandbox import ESTABLISH_BANK_KEY, Sandbox
from ledger.service import CommandResult, Ledger

DEMO_START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)


def reference_data() -> list[BaseCommand]:
    return [
        RegisterIssuer(key="demo:issuer:svislach", issuer_id="svislach", name="Svislach Tokens LLC", licensed=True),
        RegisterIssuer(key="demo:issuer:grey-mint", issuer_id="grey-mint", name="Grey Mint Ltd", licensed=False),
        RegisterAsset(key="demo:asset:BYN", code="BYN", scale=2, kind=AssetKind.FIAT),
        RegisterAsset(key="demo:asset:USDT", code="USDT", scale=6, kind=AssetKind.CRYPTO),
        RegisterAsset(key="demo:asset:BTC", code="BTC", scale=8, kind=AssetKind.CRYPTO),
        RegisterAsset(key="demo:asset:ETH", code="ETH", scale=18, kind=AssetKind.CRYPTO),
        RegisterToken(key="demo:token:SVT", code="SVT", scale=2, issuer_id="svislach", supply_cap="1000000.00"),
        ListVenue(
            key="demo:venue:minsk-htp",
            venue_id="minsk-htp",
            name="Minsk HTP Digital Platform",
            kind=VenueKind.HTP_PLATFORM,
            assets=["BYN", "USDT", "BTC", "SVT"],
        ),
        ListVenue(
            key="demo:venue:offshore",
            venue_id="offshore-x",
            name="Offshore Exchange Ltd",
            kind=VenueKind.FOREIGN_EXCHANGE,
            assets=["BYN", "USDT", "BTC"],
        ),
    ]


def clients() -> list[BaseCommand]:
    people = [
        ("alesia", "Alesia Kavalenka", Residency.RESIDENT, ClientKind.INDIVIDUAL),
        ("nord-timber", "Nord Timber JSC", Residency.RESIDENT, ClientKind.COMPANY),
        ("jan", "Jan Novak", Residency.NON_RESIDENT, ClientKind.INDIVIDUAL),
    ]
    onboard: list[BaseCommand] = [
        OnboardClient(key=f"demo:onboard:{cid}", client_id=cid, name=name, residency=res, kind=kind)
        for cid, name, res, kind in people
    ]
    verify: list[BaseCommand] = [VerifyKyc(key=f"demo:kyc:{cid}", client_id=cid) for cid, *_ in people]
    return onboard + verify


def movements() -> list[BaseCommand]:
    return [
        Deposit(key="demo:deposit:1", client_id="alesia", asset="BYN", amount="5000.00", reference="BYN-IN-0001"),
        Deposit(
            key="demo:deposit:2",
            client_id="nord-timber",
            asset="USDT",
            amount="1250.000000",
            reference="tron:7f3a9c",
        ),
        IssueTokens(key="demo:issue:1", issuer_id="svislach", asset="SVT", client_id="alesia", amount="10000.00"),
        Transfer(
            key="demo:transfer:1",
            source_client_id="alesia",
            target_client_id="nord-timber",
            asset="SVT",
            amount="2500.00",
        ),
        RedeemTokens(key="demo:redeem:1", issuer_id="svislach", asset="SVT", client_id="nord-timber", amount="500.00"),
        Withdraw(key="demo:withdraw:1", client_id="alesia", asset="BYN", amount="1200.00", reference="BYN-OUT-0001"),
        ExecuteTrade(
            key="demo:trade:domestic",
            venue_id="minsk-htp",
            buyer_client_id="alesia",
            seller_client_id="nord-timber",
            base_asset="USDT",
            base_amount="100.000000",
            quote_asset="BYN",
            quote_amount="330.00",
            fee="0.50",
        ),
        # The bank sells only what its treasury holds: it buys the BTC outside first.
        FundTreasury(key="demo:treasury:btc", asset="BTC", amount="0.01000000", reference="otc:btc-0001"),
        ExecuteTrade(
            key="demo:trade:with-bank",
            buyer_client_id="alesia",
            base_asset="BTC",
            base_amount="0.00100000",
            quote_asset="BYN",
            quote_amount="300.00",
        ),
    ]


def attempts() -> list[BaseCommand]:
    """Commands the rules refuse; each refusal is recorded for the supervisor."""
    return [
        ExecuteTrade(
            key="demo:trade:offshore",
            venue_id="offshore-x",
            buyer_client_id="alesia",
            base_asset="USDT",
            base_amount="50.000000",
            quote_asset="BYN",
            quote_amount="165.00",
        ),
        RegisterToken(key="demo:token:GRY", code="GRY", scale=2, issuer_id="grey-mint", supply_cap="500000.00"),
        IssueTokens(
            key="demo:issue:over-cap",
            issuer_id="svislach",
            asset="SVT",
            client_id="alesia",
            amount="995000.00",
        ),
        Withdraw(key="demo:withdraw:jan", client_id="jan", asset="BYN", amount="10.00", reference="BYN-OUT-0002"),
    ]


def settlements(start: datetime = DEMO_START) -> list[BaseCommand]:
    """Nord Timber's foreign contracts from `start`: an export whose proceeds
    return on time, an import closed by delivery, an export only partly
    returned, and an import whose goods never come, which goes overdue."""
    day = start.date()
    originator = PartyInfo(name="Nord Timber JSC", account="client:nord-timber", customer_id="NT-1", country="BY")

    def initiate(sid: str, direction: Direction, counterparty: str, country: str, amount: str) -> BaseCommand:
        beneficiary = PartyInfo(name=counterparty, account=f"IBAN-{sid}", address="Harbour Road 1", country=country)
        return InitiateSettlement(
            key=f"demo:settle:{sid}",
            settlement_id=sid,
            client_id="nord-timber",
            direction=direction,
            counterparty=counterparty,
            country=country,
            contract_reference=f"CONTRACT-{sid}",
            asset="BYN",
            amount=amount,
            deadline_days=60,
            originator=originator,
            beneficiary=beneficiary,
            ledger_time=start,
        )

    def at(command: BaseCommand, days: int) -> BaseCommand:
        return command.model_copy(update={"ledger_time": start + timedelta(days=days)})

    return [
        SetReferenceRate(key="demo:rate:USD", code="USD", byn_per_unit="3.2000", effective_on=day),
        SetReferenceRate(key="demo:rate:USDT", code="USDT", byn_per_unit="3.2500", effective_on=day),
        Deposit(
            key="demo:deposit:nord",
            client_id="nord-timber",
            asset="BYN",
            amount="120000.00",
            reference="BYN-IN-0003",
            ledger_time=start,
        ),
        Deposit(
            key="demo:deposit:large",
            client_id="alesia",
            asset="BYN",
            amount="95000.00",
            reference="BYN-IN-0004",
            ledger_time=start,
        ),
        initiate("EXP-1", Direction.EXPORT, "Baltic Wood GmbH", "DE", "40000.00"),
        initiate("IMP-1", Direction.IMPORT, "Silk Road Machinery LLC", "KZ", "25000.00"),
        initiate("EXP-2", Direction.EXPORT, "Caspian Traders FZE", "AE", "30000.00"),
        initiate("IMP-2", Direction.IMPORT, "Golden Horn Textiles", "TR", "15000.00"),
        at(
            ReturnSettlementFunds(
                key="demo:return:EXP-1", settlement_id="EXP-1", amount="40000.00", reference="SWIFT-IN-77"
            ),
            35,
        ),
        at(
            CloseSettlementByDelivery(
                key="demo:deliver:IMP-1", settlement_id="IMP-1", delivery_reference="CMR-2026-118"
            ),
            41,
        ),
        at(
            ReturnSettlementFunds(
                key="demo:return:EXP-2", settlement_id="EXP-2", amount="12000.00", reference="SWIFT-IN-81"
            ),
            50,
        ),
        at(CheckDeadlines(key="demo:deadlines:day-62"), 62),
    ]


def malformed() -> BaseCommand:
    """An amount with more decimals than BYN has: refused, nothing written."""
    return Deposit(key="demo:deposit:bad", client_id="jan", asset="BYN", amount="10.005", reference="BYN-IN-0002")


def story_start(ledger: Ledger) -> datetime:
    """DEMO_START; in a ledger established after it (a home that `ledger init`
    prepared today), the ledger day after its establishment, at the same time
    of day: the story is never back-dated, and a second run repeats the first."""
    established = ledger.read_model.transaction(ESTABLISH_BANK_KEY)
    if established is None or datetime.fromisoformat(established.ledger_time) < DEMO_START:
        return DEMO_START
    day = ledger.state.day(datetime.fromisoformat(established.ledger_time))
    return datetime.combine(day + timedelta(days=1), DEMO_START.timetz())


@dataclass(frozen=True)
class Invocation:
    """How the user ran `ledger`, so that the next commands the demo prints run
    exactly as printed: the program as they typed it (`ledger` when that is the
    one on the PATH, else its path, relative to the current folder when it is
    under it) and the options naming the demo's store."""

    program: str
    home: Path
    database_url: str | None = None  # given on the command line (one from the environment is inherited)
    activate: str | None = None  # the venv's activate script, when `program` is a path into a venv

    @classmethod
    def current(cls, home: Path, database_url: str | None) -> Invocation:
        program = _program_as_typed(sys.argv[0])
        if os.environ.get("LEDGER_DATABASE_URL") == database_url:
            database_url = None
        activate = Path(program).parent / "activate"
        return cls(program, home, database_url, str(activate) if "/" in program and activate.exists() else None)

    @property
    def options(self) -> str:
        """The options naming the store, shell-quoted."""
        options = ["--home", str(self.home)]
        if self.database_url:
            options += ["--database-url", self.database_url]
        return shlex.join(options)


def _program_as_typed(argv0: str) -> str:
    if argv0.endswith("__main__.py"):  # python -m ledger
        return f"{shlex.quote(_shortest(Path(sys.executable)))} -m ledger"
    on_path = shutil.which("ledger")
    if on_path is not None and Path(on_path).resolve() == Path(argv0).resolve():
        return "ledger"
    return shlex.quote(_shortest(Path(argv0)))


def _shortest(path: Path) -> str:
    """The path relative to the current folder when it is under it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def run_demo(sandbox: Sandbox, console: Console, invocation: Invocation | None = None) -> int:
    """Runs the story; with `invocation`, ends with the next commands to try, as the user would type them."""
    if not sandbox.home.is_initialised():
        key = sandbox.init(allow_unencrypted_key=True, ledger_clock=ManualClock(DEMO_START - timedelta(days=1)))
        console.print(f"[bold]Initialised[/] a sandbox in {sandbox.home.root} (unencrypted sandbox key)")
        console.print(f"  verifier key: {key}", soft_wrap=True)
    clock = ManualClock(DEMO_START, step=timedelta(hours=1))
    with sandbox.open(ledger_clock=clock) as ledger:
        start = story_start(ledger)
        clock.current = start - timedelta(days=1)  # the world the day before its settlements: none is back-dated
        bank = ledger.state.bank
        assert bank is not None
        console.print(f"\n[bold]{bank.name}[/], NBRB register entry {bank.nbrb_register_entry}\n")
        for title, batch in (
            ("Reference data: issuers, assets, a token", reference_data()),
            ("Clients onboarded and KYC-verified", clients()),
            ("Funding and movements", movements()),
            ("Attempts the rules refuse (recorded)", attempts()),
            ("Cross-border settlements", settlements(start)),
        ):
            _show_batch(console, title, batch, ledger.submit(batch))
        _show_refusal(console, ledger)
        _show_balances(console, ledger)
        _show_supply(console, ledger)
        _show_compliance(console, ledger)
        console.print()
        print_settlements(settlement_report(ledger.read_model), console)
        console.print(f"\nEvents in the log: {ledger.state.position}; recorded rejections: {ledger.state.rejections}")
        bundle, verifier_key = _export_and_verify(console, sandbox, ledger)
    if invocation is not None:
        _show_next(console, invocation, bundle, verifier_key)
    return 0


def next_commands(invocation: Invocation, bundle: Path, verifier_key: str) -> list[tuple[str, str]]:
    """The commands to try after the demo, each with what it shows."""
    ledger, options = invocation.program, invocation.options
    report = shlex.quote(str(invocation.home / "report"))
    return [
        (f"{ledger} balances {options}", "balances per account and asset"),
        (f"{ledger} transactions {options} --limit 5", "the latest transactions and rejections"),
        (f"{ledger} report supervisor {options} --out {report}", "the supervisor's signed HTML report"),
        (
            f"{ledger} audit verify {shlex.quote(str(bundle))} --key {shlex.quote(verifier_key)}",
            "the bundle, verified offline",
        ),
        (f"{ledger} serve {options}", "the HTTP service; docs at http://127.0.0.1:8080/docs, Ctrl-C stops"),
    ]


def _show_next(console: Console, invocation: Invocation, bundle: Path, verifier_key: str) -> None:
    console.print("\n[bold underline]Try next[/], from this folder:")
    for command, what in next_commands(invocation, bundle, verifier_key):
        console.print(f"  {escape(command)}  [dim]# {what}[/]", soft_wrap=True, highlight=False)
    if not SERVICE.installed():
        pip = Path(invocation.program).parent / "pip" if invocation.activate else Path("pip")
        install = f"{shlex.quote(str(pip))} install {shlex.quote(SERVICE.requirement)}"
        console.print(
            f"  (serve needs the {SERVICE.what} extra: {install})",
            soft_wrap=True,
            highlight=False,
            markup=False,  # [service] is text
        )
    if invocation.activate:
        console.print(f"  (or `source {escape(invocation.activate)}` first and type `ledger ...`)", highlight=False)
    home = shlex.quote(str(invocation.home))
    console.print(f"  (export LEDGER_HOME={home} to leave out --home {home})", highlight=False, markup=False)


def _export_and_verify(console: Console, sandbox: Sandbox, ledger: Ledger) -> tuple[Path, str]:
    """Exports the audit bundle and verifies it offline, as the supervisor would."""
    signer = sandbox.signer()
    size = ledger.audit.checkpoint(signer, ledger.clock.now()).size
    directory = sandbox.home.root / f"audit-bundle-{size}"
    if not directory.exists():
        export_bundle(ledger.audit, signer, directory, ledger.clock.now())
    findings = verify_bundle(directory, signer.verifier.encode())
    console.print(f"\n[bold underline]Audit bundle for the supervisor[/]: {directory}")
    console.print(f"  verifier key: {signer.verifier.encode()}", soft_wrap=True)
    if findings:
        for finding in findings:
            console.print(f"  [red]FAIL[/] {finding}", soft_wrap=True)
        raise AssertionError("the demo's own bundle does not verify")
    console.print(f"  [green]verified offline[/]: {size} leaves, every checkpoint signed and consistent")
    return directory, signer.verifier.encode()


def _show_batch(console: Console, title: str, batch: Sequence[BaseCommand], results: list[CommandResult]) -> None:
    console.print(f"[bold underline]{title}[/]")
    for command, result in zip(batch, results, strict=True):
        again = " [dim](repeat: nothing written)[/]" if result.repeated else ""
        if result.accepted:
            console.print(f"  [green]accepted[/] {result.command_type:<16} {command.key}{again}")
        else:
            console.print(f"  [red]rejected[/] {result.command_type:<16} {command.key}{again}")
            console.print(f"           [red]{result.rule}[/]: {result.reason}")
    console.print()


def _show_refusal(console: Console, ledger: Ledger) -> None:
    console.print("[bold underline]Malformed input: refused, nothing written[/]")
    before = ledger.state.position
    try:
        ledger.submit([malformed()])
    except BatchRejected as refused:
        console.print(f"  [yellow]{refused.message}[/]", soft_wrap=True)
    assert ledger.state.position == before


def _show_balances(console: Console, ledger: Ledger) -> None:
    table = Table(title="Client balances", title_justify="left")
    table.add_column("Account")
    table.add_column("Asset")
    table.add_column("Amount", justify="right")
    for row in ledger.balances():
        table.add_row(row.account, row.asset, row.amount)
    console.print()
    console.print(table)


def _show_supply(console: Console, ledger: Ledger) -> None:
    table = Table(title="Token supply against holdings", title_justify="left")
    for column in ("Token", "Issuer", "Cap", "Supply", "Held by clients"):
        table.add_column(column, justify="right" if column not in ("Token", "Issuer") else "left")
    for asset in sorted(ledger.state.assets.values(), key=lambda a: a.code):
        if asset.kind != AssetKind.TOKEN or asset.supply_cap_minor is None:
            continue
        table.add_row(
            asset.code,
            asset.issuer_id or "",
            asset.format(asset.supply_cap_minor),
            asset.format(ledger.state.supply(asset.code)),
            asset.format(ledger.state.holdings(asset.code)),
        )
    console.print(table)


def _show_compliance(console: Console, ledger: Ledger) -> None:
    report = compliance(ledger.read_model)
    table = Table(title="Compliance: recorded rejections by rule", title_justify="left")
    table.add_column("Rule")
    table.add_column("Rejections", justify="right")
    for rule, count in report["by_rule"].items():
        if count:
            table.add_row(rule, str(count))
    console.print(table)
