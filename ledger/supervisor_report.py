"""The supervisor's report: one self-contained HTML page, with CSV and JSON of every table.

Everything comes from the views, brought to the head of the log, and the
report names the signed checkpoint it covers, with the verifier key and the
commands that check it. Charts are inline SVG: the page needs no network.
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from domain.accounts import BANK_HOLDINGS, is_client_account
from domain.money import format_amount
from ledger.audit.log import StoredCheckpoint
from ledger.audit.notes import Checkpoint, Note
from ledger.reports import compliance, settlements
from ledger.views import ReadModel

Row = dict[str, Any]


@dataclass
class Table:
    name: str
    title: str
    rows: list[Row]
    note: str = ""
    columns: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = list(self.rows[0]) if self.rows else []


CRYPTO_TRANSFER_COLUMNS = [
    *("day", "key", "client_id", "asset", "amount", "wallet_address", "self_hosted"),
    *("originator", "beneficiary", "beneficiary_vasp", "ivms101"),
]


def gather(reader: ReadModel, origin: str, checkpoint: StoredCheckpoint | None, verifier_key: str) -> list[Table]:
    with reader.session() as session:
        bank = reader.bank(session)
        scales = reader.scales(session)
        balances = reader.balance_rows(session)
        assets = reader.tokens(session)
        trades = reader.trade_rows(session)
    holdings: dict[str, int] = {}
    bank_holdings: dict[str, int] = {}
    for account, asset, amount in balances:
        if is_client_account(account):
            holdings[asset] = holdings.get(asset, 0) + int(amount)
        elif account in BANK_HOLDINGS:
            bank_holdings[asset] = bank_holdings.get(asset, 0) + int(amount)
    rejections = compliance(reader)
    crossborder = settlements(reader)
    return [
        Table(
            "bank",
            "The bank",
            [
                {
                    "name": bank.name if bank else "",
                    "htp_resident": bank.htp_resident if bank else None,
                    "nbrb_register_entry": bank.nbrb_register_entry if bank else "",
                    "log_origin": origin,
                }
            ],
        ),
        _checkpoint_table(checkpoint, verifier_key),
        Table(
            "balances",
            "Balances",
            [{"account": a, "asset": s, "amount": format_amount(int(m), scale=scales[s])} for a, s, m in balances],
            "Client accounts and the system accounts that balance them (issuance and external are negative).",
        ),
        Table(
            "supply",
            "Token supply against holdings",
            [
                {
                    "token": code,
                    "issuer": issuer,
                    "cap": format_amount(int(cap), scale=scales[code]) if cap else "",
                    "supply": format_amount(int(supply), scale=scales[code]),
                    "held_by_clients": format_amount(holdings.get(code, 0), scale=scales[code]),
                    "held_by_bank": format_amount(bank_holdings.get(code, 0), scale=scales[code]),
                    "matches": int(supply) == holdings.get(code, 0) + bank_holdings.get(code, 0),
                }
                for code, _, issuer, cap, supply in assets
            ],
        ),
        Table(
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
        ),
        Table(
            "rejections_by_rule",
            "Recorded rejections by rule",
            [{"rule": rule, "rejections": n} for rule, n in rejections["by_rule"].items()],
        ),
        Table(
            "settlement_summary",
            "Cross-border settlements",
            [
                {
                    key: crossborder[key]
                    for key in (
                        "as_of",
                        "count",
                        "sent_byn",
                        "returned_byn",
                        "delivered_byn",
                        "outstanding_byn",
                        "share_returned",
                        "share_settled",
                    )
                }
                | {f"status_{k}": v for k, v in crossborder["by_status"].items()}
            ],
            "BYN equivalents at each settlement's day; share_returned is the outbound value that came back.",
        ),
        Table(
            "outstanding_by_age",
            "Outstanding and overdue value by age, BYN",
            [
                {"age": age, "outstanding_byn": value, "overdue_byn": crossborder["overdue"]["by_age"].get(age, "0.00")}
                for age, value in crossborder["outstanding"]["by_age"].items()
            ],
        ),
        Table(
            "outstanding_by_country",
            "Outstanding value by counterparty country, BYN",
            [
                {"country": c, "outstanding_byn": v, "overdue_byn": crossborder["overdue"]["by_country"].get(c, "0.00")}
                for c, v in crossborder["outstanding"]["by_country"].items()
            ],
        ),
        Table(
            "outstanding_by_client",
            "Outstanding value by client, BYN",
            [
                {"client": c, "outstanding_byn": v, "overdue_byn": crossborder["overdue"]["by_client"].get(c, "0.00")}
                for c, v in crossborder["outstanding"]["by_client"].items()
            ],
        ),
        Table(
            "monthly_external_volume",
            "Monthly external-payment volume by country, BYN",
            [
                {"month": month, "country": country, "volume_byn": value}
                for month, countries in crossborder["monthly_volume_byn"].items()
                for country, value in countries.items()
            ],
        ),
        Table("settlements", "Settlements", crossborder["settlements"]),
        Table("aml_notifications", "AML notifications", crossborder["aml_notifications"]),
        Table("travel_rule", "Travel-rule completeness", [crossborder["travel_rule"]]),
        Table(
            "crypto_transfers",
            "Crypto transfers with travel-rule data (IVMS101)",
            crossborder["crypto_transfers"],
            columns=CRYPTO_TRANSFER_COLUMNS,
        ),
    ]


def _checkpoint_table(checkpoint: StoredCheckpoint | None, verifier_key: str) -> Table:
    if checkpoint is None:
        return Table(
            "checkpoint", "Signed checkpoint covered", [], "No checkpoint has been signed yet.", columns=["tree_size"]
        )
    parsed = Checkpoint.parse(Note.parse(checkpoint.note).text)
    return Table(
        "checkpoint",
        "Signed checkpoint covered",
        [
            {
                "tree_size": parsed.size,
                "root_hash": checkpoint.note.splitlines()[2],
                "signed_at": checkpoint.signed_at,
                "verifier_key": verifier_key,
            }
        ],
        "Verify: ledger audit export DIR, then ledger audit verify DIR --key VERIFIER_KEY "
        f"--trusted checkpoint-{parsed.size}.txt (the checkpoint is saved beside this report).",
    )


def write_report(directory: Path, tables: list[Table], checkpoint: StoredCheckpoint | None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "tables").mkdir(exist_ok=True)
    for table in tables:
        _write_csv(directory / "tables" / f"{table.name}.csv", table)
        (directory / "tables" / f"{table.name}.json").write_text(json.dumps(table.rows, indent=2) + "\n")
    if checkpoint is not None:
        (directory / f"checkpoint-{checkpoint.size}.txt").write_text(checkpoint.note)
    (directory / "report.json").write_text(json.dumps({t.name: t.rows for t in tables}, indent=2) + "\n")
    page = directory / "index.html"
    page.write_text(_html(tables), encoding="utf-8")
    return page


def _write_csv(path: Path, table: Table) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=table.columns)
        writer.writeheader()
        writer.writerows(table.rows)


STYLE = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1c2430}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:2px solid #d8dee6}
p.note{color:#5a6675;margin:.3rem 0 .6rem} table{border-collapse:collapse;width:100%;margin:.4rem 0}
th,td{padding:.3rem .6rem;border-bottom:1px solid #e6eaef;text-align:left;vertical-align:top}
th{background:#f3f5f8;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
.lede{color:#5a6675} .charts{display:flex;gap:2rem;flex-wrap:wrap} figure{margin:0}
figcaption{font-weight:600;margin-bottom:.3rem} code{word-break:break-all;font-size:.85rem}
section{overflow-x:auto}
"""


