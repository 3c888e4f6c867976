"""Reports: the views' rows, read in one read-only transaction, made into reports."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from fractions import Fraction
from typing import Any

from rich.console import Console
from rich.table import Table

from domain.crossborder import SettlementStatus, cents_text, is_overdue, ratio_text, settlement_outstanding_minor
from domain.errors import RULE_VIOLATIONS
from domain.money import format_amount
from ledger.store.ports import ReadSession
from ledger.tables import VIEWS_TRACKING_NAME, split_names
from ledger.views import CryptoTransferRow, ReadModel


def venues(reader: ReadModel) -> list[dict[str, Any]]:
    return [row._asdict() for row in reader.venues()]


def clients(reader: ReadModel) -> list[dict[str, Any]]:
    """Every client with its lifecycle: KYC status and expiry, frozen, offboarded."""
    return [row.to_json() for row in reader.clients()]


def compliance(reader: ReadModel) -> dict[str, Any]:
    """Recorded rejections by rule (every rule code named, zero included), by
    client, by venue and by day (ledger days, in the bank's zone), with the
    rows they are counted from; and how many commands were recorded late."""
    with reader.session() as session:
        return compliance_in(reader, session)


def compliance_in(reader: ReadModel, session: ReadSession) -> dict[str, Any]:
    """`compliance`, inside a read of the caller's."""
    position = session.tracking_position(VIEWS_TRACKING_NAME)
    rows = reader.compliance_rows(session)
    late = reader.late_commands(session)
    by_rule: Counter[str] = Counter(dict.fromkeys(sorted(RULE_VIOLATIONS), 0))
    by_client: Counter[str] = Counter()
    by_venue: Counter[str] = Counter()
    by_day: Counter[str] = Counter()
    for day, rule, client_id, venue_id, _, count in rows:
        by_rule[rule] += count
        by_day[day] += count
        if client_id:
            by_client[client_id] += count
        if venue_id:
            by_venue[venue_id] += count
    return {
        "as_of_position": position,
        "total": sum(by_day.values()),
        "late_commands": late,
        "by_rule": dict(by_rule),
        "by_client": dict(sorted(by_client.items())),
        "by_venue": dict(sorted(by_venue.items())),
        "by_day": dict(sorted(by_day.items())),
        "rows": [
            {
                "day": day,
                "rule": rule,
                "client_id": client or None,
                "venue_id": venue or None,
                "command_type": command_type,
                "rejections": count,
            }
            for day, rule, client, venue, command_type, count in rows
        ],
    }


AGE_BUCKETS = ((30, "0-30 days"), (90, "31-90 days"), (180, "91-180 days"), (None, "over 180 days"))


def _age_bucket(days: int) -> str:
    for limit, name in AGE_BUCKETS:
        if limit is None or days <= limit:
            return name
    raise AssertionError(days)


def settlements(reader: ReadModel) -> dict[str, Any]:
    """The supervisor's view of value sent abroad: what is outstanding and
    overdue (by age, country and client), the share of outbound value that
    came back, monthly external-payment volume by country, travel-rule
    completeness, and the AML notifications. BYN values are the equivalents
    at each settlement's day (reporting figures, to the kopeck)."""
    with reader.session() as session:
        return settlements_in(reader, session)


def settlements_in(reader: ReadModel, session: ReadSession) -> dict[str, Any]:
    """`settlements`, inside a read of the caller's."""
    rows = reader.settlement_rows(session)
    scales = reader.scales(session)
    aml: list[tuple[Any, ...]] = list(reader.aml_rows(session))
    transfers = reader.crypto_transfer_rows(session)
    as_of = reader.ledger_day(session)
    report = _SettlementTotals(as_of)
    for row in rows:
        report.add(row, scales[row[5]])
    return report.to_json(aml, scales) | {"crypto_transfers": [_crypto_transfer(row, scales) for row in transfers]}


def _crypto_transfer(row: CryptoTransferRow, scales: dict[str, int]) -> dict[str, Any]:
    """A crypto withdrawal's travel-rule data for the supervisor: who sent to
    whom, through which VASP (none: self-hosted), and the IVMS101 payload."""
    payload = json.loads(row.ivms101)

    def names(party: dict[str, Any] | None, persons: str) -> str:
        found = []
        for person in (party or {}).get(persons, []):
            natural, legal = person.get("natural_person"), person.get("legal_person")
            name = (natural or legal or {}).get("name") or {}
            parts = [name.get("primary_identifier"), name.get("secondary_identifier"), name.get("legal_person_name")]
            found.append(" ".join(part for part in parts if part))
        return "; ".join(found)

    vasp = payload.get("beneficiary_vasp")
    return {
        "day": row.day,
        "key": row.key,
        "client_id": row.client_id,
        "asset": row.asset,
        "amount": format_amount(int(row.amount_minor), scale=scales[row.asset]),
        "wallet_address": row.wallet_address,
        "self_hosted": bool(row.self_hosted),
        "originator": names(payload.get("originator"), "originator_persons"),
        "beneficiary": names(payload.get("beneficiary"), "beneficiary_persons"),
        "beneficiary_vasp": names({"persons": [vasp["beneficiary_vasp"]]}, "persons") if vasp else "",
        "ivms101": row.ivms101,
    }


class _SettlementTotals:
    def __init__(self, as_of: date | None) -> None:
        self.as_of = as_of
        self.items: list[dict[str, Any]] = []
        self.sent_byn = Fraction(0)
        self.returned_byn = Fraction(0)
        self.delivered_byn = Fraction(0)
        self.outstanding_byn = Fraction(0)
        self.by_status: Counter[str] = Counter()
        self.outstanding: dict[str, dict[str, Fraction]] = {"by_age": {}, "by_country": {}, "by_client": {}}
        self.overdue: dict[str, dict[str, Fraction]] = {"by_age": {}, "by_country": {}, "by_client": {}}
        self.monthly: dict[str, dict[str, Fraction]] = {}
        self.travel_rule = Counter[str]()
        self.unvalued = 0

    def add(self, row: tuple[Any, ...], scale: int) -> None:
        (
            settlement_id,
            client_id,
            direction,
            counterparty,
            country,
            asset,
            sent,
            returned,
            delivered,
            status,
            initiated_on,
            deadline,
            overdue_on,
            value_byn,
            complete,
        ) = row
        sent, returned, delivered = int(sent), int(returned), int(delivered)
        outstanding = settlement_outstanding_minor(sent, returned, delivered)
        self.by_status[status] += 1
        self.travel_rule["complete" if complete else "incomplete"] += 1
        self.items.append(
            {
                "settlement_id": settlement_id,
                "client_id": client_id,
                "direction": direction,
                "counterparty": counterparty,
                "country": country,
                "asset": asset,
                "sent": format_amount(sent, scale=scale),
                "returned": format_amount(returned, scale=scale),
                "delivered": format_amount(delivered, scale=scale),
                "outstanding": format_amount(outstanding, scale=scale),
                "status": status,
                "initiated_on": initiated_on,
                "deadline": deadline,
                "overdue_on": overdue_on,
                "value_byn": value_byn,
                "travel_rule_complete": bool(complete),
            }
        )
        if value_byn is None:
            self.unvalued += 1
            return
        value = Fraction(value_byn)
        per_unit = value / sent
        self.sent_byn += value
        self.returned_byn += per_unit * returned
        self.delivered_byn += per_unit * delivered
        month = initiated_on[:7]
        self.monthly.setdefault(month, {})
        self.monthly[month][country] = self.monthly[month].get(country, Fraction(0)) + value
        if outstanding:
            owed = per_unit * outstanding
            self.outstanding_byn += owed
            age = (self.as_of - date.fromisoformat(initiated_on)).days if self.as_of else 0
            for group in (self.outstanding, *((self.overdue,) if is_overdue(status) else ())):
                for key, name in (
                    ("by_age", _age_bucket(age)),
                    ("by_country", country),
                    ("by_client", client_id),
                ):
                    group[key][name] = group[key].get(name, Fraction(0)) + owed

    def to_json(self, aml: list[tuple[Any, ...]], scales: dict[str, int]) -> dict[str, Any]:
        def money(groups: dict[str, dict[str, Fraction]]) -> dict[str, dict[str, str]]:
            return {key: {name: cents_text(v) for name, v in sorted(values.items())} for key, values in groups.items()}

        settled = self.returned_byn + self.delivered_byn
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "count": len(self.items),
            "by_status": {status.value: self.by_status.get(status.value, 0) for status in SettlementStatus},
            "sent_byn": cents_text(self.sent_byn),
            "returned_byn": cents_text(self.returned_byn),
            "delivered_byn": cents_text(self.delivered_byn),
            "outstanding_byn": cents_text(self.outstanding_byn),
            "share_returned": None if not self.sent_byn else ratio_text(self.returned_byn / self.sent_byn),
            "share_settled": None if not self.sent_byn else ratio_text(settled / self.sent_byn),
            "unvalued_settlements": self.unvalued,
            "outstanding": money(self.outstanding),
            "overdue": money(self.overdue),
            "monthly_volume_byn": {
                month: {country: cents_text(v) for country, v in sorted(countries.items())}
                for month, countries in sorted(self.monthly.items())
            },
            "travel_rule": {
                "complete": self.travel_rule["complete"],
                "incomplete": self.travel_rule["incomplete"],
                "share_complete": None
                if not self.items
                else ratio_text(Fraction(self.travel_rule["complete"], len(self.items))),
            },
            "aml_notifications": [
                {
                    "day": day,
                    "client_id": client,
                    "operation": operation,
                    "asset": asset,
                    "amount": format_amount(int(amount), scale=scales[asset]),
                    "value_byn": value,
                    "threshold_byn": threshold,
                    "operations": split_names(operations),
                }
                for day, client, operation, asset, amount, value, threshold, operations in aml
            ],
            "settlements": self.items,
        }


