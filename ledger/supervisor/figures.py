"""What the supervisor looks for in cross-border crypto flows, from the views and the evidence.

Pure functions of rows and events: who keeps trying foreign venues, what each
client sent abroad and what never came back, where the outstanding value is
concentrated, how outstanding and overdue value moved day by day, which
settlements lack travel-rule data, and the AML notices. BYN values are each
settlement's equivalent at its own day, as in `ledger report settlements`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, cast

from domain.crossborder import cents_text, is_overdue, ratio_text, settlement_outstanding_minor
from domain.events import (
    AmlNotificationRecorded,
    FundsReturned,
    SettlementClosedByDelivery,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
)
from domain.money import format_amount
from ledger.supervisor.evidence import Cited, Evidence
from ledger.supervisor.tables import Table
from ledger.views import SettlementRow

TOP = 10  # rows of each concentration table
TREND_DAYS_MAX = 400  # a longer history is shown by week


# Settlements, valued.


@dataclass
class Valued:
    """A settlement with its amounts in BYN at its own day's rate (None: no rate)."""

    row: SettlementRow
    per_unit: Fraction | None

    @classmethod
    def of(cls, row: SettlementRow) -> Valued:
        sent = int(row.sent_minor)
        per_unit = Fraction(row.value_byn) / sent if row.value_byn is not None and sent else None
        return cls(row, per_unit)

    def byn(self, minor: int) -> Fraction:
        return self.per_unit * minor if self.per_unit is not None else Fraction(0)

    @property
    def outstanding_minor(self) -> int:
        return settlement_outstanding_minor(
            int(self.row.sent_minor), int(self.row.returned_minor), int(self.row.delivered_minor)
        )


def valued(rows: Iterable[SettlementRow]) -> list[Valued]:
    return [Valued.of(row) for row in rows]


# Who keeps trying foreign venues.


def foreign_attempts(evidence: Evidence) -> Table:
    """Refusals under the domestic-only rule by client and day, repeat offenders first."""
    days: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in evidence.foreign_attempts:
        for client in row.clients or ("(no client)",):
            days[(client, evidence.day(row.ledger_time).isoformat())].append(row)
    per_client = Counter[str]()
    day_count = Counter[str]()
    for (client, _), attempts in days.items():
        per_client[client] += len(attempts)
        day_count[client] += 1
    ordered = sorted(days.items(), key=lambda item: (-per_client[item[0][0]], item[0][0], item[0][1]))
    rows = [
        {
            "client": client,
            "day": day,
            "attempts": len(attempts),
            "client_attempts": per_client[client],
            "client_days": day_count[client],
            "venues": ", ".join(sorted({a.venue_id or "?" for a in attempts})),
            "leaves": evidence.leaves(n for a in attempts for n in a.notification_ids),
        }
        for (client, day), attempts in ordered
    ]
    return Table(
        "foreign_venue_attempts",
        "Foreign-venue attempts by client and day",
        rows,
        "Trades refused under the domestic-only rule (Decree No. 367), the clients who tried most first: "
        "client_attempts and client_days count all of a client's attempts and the days they fell on.",
        columns=["client", "day", "attempts", "client_attempts", "client_days", "venues", "leaves"],
    )


# What each client sent abroad, and what never came back.


@dataclass
class ClientFlow:
    settlements: int = 0
    sent: Fraction = Fraction(0)
    returned: Fraction = Fraction(0)
    delivered: Fraction = Fraction(0)
    outstanding: Fraction = Fraction(0)
    overdue: Fraction = Fraction(0)
    oldest_overdue: str | None = None
    ids: list[str] = field(default_factory=list)


def client_flows(settlements: Sequence[Valued]) -> dict[str, ClientFlow]:
    flows: dict[str, ClientFlow] = defaultdict(ClientFlow)
    for s in settlements:
        flow = flows[s.row.client_id]
        flow.settlements += 1
        flow.ids.append(s.row.settlement_id)
        flow.sent += s.byn(int(s.row.sent_minor))
        flow.returned += s.byn(int(s.row.returned_minor))
        flow.delivered += s.byn(int(s.row.delivered_minor))
        flow.outstanding += s.byn(s.outstanding_minor)
        if is_overdue(s.row.status):
            flow.overdue += s.byn(s.outstanding_minor)
            since = s.row.overdue_on or s.row.deadline
            flow.oldest_overdue = min(filter(None, (flow.oldest_overdue, since)))
    return dict(flows)