def _html(tables: list[Table]) -> str:
    by_name = {t.name: t for t in tables}
    bank = by_name["bank"].rows[0]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Supervisor report: {html.escape(str(bank['name']))}</title><style>{STYLE}</style></head><body>",
        f"<h1>Supervisor report: {html.escape(str(bank['name']))}</h1>",
        f"<p class='lede'>NBRB register entry {html.escape(str(bank['nbrb_register_entry']))}; "
        f"log origin <code>{html.escape(str(bank['log_origin']))}</code>.</p>",
        "<div class='charts'>",
        _bar_chart(
            "Recorded rejections by rule",
            [(r["rule"], Decimal(r["rejections"])) for r in by_name["rejections_by_rule"].rows if r["rejections"]],
        ),
        _bar_chart(
            "Monthly external payments, BYN",
            [
                (f"{r['month']} {r['country']}", Decimal(r["volume_byn"]))
                for r in by_name["monthly_external_volume"].rows
            ],
        ),
        _bar_chart(
            "Overdue by age, BYN", [(r["age"], Decimal(r["overdue_byn"])) for r in by_name["outstanding_by_age"].rows]
        ),
        "</div>",
    ]
    for table in tables:
        parts.append(_table_html(table))
    parts.append("<p class='note'>Every table is also in tables/*.csv and tables/*.json beside this page.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _table_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in table.columns)
    body = []
    for row in table.rows:
        cells = []
        for column in table.columns:
            value = row.get(column)
            numeric = (isinstance(value, int) and not isinstance(value, bool)) or _looks_numeric(value)
            text = "" if value is None else str(value)
            shown = (
                f"<code>{html.escape(text)}</code>" if column in ("verifier_key", "root_hash") else html.escape(text)
            )
            cells.append(f"<td class='num'>{shown}</td>" if numeric else f"<td>{shown}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    empty = "" if table.rows else f"<tr><td colspan='{max(1, len(table.columns))}'>none</td></tr>"
    note = f"<p class='note'>{html.escape(table.note)}</p>" if table.note else ""
    return (
        f"<section id='{table.name}'><h2>{html.escape(table.title)}</h2>{note}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}{empty}</tbody></table></section>"
    )


def _figure(value: Decimal, title: str) -> str:
    return f"{value:,.2f}" if "BYN" in title else f"{value:,}"


def _looks_numeric(value: object) -> bool:
    return isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit()


def _bar_chart(title: str, bars: Sequence[tuple[str, Decimal]]) -> str:
    """A horizontal bar chart as inline SVG (display only: figures are in the tables)."""
    width, row, label = 520, 24, 220
    top = max((value for _, value in bars), default=Decimal(0)) or Decimal(1)
    height = max(1, len(bars)) * row + 8
    items = []
    for position, (name, value) in enumerate(bars):
        y = position * row + 4
        length = (width - label - 90) * value / top
        items.append(
            f"<text x='0' y='{y + 15}' font-size='12'>{html.escape(name)}</text>"
            f"<rect x='{label}' y='{y + 3}' width='{length:.1f}' height='16' fill='#3b6ea8'></rect>"
            f"<text x='{label + length + 6:.1f}' y='{y + 15}' font-size='12'>{_figure(value, title)}</text>"
        )
    if not bars:
        items.append("<text x='0' y='16' font-size='12'>none</text>")
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='{html.escape(title)}'>{''.join(items)}</svg></figure>"
    )
