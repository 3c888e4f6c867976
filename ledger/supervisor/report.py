"""The supervisor's report, gathered in one read of the views at a signed checkpoint.

`gather` reads the views, the evidence behind their rows and the views'
digests in one read-only transaction, at the log's head, which the caller has
just covered by a signed checkpoint: so the figures, the leaves they cite and
the digests a replay of the bundle must give all describe that checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from domain.accounts import BANK_HOLDINGS, is_client_account
from domain.crossborder import cents_text
from domain.money import format_amount
from ledger.audit.log import StoredCheckpoint
from ledger.audit.notes import Checkpoint, Note
from ledger.reports import compliance_in, settlements_in
from ledger.supervisor import figures
from ledger.supervisor.evidence import Evidence, gather_evidence
from ledger.supervisor.tables import Row, Table
from ledger.views import BankRow, ReadModel, view_digests_in

FORMAT = "ledger-supervisor-report/v1"


@dataclass(frozen=True)
class Figure:
    """One figure of the summary: what it is, its value, and the section that details it."""

    label: str
    value: str
    detail: str = ""
    section: str = ""
    alert: bool = False


@dataclass
class Section:
    id: str
    title: str
    intro: str
    tables: list[Table] = field(default_factory=list)
    charts: list[figures.LineChart] = field(default_factory=list)


@dataclass
class Report:
    bank: BankRow | None
    time_zone: str
    origin: str
    verifier_key: str
    checkpoint: StoredCheckpoint | None
    tree_size: int
    root: str
    as_of: str | None
    summary: list[Figure]
    sections: list[Section]
    digests: dict[str, str]
    evidence: Evidence

    @property
    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "origin": self.origin,
            "bank": (self.bank._asdict() | {"time_zone": self.time_zone}) if self.bank else None,
            "checkpoint": {
                "size": self.tree_size,
                "root": self.root,
                "note": self.checkpoint.note if self.checkpoint else None,
                "verifier_key": self.verifier_key,
            },
            "as_of": self.as_of,
            "view_digests": self.digests,
            "summary": [{"label": f.label, "value": f.value, "detail": f.detail} for f in self.summary],
            "tables": {table.name: table.rows for table in self.tables},
        }


def gather(reader: ReadModel, origin: str, checkpoint: StoredCheckpoint | None, verifier_key: str) -> Report:
    size, root = covered(checkpoint)
    with reader.session() as session:
        bank = reader.bank(session)
        scales = reader.scales(session)
        balances = reader.balance_rows(session)
        tokens = reader.tokens(session)
        trades = reader.trade_rows(session)
        settlement_rows = reader.settlement_rows(session)
        clients = reader.client_rows(session)
        lifecycle = reader.lifecycle_rows(session)
        reversals = reader.reversal_rows(session)
        late = reader.late_rows(session)
        zone = str(reader.time_zone(session))
        as_of = reader.ledger_day(session)
        latest = reader.ledger_time(session)
        rejections = compliance_in(reader, session)
        crossborder = settlements_in(reader, session)
        evidence = gather_evidence(reader, session, size, [row[0] for row in late])
        digests = view_digests_in(session)
    settlements = figures.valued(settlement_rows)
    flows = figures.client_flows(settlements)
    trend_table, charts = figures.trends(settlements, evidence, rejections["by_day"], as_of)
    outflow = figures.outflow_by_client(flows, evidence)
    by_client, by_counterparty = figures.concentration(settlements)
    attempts = figures.foreign_attempts(evidence)
    gaps = figures.travel_rule_gaps(settlements, evidence, scales)
    notices = figures.aml_notices(evidence, scales)
    client_totals, bank_totals = _holdings(balances)
    sections = [
        Section(
            "foreign-venues",
            "Foreign-venue attempts",
            "Resident clients may trade tokens for money only on listed domestic venues or with the bank.",
            [attempts, _rejections_by_rule(rejections), _late(late, evidence)],
        ),
        Section(
            "outflow",
            "Cross-border outflow",
            "Value sent abroad under each client's settlements, and what has not come back.",
            [outflow, _settlement_summary(crossborder), *_outstanding_tables(crossborder)],
        ),
        Section(
            "concentration",
            "Concentration",
            "Where the outstanding value abroad is concentrated.",
            [by_client, by_counterparty],
        ),
        Section("trends", "Trends", "Day by day, in ledger time.", [trend_table], charts),
        Section(
            "travel-rule",
            "Travel rule",
            "Originator and beneficiary data on settlements, and IVMS101 data on crypto withdrawals.",
            [gaps, _travel_rule(crossborder), _crypto_transfers(crossborder)],
        ),
        Section("aml", "AML notifications", "Operations at or above the AML threshold.", [notices]),
        Section(
            "clients",
            "Clients, lifecycles and corrections",
            "Each client's KYC and status; every lifecycle change; every reversal beside its original.",
            [_clients(clients), _lifecycle(lifecycle, evidence), _reversals(reversals, evidence)],
        ),
        Section(
            "holdings",
            "Balances and supply",
            "Client balances with their totals per asset; the bank's own accounts; token supply against holdings.",
            [
                _client_balances(balances, scales, client_totals),
                _system_balances(balances, scales),
                _supply(tokens, scales, client_totals, bank_totals),
                _trades(trades, scales),
                _monthly_volume(crossborder),
            ],
        ),
        Section(
            "settlements",
            "Every settlement",
            "Each settlement with its status and the leaves of its events.",
            [_settlements_table(crossborder, evidence)],
        ),
        Section(
            "evidence",
            "Evidence",
            "What this report covers and how to check it.",
            [_checkpoint_table(checkpoint, size, root, verifier_key), _digests_table(digests)],
        ),
    ]
    summary = _summary(size, crossborder, rejections, client_totals, scales, attempts, gaps, notices)
    return Report(
        bank, zone, origin, verifier_key, checkpoint, size, root, latest, summary, sections, digests, evidence
    )


def covered(checkpoint: StoredCheckpoint | None) -> tuple[int, str]:
    """The size and root (base64) of the checkpoint a report covers; (0, '') for none."""
    if checkpoint is None:
        return 0, ""
    parsed = Checkpoint.parse(Note.parse(checkpoint.note).text)
    return parsed.size, checkpoint.note.splitlines()[2]


def _holdings(balances: list[tuple[str, str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    clients: dict[str, int] = {}
    bank: dict[str, int] = {}
    for account, asset, amount in balances:
        if is_client_account(account):
            clients[asset] = clients.get(asset, 0) + int(amount)
        elif account in BANK_HOLDINGS:
            bank[asset] = bank.get(asset, 0) + int(amount)
    return clients, bank


def _summary(
    size: int,
    crossborder: dict[str, Any],
    rejections: dict[str, Any],
    client_totals: dict[str, int],
    scales: dict[str, int],
    attempts: Table,
    gaps: Table,
    notices: Table,
) -> list[Figure]:
    overdue = sum((Fraction(v) for v in crossborder["overdue"]["by_age"].values()), Fraction(0))
    offenders = len({row["client"] for row in attempts.rows})
    held = ", ".join(f"{format_amount(v, scale=scales[a])} {a}" for a, v in sorted(client_totals.items()) if v)
    return [
        Figure("Checkpoint covered", f"{size:,} leaves", "the signed tree this report describes", "evidence"),
        Figure("Client holdings", held or "none", "what the bank owes its clients, per asset", "holdings"),
        Figure(
            "Outstanding abroad",
            f"{crossborder['outstanding_byn']} BYN",
            "sent, not yet returned or delivered",
            "outflow",
        ),
        Figure("Overdue", f"{cents_text(overdue)} BYN", "outstanding past its deadline", "outflow", alert=overdue > 0),
        Figure(
            "Outbound value returned",
            crossborder["share_returned"] or "n/a",
            f"of {crossborder['sent_byn']} BYN sent",
            "outflow",
        ),
        Figure(
            "Recorded rejections",
            f"{rejections['total']:,}",
            f"{len(attempts.rows)} client-days of foreign-venue attempts by {offenders} clients",
            "foreign-venues",
            alert=offenders > 0,
        ),
        Figure("AML notifications", f"{len(notices.rows):,}", "operations at or above the threshold", "aml"),
        Figure(
            "Travel-rule gaps",
            f"{len(gaps.rows):,}",
            f"of {crossborder['count']} settlements lack some data",
            "travel-rule",
            alert=bool(gaps.rows),
        ),
    ]


def _late(late: list[Any], evidence: Evidence) -> Table:
    return Table(
        "late_commands",
        "Commands recorded late",
        [
            {
                "key": key,
                "command_type": kind,
                "ledger_time": time,
                "late_by_seconds": by,
                "leaves": evidence.command_leaves(key),
            }
            for key, _, kind, time, by in late
        ],
        "Back-dated inside the back-dating window: recorded after the ledger's time had passed theirs.",
        columns=["key", "command_type", "ledger_time", "late_by_seconds", "leaves"],
    )


def _clients(clients: list[Any]) -> Table:
    return Table(
        "clients",
        "Clients and their lifecycle",
        [row.to_json() for row in clients],
        "KYC pending, verified or revoked; kyc_expires_on is the first day a verification no longer holds.",
    )


def _lifecycle(lifecycle: list[Any], evidence: Evidence) -> Table:
    return Table(
        "lifecycle_changes",
        "Lifecycle changes",
        [
            row._asdict() | {"leaves": evidence.leaves([n])}
            for row, n in zip(lifecycle, evidence.lifecycle, strict=True)
        ],
        "Clients' KYC, freezes and offboarding, issuers' licences, settlements falling overdue and their "
        "deadlines extended (reason: the permit; detail: the deadline concerned), in log order.",
        columns=["day", "subject", "subject_id", "change", "reason", "detail", "leaves"],
    )


def _reversals(reversals: list[Any], evidence: Evidence) -> Table:
    return Table(
        "reversals",
        "Reversals beside their originals",
        [row._asdict() | {"leaves": evidence.command_leaves(row.original_key, row.reversal_key)} for row in reversals],
        "Each correction by opposite postings: the original stays in the log; both keys, the reason, the "
        "reference, and the leaves of both.",
        columns=[
            "original_key",
            "reversal_key",
            "original_type",
            "original_day",
            "day",
            "reason",
            "reference",
            "leaves",
        ],
    )


def _rejections_by_rule(rejections: dict[str, Any]) -> Table:
    return Table(
        "rejections_by_rule",
        "Recorded rejections by rule",
        [{"rule": rule, "rejections": n} for rule, n in rejections["by_rule"].items()],
        "Every rule code, those never broken included.",
    )


def _settlement_summary(crossborder: dict[str, Any]) -> Table:
    keys = ("as_of", "count", "sent_byn", "returned_byn", "delivered_byn", "outstanding_byn", "share_returned")
    return Table(
        "settlement_summary",
        "Cross-border settlements in all",
        [
            {key: crossborder[key] for key in (*keys, "share_settled")}
            | {f"status_{k}": v for k, v in crossborder["by_status"].items()}
        ],
        "BYN equivalents at each settlement's day; share_returned is the outbound value that came back.",
    )


def _outstanding_tables(crossborder: dict[str, Any]) -> list[Table]:
    overdue = crossborder["overdue"]
    return [
        Table(
            "outstanding_by_age",
            "Outstanding and overdue value by age, BYN",
            [
                {"age": age, "outstanding_byn": value, "overdue_byn": overdue["by_age"].get(age, "0.00")}
                for age, value in crossborder["outstanding"]["by_age"].items()
            ],
        ),
        Table(
            "outstanding_by_country",
            "Outstanding and overdue value by counterparty country, BYN",
            [
                {"country": c, "outstanding_byn": v, "overdue_byn": overdue["by_country"].get(c, "0.00")}
                for c, v in crossborder["outstanding"]["by_country"].items()
            ],
        ),
    ]


def _travel_rule(crossborder: dict[str, Any]) -> Table:
    return Table("travel_rule", "Travel-rule completeness", [crossborder["travel_rule"]])


CRYPTO_TRANSFER_COLUMNS = [
    *("day", "key", "client_id", "asset", "amount", "wallet_address", "self_hosted"),
    *("originator", "beneficiary", "beneficiary_vasp", "ivms101"),
]


def _crypto_transfers(crossborder: dict[str, Any]) -> Table:
    return Table(
        "crypto_transfers",
        "Crypto transfers with travel-rule data (IVMS101)",
        crossborder["crypto_transfers"],
        "Each crypto withdrawal that carried IVMS101 data: who sent to whom, through which VASP "
        "(none: a self-hosted wallet), and the whole payload.",
        columns=CRYPTO_TRANSFER_COLUMNS,
    )


def _client_balances(balances: list[tuple[str, str, str]], scales: dict[str, int], totals: dict[str, int]) -> Table:
    rows: list[Row] = [
        {"account": a, "asset": s, "amount": format_amount(int(m), scale=scales[s])}
        for a, s, m in balances
        if is_client_account(a)
    ]
    return Table(
        "client_balances",
        "Client balances",
        rows,
        "Every client account's balance of each asset it holds.",
        columns=["account", "asset", "amount"],
        totals=[
            {"account": "all clients", "asset": code, "amount": format_amount(total, scale=scales[code])}
            for code, total in sorted(totals.items())
        ],
    )


def _system_balances(balances: list[tuple[str, str, str]], scales: dict[str, int]) -> Table:
    return Table(
        "system_balances",
        "The bank's own and system accounts",
        [
            {"account": a, "asset": s, "amount": format_amount(int(m), scale=scales[s])}
            for a, s, m in balances
            if not is_client_account(a)
        ],
        "Treasury and fees are the bank's; issuance, external and in-transit balance the books (issuance and "
        "external are negative).",
        columns=["account", "asset", "amount"],
    )


def _supply(tokens: list[Any], scales: dict[str, int], clients: dict[str, int], bank: dict[str, int]) -> Table:
    return Table(
        "supply",
        "Token supply against holdings",
        [
            {
                "token": code,
                "issuer": issuer,
                "cap": format_amount(int(cap), scale=scales[code]) if cap else "",
                "supply": format_amount(int(supply), scale=scales[code]),
                "held_by_clients": format_amount(clients.get(code, 0), scale=scales[code]),
                "held_by_bank": format_amount(bank.get(code, 0), scale=scales[code]),
                "matches": int(supply) == clients.get(code, 0) + bank.get(code, 0),
            }
            for code, _, issuer, cap, supply in tokens
        ],
        "Supply must equal what clients and the bank hold.",
        columns=["token", "issuer", "cap", "supply", "held_by_clients", "held_by_bank", "matches"],
    )


def _trades(trades: list[Any], scales: dict[str, int]) -> Table:
    return Table(
        "trades_by_venue",
        "Trades by venue",
        [
            {
                "venue": venue or "(with the bank)",
                "name": name or "",
                "domestic": bool(domestic) if venue else True,
                "pair": f"{base}/{quote}",
                "trades": count,
                "base_volume": format_amount(int(bv), scale=scales[base]),
                "quote_volume": format_amount(int(qv), scale=scales[quote]),
                "fees": format_amount(int(fees), scale=scales[quote]),
            }
            for venue, name, domestic, base, quote, count, bv, qv, fees in trades
        ],
        columns=["venue", "name", "domestic", "pair", "trades", "base_volume", "quote_volume", "fees"],
    )


def _monthly_volume(crossborder: dict[str, Any]) -> Table:
    return Table(
        "monthly_external_volume",
        "Monthly external-payment volume by country, BYN",
        [
            {"month": month, "country": country, "volume_byn": value}
            for month, countries in crossborder["monthly_volume_byn"].items()
            for country, value in countries.items()
        ],
    )


def _settlements_table(crossborder: dict[str, Any], evidence: Evidence) -> Table:
    rows = [row | {"leaves": evidence.settlement_leaves(row["settlement_id"])} for row in crossborder["settlements"]]
    return Table("settlements", "Settlements", rows)


def _checkpoint_table(checkpoint: StoredCheckpoint | None, size: int, root: str, verifier_key: str) -> Table:
    if checkpoint is None:
        return Table("checkpoint", "Signed checkpoint covered", [], "No checkpoint has been signed yet.", ["tree_size"])
    return Table(
        "checkpoint",
        "Signed checkpoint covered",
        [{"tree_size": size, "root_hash": root, "signed_at": checkpoint.signed_at, "verifier_key": verifier_key}],
        f"The checkpoint is saved beside this report as checkpoint-{size}.txt.",
        kinds={"root_hash": "code", "verifier_key": "code"},
    )


def _digests_table(digests: dict[str, str]) -> Table:
    return Table(
        "view_digests",
        "View digests at the checkpoint",
        [{"view": view, "sha256": digest} for view, digest in digests.items()],
        "SHA-256 of each view's rows: 'ledger replay --bundle DIR --key KEY' prints the same from the exported bundle.",
        kinds={"sha256": "code"},
    )