def outflow_by_client(flows: dict[str, ClientFlow], evidence: Evidence) -> Table:
    ordered = sorted(flows.items(), key=lambda item: (-item[1].outstanding, -item[1].overdue, item[0]))
    rows = [
        {
            "client": client,
            "settlements": flow.settlements,
            "sent_byn": cents_text(flow.sent),
            "returned_byn": cents_text(flow.returned),
            "delivered_byn": cents_text(flow.delivered),
            "outstanding_byn": cents_text(flow.outstanding),
            "overdue_byn": cents_text(flow.overdue),
            "oldest_overdue": flow.oldest_overdue or "",
            "leaves": sorted({leaf for sid in flow.ids for leaf in evidence.settlement_leaves(sid)}),
        }
        for client, flow in ordered
    ]
    totals = [
        {
            "client": "all clients",
            "settlements": sum(f.settlements for f in flows.values()),
            **{
                f"{name}_byn": cents_text(sum((getattr(f, name) for f in flows.values()), Fraction(0)))
                for name in ("sent", "returned", "delivered", "outstanding", "overdue")
            },
        }
    ]
    return Table(
        "outflow_by_client",
        "Cross-border outflow by client, BYN",
        rows,
        "What each client's settlements sent abroad, what came back (returned) or was settled by delivery, "
        "and what is still outstanding; overdue is outstanding past its deadline. Most unreturned first.",
        totals=totals,
    )


# Concentration.


def concentration(settlements: Sequence[Valued]) -> tuple[Table, Table]:
    total = sum((s.byn(s.outstanding_minor) for s in settlements), Fraction(0))
    by_client: dict[str, Fraction] = defaultdict(Fraction)
    by_counterparty: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
    for s in settlements:
        by_client[s.row.client_id] += s.byn(s.outstanding_minor)
        by_counterparty[(s.row.counterparty, s.row.country)] += s.byn(s.outstanding_minor)

    def share(value: Fraction) -> str:
        return ratio_text(value / total) if total else "0.0000"

    clients = sorted(((v, k) for k, v in by_client.items() if v), key=lambda p: (-p[0], p[1]))[:TOP]
    counterparties = sorted(((v, k) for k, v in by_counterparty.items() if v), key=lambda p: (-p[0], p[1]))[:TOP]
    note = f"The {TOP} largest by outstanding value; share is of all outstanding value ({cents_text(total)} BYN)."
    return (
        Table(
            "concentration_clients",
            "Concentration: clients by outstanding value",
            [
                {"rank": n, "client": c, "outstanding_byn": cents_text(v), "share": share(v)}
                for n, (v, c) in enumerate(clients, 1)
            ],
            note,
            columns=["rank", "client", "outstanding_byn", "share"],
        ),
        Table(
            "concentration_counterparties",
            "Concentration: foreign counterparties by outstanding value",
            [
                {"rank": n, "counterparty": cp, "country": country, "outstanding_byn": cents_text(v), "share": share(v)}
                for n, (v, (cp, country)) in enumerate(counterparties, 1)
            ],
            note,
            columns=["rank", "counterparty", "country", "outstanding_byn", "share"],
        ),
    )


# Trends.


@dataclass(frozen=True)
class Series:
    name: str
    values: list[Fraction]


@dataclass(frozen=True)
class LineChart:
    title: str
    unit: str
    days: list[str]
    series: list[Series]


def trends(
    settlements: Sequence[Valued], evidence: Evidence, rejections_by_day: dict[str, int], as_of: date | None
) -> tuple[Table, list[LineChart]]:
    """Outstanding and overdue value at the end of each ledger day, and rejections per day."""
    changes = _daily_changes(settlements, evidence)
    days = _days(changes, rejections_by_day, as_of)
    outstanding, overdue = _replayed(days, changes)
    rows = [
        {
            "day": day.isoformat(),
            "outstanding_byn": cents_text(outstanding[n]),
            "overdue_byn": cents_text(overdue[n]),
            "rejections": rejections_by_day.get(day.isoformat(), 0),
        }
        for n, day in enumerate(days)
    ]
    texts = [day.isoformat() for day in days]
    charts = [
        LineChart(
            "Outstanding and overdue value abroad",
            "BYN",
            texts,
            [Series("outstanding", outstanding), Series("overdue", overdue)],
        ),
        LineChart(
            "Recorded rejections per day",
            "rejections",
            texts,
            [Series("rejections", [Fraction(rejections_by_day.get(day, 0)) for day in texts])],
        ),
    ]
    table = Table(
        "trends",
        "Outstanding and overdue value, and rejections, by day",
        rows,
        "At the end of each ledger day, from the settlements' own events.",
    )
    return table, charts


@dataclass
class _Change:
    """What one settlement event changes on its day: outstanding value, and whether it is overdue."""

    day: date
    settlement: str
    outstanding: Fraction = Fraction(0)
    overdue: bool | None = None  # True from this day on, False no longer, None unchanged


