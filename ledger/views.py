"""The read side: every query of the views, in read-only transactions, as typed rows.

A `ReadModel` opens nothing a write needs: no decision state, no signing
key, no write lock. Each read is one read-only transaction (SQLite in WAL
mode, so it runs beside a writer; PostgreSQL READ ONLY, REPEATABLE READ), so
the rows of one read agree with each other. The write path brings the views
to the head of the log in the transaction that appends the events, so a read
sees every event committed before it began. Views that lag the log (a store
written by an older release, or rebuilt and interrupted) are caught up once,
by the projector, before the read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Self, TypeVar

from domain.money import format_amount
from ledger.store.ports import Backend, ReadSession
from ledger.tables import VIEW_ORDER, VIEW_TABLES, VIEWS_TRACKING_NAME

if TYPE_CHECKING:
    from ledger.projections import Projector


@dataclass(frozen=True)
class Balance:
    account: str
    asset: str
    amount: str
    amount_minor: int


class BankRow(NamedTuple):
    name: str
    htp_resident: bool
    nbrb_register_entry: str


class VenueRow(NamedTuple):
    venue_id: str
    name: str
    kind: str
    domestic: bool
    listed: bool
    assets: list[str]


class ComplianceRow(NamedTuple):
    day: str
    rule: str
    client_id: str
    venue_id: str
    command_type: str
    rejections: int


class SettlementRow(NamedTuple):
    settlement_id: str
    client_id: str
    direction: str
    counterparty: str
    country: str
    asset: str
    sent_minor: str
    returned_minor: str
    delivered_minor: str
    status: str
    initiated_on: str
    deadline: str
    overdue_on: str | None
    value_byn: str | None
    travel_rule_complete: int


class AmlRow(NamedTuple):
    day: str
    client_id: str
    operation: str
    asset: str
    amount_minor: str
    value_byn: str
    threshold_byn: str


class TokenRow(NamedTuple):
    code: str
    kind: str
    issuer_id: str | None
    cap_minor: str | None
    supply_minor: str


class TradeRow(NamedTuple):
    venue_id: str
    venue_name: str | None
    domestic: int | None
    base_asset: str
    quote_asset: str
    trades: int
    base_volume_minor: str
    quote_volume_minor: str
    fees_minor: str


RowT = TypeVar("RowT")


class ReadModel:
    """Queries of the views. Views that lag the log are caught up by a
    projector before a read (it writes; the write path keeps them current,
    so this happens only for a store the write path did not keep)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.projector: Projector | None = None  # made only for views that lag

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def session(self) -> Iterator[ReadSession]:
        """One read-only transaction over views that show the whole log."""
        with self.backend.read() as session:
            if session.tracking_position(VIEWS_TRACKING_NAME) >= session.max_notification_id():
                yield session
                return
        if self.projector is None:
            from ledger.projections import Projector  # noqa: PLC0415 (only for views an older release left behind)

            self.projector = Projector(self.backend)
        self.projector.catch_up()
        with self.backend.read() as session:
            yield session

    def position(self) -> int:
        with self.session() as session:
            return session.tracking_position(VIEWS_TRACKING_NAME)

    def balances(self, *, include_system: bool = False) -> list[Balance]:
        with self.session() as session:
            rows = session.fetchall(
                "SELECT b.account, b.asset, b.amount_minor, a.scale FROM view_balances b "
                "JOIN view_assets a ON a.code = b.asset ORDER BY b.account, b.asset"
            )
        return [
            Balance(account, asset, format_amount(int(amount), scale=scale), int(amount))
            for account, asset, amount, scale in rows
            if include_system or account.startswith("client:")
        ]

    def balance_rows(self, session: ReadSession) -> list[tuple[str, str, str]]:
        return session.fetchall("SELECT account, asset, amount_minor FROM view_balances ORDER BY account, asset")

    def bank(self, session: ReadSession) -> BankRow | None:
        rows = session.fetchall("SELECT name, htp_resident, nbrb_register_entry FROM view_bank")
        return BankRow(rows[0][0], bool(rows[0][1]), rows[0][2]) if rows else None

    def venues(self) -> list[VenueRow]:
        with self.session() as session:
            rows = session.fetchall(
                "SELECT venue_id, name, kind, domestic, listed, assets FROM view_venues ORDER BY venue_id"
            )
        return [
            VenueRow(venue_id, name, kind, bool(domestic), bool(listed), assets.split(","))
            for venue_id, name, kind, domestic, listed, assets in rows
        ]

    def compliance_rows(self, session: ReadSession) -> list[ComplianceRow]:
        return _rows(
            session,
            ComplianceRow,
            "SELECT day, rule, client_id, venue_id, command_type, rejections FROM view_compliance "
            "ORDER BY day, rule, client_id, venue_id, command_type",
        )

    def settlement_rows(self, session: ReadSession) -> list[SettlementRow]:
        return _rows(
            session,
            SettlementRow,
            "SELECT settlement_id, client_id, direction, counterparty, country, asset, sent_minor, "
            "returned_minor, delivered_minor, status, initiated_on, deadline, overdue_on, value_byn, "
            "travel_rule_complete FROM view_settlements ORDER BY settlement_id",
        )

    def aml_rows(self, session: ReadSession) -> list[AmlRow]:
        return _rows(
            session,
            AmlRow,
            "SELECT day, client_id, operation, asset, amount_minor, value_byn, threshold_byn FROM view_aml "
            "ORDER BY day, client_id, notice_id",
        )

    def scales(self, session: ReadSession) -> dict[str, int]:
        return {code: int(scale) for code, scale in session.fetchall("SELECT code, scale FROM view_assets")}

    def tokens(self, session: ReadSession) -> list[TokenRow]:
        return _rows(
            session,
            TokenRow,
            "SELECT code, kind, issuer_id, cap_minor, supply_minor FROM view_assets WHERE kind = 'token' ORDER BY code",
        )

    def trade_rows(self, session: ReadSession) -> list[TradeRow]:
        return _rows(
            session,
            TradeRow,
            "SELECT t.venue_id, v.name, v.domestic, t.base_asset, t.quote_asset, t.trades, t.base_volume_minor, "
            "t.quote_volume_minor, t.fees_minor FROM view_trades t LEFT JOIN view_venues v ON v.venue_id = t.venue_id "
            "ORDER BY t.venue_id, t.base_asset, t.quote_asset",
        )

    def ledger_time(self, session: ReadSession) -> str | None:
        rows = session.fetchall("SELECT ledger_time FROM view_ledger_time")
        return str(rows[0][0]) if rows else None


def view_rows(session: ReadSession, table: str) -> list[tuple[Any, ...]]:
    assert table in VIEW_TABLES, table
    return session.fetchall(f"SELECT * FROM {table} ORDER BY {VIEW_ORDER[table]}")  # noqa: S608


def view_digests(backend: Backend) -> dict[str, str]:
    """SHA-256 per view of its rows in key order, as JSON lines: equal views,
    on either backend, give equal digests."""
    digests: dict[str, str] = {}
    with backend.read() as session:
        for table in VIEW_TABLES:
            hasher = hashlib.sha256()
            for row in view_rows(session, table):
                hasher.update(json.dumps(list(row), separators=(",", ":")).encode() + b"\n")
            digests[table] = hasher.hexdigest()
    return digests


def _rows(session: ReadSession, row: Callable[..., RowT], statement: str) -> list[RowT]:
    return [row(*values) for values in session.fetchall(statement)]