def print_settlements(report: dict[str, Any], console: Console) -> None:
    console.print(
        f"As of {report['as_of']}, {report['count']} settlements: "
        + ", ".join(f"{n} {status}" for status, n in report["by_status"].items()),
        soft_wrap=True,
    )
    console.print(
        f"Sent {report['sent_byn']} BYN; returned {report['returned_byn']}; settled by delivery "
        f"{report['delivered_byn']}; outstanding {report['outstanding_byn']}. "
        f"Share of outbound value returned: {report['share_returned']}",
        soft_wrap=True,
    )
    table = Table(title="Outstanding (overdue) by age, BYN", title_justify="left")
    table.add_column("Age")
    table.add_column("Outstanding", justify="right")
    table.add_column("Overdue", justify="right")
    for age, value in report["outstanding"]["by_age"].items():
        table.add_row(age, value, report["overdue"]["by_age"].get(age, "0.00"))
    console.print(table)
    table = Table(title="Monthly external payments by country, BYN", title_justify="left")
    for column in ("Month", "Country", "Volume"):
        table.add_column(column, justify="right" if column == "Volume" else "left")
    for month, countries in report["monthly_volume_byn"].items():
        for country, value in countries.items():
            table.add_row(month, country, value)
    console.print(table)
    rule = report["travel_rule"]
    console.print(f"Travel-rule data complete: {rule['complete']} of {rule['complete'] + rule['incomplete']}")
    console.print(f"AML notifications: {len(report['aml_notifications'])}")