def _daily_changes(settlements: Sequence[Valued], evidence: Evidence) -> list[_Change]:
    per_unit = {s.row.settlement_id: s for s in settlements}
    changes: list[_Change | None] = []
    for settlement_id, events in evidence.settlements.items():
        known = per_unit.get(settlement_id)
        if known is None:
            continue
        changes.extend(_change(known, cited, evidence.day(cited.event.ledger_time)) for cited in events)
    return sorted((c for c in changes if c is not None), key=lambda c: c.day)


def _change(settlement: Valued, cited: Cited, day: date) -> _Change | None:
    event, sid = cited.event, settlement.row.settlement_id
    if isinstance(event, SettlementInitiated):
        return _Change(day, sid, settlement.byn(event.amount_minor))
    if isinstance(event, FundsReturned | SettlementClosedByDelivery):
        return _Change(day, sid, -settlement.byn(event.amount_minor))
    if isinstance(event, SettlementOverdue):
        return _Change(day, sid, overdue=True)
    if isinstance(event, SettlementDeadlineExtended):
        return _Change(day, sid, overdue=False)
    return None


def _days(changes: list[_Change], rejections: dict[str, int], as_of: date | None) -> list[date]:
    known = [c.day for c in changes] + [date.fromisoformat(day) for day in rejections]
    if not known:
        return []
    first, last = min(known), max([*known, *([as_of] if as_of else [])])
    step = 7 if (last - first).days > TREND_DAYS_MAX else 1
    days = [first + timedelta(days=n) for n in range(0, (last - first).days + 1, step)]
    return days if days[-1] == last else [*days, last]


def _replayed(days: list[date], changes: list[_Change]) -> tuple[list[Fraction], list[Fraction]]:
    owed: dict[str, Fraction] = defaultdict(Fraction)
    late: set[str] = set()
    outstanding, overdue = [], []
    position = 0
    for day in days:
        while position < len(changes) and changes[position].day <= day:
            change = changes[position]
            owed[change.settlement] += change.outstanding
            if change.overdue is True:
                late.add(change.settlement)
            elif change.overdue is False:
                late.discard(change.settlement)
            position += 1
        outstanding.append(sum(owed.values(), Fraction(0)))
        overdue.append(sum((owed[s] for s in late), Fraction(0)))
    return outstanding, overdue


# Travel-rule gaps and AML notices.


def travel_rule_gaps(settlements: Sequence[Valued], evidence: Evidence, scales: dict[str, int]) -> Table:
    rows = []
    for s in settlements:
        if s.row.travel_rule_complete:
            continue
        initiated = next(
            (
                c.event
                for c in evidence.settlements.get(s.row.settlement_id, ())
                if isinstance(c.event, SettlementInitiated)
            ),
            None,
        )
        rows.append(
            {
                "settlement_id": s.row.settlement_id,
                "client": s.row.client_id,
                "counterparty": s.row.counterparty,
                "country": s.row.country,
                "asset": s.row.asset,
                "sent": format_amount(int(s.row.sent_minor), scale=scales[s.row.asset]),
                "value_byn": s.row.value_byn or "",
                "initiated_on": s.row.initiated_on,
                "originator_missing": ", ".join(initiated.originator.missing()) if initiated else "",
                "beneficiary_missing": ", ".join(initiated.beneficiary.missing()) if initiated else "",
                "leaves": evidence.settlement_leaves(s.row.settlement_id),
            }
        )
    return Table(
        "travel_rule_gaps",
        "Settlements with incomplete travel-rule data",
        rows,
        "Settlements below the travel-rule threshold may go without full data; these lack some of it. "
        "The missing columns name the FATF fields absent for each party.",
        columns=[
            "settlement_id",
            "client",
            "counterparty",
            "country",
            "asset",
            "sent",
            "value_byn",
            "initiated_on",
            "originator_missing",
            "beneficiary_missing",
            "leaves",
        ],
    )


def aml_notices(evidence: Evidence, scales: dict[str, int]) -> Table:
    rows = []
    for cited in evidence.aml:
        notice = cast(AmlNotificationRecorded, cited.event)
        rows.append(
            {
                "day": evidence.day(notice.ledger_time).isoformat(),
                "client": notice.client_id,
                "operation": notice.operation,
                "operation_key": notice.command_key,
                "operations": ", ".join(notice.covered),
                "asset": notice.asset_code,
                "amount": format_amount(notice.amount_minor, scale=scales[notice.asset_code]),
                "value_byn": notice.value_byn,
                "threshold_byn": notice.threshold_byn,
                "leaves": evidence.aml_leaves(cited),
            }
        )
    return Table(
        "aml_notices",
        "AML notifications and the operations they cover",
        rows,
        "Each notice with the operation that raised it (its key, and the leaves of both) and every operation "
        "it covers (linked operations within the AML window).",
        columns=[
            "day",
            "client",
            "operation",
            "operation_key",
            "operations",
            "asset",
            "amount",
            "value_byn",
            "threshold_byn",
            "leaves",
        ],
    )
