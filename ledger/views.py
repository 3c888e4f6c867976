"""The read side: every query of the views, in read-only transactions, as typed rows.

A `ReadModel` opens nothing a write needs: no decision state, no signing
key, no write lock. Each read is one read-only transaction (SQLite in WAL
mode, so it runs beside a writer; PostgreSQL READ ONLY, REPEATABLE READ), so
the rows of one read agree with each other. The write path brings the views
to the head of the log in the transaction that appends the events, so a read
sees every event committed before it began. Views that lag the log (a store
written by an older release, or rebuilt and interrupted) are caught up once,
by the projector, before the read.

Transactions are read back newest first, a page at a time: the cursor is the
position of the last row given, so rows appended meanwhile never shift a
page. Every filter is served by an index that ends with the position (see
`ledger.tables`): one filter drives the read, back from the cursor, and the
others are checked on the rows it reads, so a page costs what the matching
rows around it cost, not the length of the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Self, TypeVar

from domain.calendar import UNRECORDED_TIME_ZONE, ledger_day, zone_named
from domain.money import format_amount
from ledger.store.ports import Backend, LogEntry, ReadSession
from ledger.tables import VIEW_ORDER, VIEW_TABLES, VIEWS_TRACKING_NAME, split_names, view_time_text

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


class ClientRow(NamedTuple):
    """A client and its lifecycle: `kyc` pending, verified or revoked;
    `kyc_expires_on` the first day a verification no longer holds (empty:
    none); `frozen_reason` set while frozen; `offboarded_on` once it left."""

    client_id: str
    name: str
    residency: str
    kind: str
    kyc: str
    kyc_expires_on: str | None
    frozen_reason: str | None
    offboarded_on: str | None

    def to_json(self) -> dict[str, Any]:
        frozen, offboarded = self.frozen_reason is not None, self.offboarded_on is not None
        return {**self._asdict(), "frozen": frozen, "offboarded": offboarded}


class LifecycleRow(NamedTuple):
    """One lifecycle change (see `ledger.tables`: view_lifecycle)."""

    day: str
    subject: str
    subject_id: str
    change: str
    reason: str | None
    detail: str | None


class ReversalRow(NamedTuple):
    original_key: str
    reversal_key: str
    original_type: str
    original_day: str
    day: str
    reason: str
    reference: str


class CryptoTransferRow(NamedTuple):
    """A crypto withdrawal that carried travel-rule data; `ivms101` its
    IVMS101 payload as JSON text, `self_hosted` 1 when no VASP hosts the wallet."""

    key: str
    position: int
    day: str
    client_id: str
    asset: str
    amount_minor: str
    wallet_address: str | None
    self_hosted: int
    ivms101: str


class AmlRow(NamedTuple):
    day: str
    client_id: str
    operation: str
    asset: str
    amount_minor: str
    value_byn: str
    threshold_byn: str
    operations: str  # the command keys of the operations the notice covers, comma-separated


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


TRANSACTIONS_PAGE_MAX = 500
EVENTS_PAGE_MAX = 1000
TRANSACTION_STATUSES = ("accepted", "rejected")
_NO_CURSOR = 2**62  # beyond any position: the first page


class InvalidQuery(ValueError):
    """A read that cannot be answered as asked (a limit out of range, a
    filter of the wrong kind); the message says what and why."""


class InvalidCursor(InvalidQuery):
    """A cursor that is not one this ledger made, or was made for other filters."""


@dataclass(frozen=True)
class TransactionFilter:
    """Which transactions to read: every field that is set must match. `since`
    and `until` bound the ledger time, [since, until); each `metadata` pair
    (name, value) must be among the command's."""

    client: str | None = None
    account: str | None = None
    asset: str | None = None
    command_type: str | None = None
    status: Literal["accepted", "rejected"] | None = None
    rule: str | None = None
    venue: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in TRANSACTION_STATUSES:
            raise InvalidQuery(f"status {self.status!r} is not one of {', '.join(TRANSACTION_STATUSES)}")
        for name, moment in (("since", self.since), ("until", self.until)):
            if moment is not None and moment.tzinfo is None:
                raise InvalidQuery(f"{name} {moment.isoformat()} needs a time zone, like 2026-01-16T09:00:00Z")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise InvalidQuery(f"since {self.since.isoformat()} is not before until {self.until.isoformat()}")
        for pair in self.metadata:
            if len(pair) != 2 or not all(isinstance(part, str) for part in pair):
                raise InvalidQuery(f"a metadata filter is a (name, value) pair of strings, not {pair!r}")

    def digest(self) -> str:
        """What a cursor remembers of the filters it was made for."""
        fields = {
            **{name: getattr(self, name) for name in ("client", "account", "asset", "command_type", "status")},
            **{name: getattr(self, name) for name in ("rule", "venue")},
            "since": None if self.since is None else view_time_text(self.since),
            "until": None if self.until is None else view_time_text(self.until),
            "metadata": sorted(self.metadata),
        }
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class TransactionRow:
    """One command that wrote events. `position` is the log position of its
    first event; `rule`, `reason` and `details` are empty unless it was
    rejected; `venue_id` is empty unless it concerned a venue; times are RFC
    3339 UTC with microseconds. `reversed_by` is the key of the reversal of a
    reversed transaction, `reverses` the original's key on a reversal (both
    empty otherwise); `late_by_seconds` is empty unless the command was
    recorded late (back-dated inside the window)."""

    key: str
    position: int
    command_type: str
    status: str
    rule: str | None
    reason: str | None
    details: dict[str, str] | None
    venue_id: str | None
    ledger_time: str
    recorded_at: str
    metadata: dict[str, str]
    clients: tuple[str, ...]
    accounts: tuple[str, ...]
    assets: tuple[str, ...]
    notification_ids: tuple[int, ...]
    reversed_by: str | None = None
    reverses: str | None = None
    late_by_seconds: int | None = None
    travel_rule: dict[str, Any] | None = None  # a crypto withdrawal's IVMS101 data, when it carried some

    @classmethod
    def of(cls, row: Sequence[Any]) -> TransactionRow:
        (key, position, command_type, status, rule, reason, details, venue, time, recorded, metadata) = row[:11]
        clients, accounts, assets, ids = (tuple(split_names(text)) for text in row[11:15])
        reversed_by, reverses, late = (*row[15:18], None, None, None)[:3]
        return cls(
            *(key, int(position), command_type, status, rule, reason, None if details is None else json.loads(details)),
            *(venue, time, recorded, json.loads(metadata), clients, accounts, assets),
            tuple(int(text) for text in ids),
            reversed_by,
            reverses,
            None if late is None else int(late),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "position": self.position,
            "command_type": self.command_type,
            "status": self.status,
            "rule": self.rule,
            "reason": self.reason,
            "details": self.details,
            "venue_id": self.venue_id,
            "ledger_time": self.ledger_time,
            "recorded_at": self.recorded_at,
            "metadata": self.metadata,
            "clients": list(self.clients),
            "accounts": list(self.accounts),
            "assets": list(self.assets),
            "notification_ids": list(self.notification_ids),
            "reversed_by": self.reversed_by,
            "reverses": self.reverses,
            "late_by_seconds": self.late_by_seconds,
            **({} if self.travel_rule is None else {"travel_rule": self.travel_rule}),
        }


@dataclass(frozen=True)
class TransactionPage:
    """A page of transactions, newest first; `next_cursor` reads the page
    after it (None: this is the last)."""

    items: list[TransactionRow]
    next_cursor: str | None

    def to_json(self) -> dict[str, Any]:
        return {"items": [item.to_json() for item in self.items], "next_cursor": self.next_cursor}


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of the log: `data` is its payload as in its audit leaf (amounts
    as strings; `metadata` only when the command had some)."""

    position: int
    type: str
    stream: str
    version: int
    ledger_time: str
    recorded_at: str
    command_key: str
    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "type": self.type,
            "stream": self.stream,
            "version": self.version,
            "ledger_time": self.ledger_time,
            "recorded_at": self.recorded_at,
            "command_key": self.command_key,
            "data": self.data,
        }


RowT = TypeVar("RowT")


BANK_ESTABLISHED_TOPIC = "domain.events:BankEstablished"  # its stored topic (a test holds it to the class)


def recorded_time_zone(session: ReadSession, open_state: Callable[[bytes], bytes]) -> tzinfo:
    """The bank's time zone as its establishment recorded it: the log's first
    event (nothing is decided before the bank exists). UTC for a history that
    records none. Read from the stored JSON, without the domain's events."""
    first = session.notifications_after(0, 1)
    if not first or first[0].topic != BANK_ESTABLISHED_TOPIC:
        return zone_named(UNRECORDED_TIME_ZONE)
    name = json.loads(open_state(first[0].state)).get("time_zone")
    return zone_named(name or UNRECORDED_TIME_ZONE)


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

    def clients(self) -> list[ClientRow]:
        with self.session() as session:
            return self.client_rows(session)

    def client_rows(self, session: ReadSession) -> list[ClientRow]:
        return _rows(
            session,
            ClientRow,
            "SELECT c.client_id, c.name, c.residency, c.kind, c.kyc, s.kyc_expires_on, s.frozen_reason, "
            "s.offboarded_on FROM view_clients c LEFT JOIN view_client_status s ON s.client_id = c.client_id "
            "ORDER BY c.client_id",
        )

    def lifecycle_rows(self, session: ReadSession) -> list[LifecycleRow]:
        return _rows(
            session,
            LifecycleRow,
            "SELECT day, subject, subject_id, change, reason, detail FROM view_lifecycle ORDER BY event_id",
        )

    def reversal_rows(self, session: ReadSession) -> list[ReversalRow]:
        return _rows(
            session,
            ReversalRow,
            "SELECT original_key, reversal_key, original_type, original_day, day, reason, reference "
            "FROM view_reversals ORDER BY day, reversal_key",
        )

    def aml_rows(self, session: ReadSession) -> list[AmlRow]:
        return _rows(
            session,
            AmlRow,
            "SELECT day, client_id, operation, asset, amount_minor, value_byn, threshold_byn, operations FROM view_aml "
            "ORDER BY day, client_id, notice_id",
        )

    def crypto_transfer_rows(self, session: ReadSession) -> list[CryptoTransferRow]:
        return _rows(
            session,
            CryptoTransferRow,
            "SELECT key, position, day, client_id, asset, amount_minor, wallet_address, self_hosted, ivms101 "
            "FROM view_crypto_transfers ORDER BY position",
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

    def late_rows(self, session: ReadSession) -> list[tuple[Any, ...]]:
        """(key, position, command type, ledger time, seconds late) of every late command, in log order."""
        return session.fetchall(
            "SELECT l.key, l.position, t.command_type, t.ledger_time, l.late_by_seconds FROM view_late l "
            "JOIN view_transactions t ON t.key = l.key ORDER BY l.position"
        )

    def late_commands(self, session: ReadSession) -> int:
        """How many commands were recorded late (back-dated inside the window)."""
        return int(session.fetchall("SELECT count(*) FROM view_late")[0][0])

    def time_zone(self, session: ReadSession) -> tzinfo:
        """The bank's time zone: its days are the ledger's days."""
        return recorded_time_zone(session, self.backend.mapper.open_state)

    def ledger_day(self, session: ReadSession) -> date | None:
        """The ledger day of the latest ledger time recorded."""
        latest = self.ledger_time(session)
        return ledger_day(datetime.fromisoformat(latest), self.time_zone(session)) if latest else None

    # Reading back transactions and the log.

    def transactions(
        self, where: TransactionFilter = TransactionFilter(), *, limit: int = 50, cursor: str | None = None
    ) -> TransactionPage:
        """A page of the transactions `where` selects, newest first, after `cursor`."""
        with self.session() as session:
            return self.transactions_in(session, where, limit=limit, cursor=cursor)

    def transactions_in(
        self, session: ReadSession, where: TransactionFilter, *, limit: int, cursor: str | None = None
    ) -> TransactionPage:
        """`transactions`, inside a read of the caller's."""
        _check_limit(limit, TRANSACTIONS_PAGE_MAX)
        rows = _matching(session, where, _cursor_position(cursor, where), limit + 1)
        items = _with_travel_rule(session, [TransactionRow.of(row) for row in rows[:limit]])
        more = len(rows) > limit
        return TransactionPage(items, _cursor_text(items[-1].position, where) if more else None)

    def transaction(self, key: str) -> TransactionRow | None:
        with self.session() as session:
            return self.transaction_in(session, key)

    def transaction_in(self, session: ReadSession, key: str) -> TransactionRow | None:
        """`transaction`, inside a read of the caller's."""
        statement = f"SELECT {_COLUMNS} FROM view_transactions t WHERE t.key = ?"  # noqa: S608 (constants)
        rows = session.fetchall(statement, (key,))
        return _with_travel_rule(session, [TransactionRow.of(rows[0])])[0] if rows else None

    def events(
        self, *, after: int = 0, limit: int = 100, types: tuple[str, ...] = (), rule: str | None = None
    ) -> list[EventRow]:
        """The log in order, from the event after position `after`: of these
        `types` (event class names) only, and of rejections under `rule` only,
        when given."""
        _check_limit(limit, EVENTS_PAGE_MAX)
        if after < 0:
            raise InvalidQuery(f"after must be a log position, 0 or more, not {after}")
        topics = event_topics(types)
        with self.session() as session:
            if rule is not None:
                if types and "CommandRejected" not in types:
                    return []
                entries = session.notifications_at(_rejections_under(session, rule, after, limit))
            elif topics:
                entries = session.notifications_of(topics, after, limit)
            else:
                entries = session.notifications_after(after, limit)
        return [self._event_row(entry) for entry in entries]

    def _event_row(self, entry: LogEntry) -> EventRow:
        from pydantic import ValidationError  # noqa: PLC0415 (only the log's readers decode events)

        from ledger.audit.leaves import event_data  # noqa: PLC0415
        from ledger.store.ports import UnreadableEvent  # noqa: PLC0415

        try:
            event = self.backend.mapper.to_domain_event(entry)
        except ValidationError as error:
            raise UnreadableEvent.at(entry, error) from None
        payload = event.model_dump(mode="json")
        return EventRow(
            position=entry.id,
            type=type(event).__name__,
            stream=payload["originator_id"],
            version=event.originator_version,
            ledger_time=view_time_text(event.ledger_time),
            recorded_at=view_time_text(event.timestamp),
            command_key=event.command_key,
            data=event_data(payload),
        )


def _with_travel_rule(session: ReadSession, rows: list[TransactionRow]) -> list[TransactionRow]:
    """The rows, the accepted withdrawals among them with their IVMS101 data (one look-up a page)."""
    keys = [row.key for row in rows if row.command_type == "withdraw" and row.status == "accepted"]
    if not keys:
        return rows
    marks = ",".join("?" * len(keys))
    found = dict(
        session.fetchall(f"SELECT key, ivms101 FROM view_crypto_transfers WHERE key IN ({marks})", keys)  # noqa: S608
    )
    return [replace(row, travel_rule=json.loads(found[row.key])) if row.key in found else row for row in rows]


def view_rows(session: ReadSession, table: str) -> list[tuple[Any, ...]]:
    assert table in VIEW_TABLES, table
    return session.fetchall(f"SELECT * FROM {table} ORDER BY {VIEW_ORDER[table]}")  # noqa: S608


def view_digests(backend: Backend) -> dict[str, str]:
    """SHA-256 per view of its rows in key order, as JSON lines: equal views,
    on either backend, give equal digests."""
    with backend.read() as session:
        return view_digests_in(session)


def view_digests_in(session: ReadSession) -> dict[str, str]:
    """`view_digests`, inside a read of the caller's."""
    digests: dict[str, str] = {}
    for table in VIEW_TABLES:
        hasher = hashlib.sha256()
        for row in view_rows(session, table):
            hasher.update(json.dumps(list(row), separators=(",", ":")).encode() + b"\n")
        digests[table] = hasher.hexdigest()
    return digests


def _rows(session: ReadSession, row: Callable[..., RowT], statement: str) -> list[RowT]:
    return [row(*values) for values in session.fetchall(statement)]


# The transactions' queries.

# The last three link a reversal and its original, both ways (each a look-up
# by a key of view_reversals, for the rows of one page only), and say how late
# a command was recorded (a look-up in view_late).
_COLUMNS = (
    "t.key, t.position, t.command_type, t.status, t.rule, t.reason, t.details, t.venue_id, t.ledger_time, "
    "t.recorded_at, t.metadata, t.clients, t.accounts, t.assets, t.notification_ids, "
    "(SELECT r.reversal_key FROM view_reversals r WHERE r.original_key = t.key), "
    "(SELECT r.original_key FROM view_reversals r WHERE r.reversal_key = t.key), "
    "(SELECT l.late_by_seconds FROM view_late l WHERE l.key = t.key)"
)
# The many-valued filters: their side table and its value columns.
_SIDE_TABLES = {
    "client": ("view_transaction_clients", ("client_id",)),
    "account": ("view_transaction_accounts", ("account",)),
    "asset": ("view_transaction_assets", ("asset",)),
}
_RECENT_ROWS_FIRST = 4  # a window of ledger time first looks for its page in this many pages of the newest rows


class _Side(NamedTuple):
    """One many-valued filter: a side table, its value columns and the values sought."""

    table: str
    columns: tuple[str, ...]
    values: tuple[str, ...]

    def on(self, alias: str) -> str:
        return " AND ".join(f"{alias}.{column} = ?" for column in self.columns)

    def exists(self) -> str:
        condition = f"{self.on('x')} AND x.position = t.position"
        return f"EXISTS (SELECT 1 FROM {self.table} x WHERE {condition})"  # noqa: S608 (constants and placeholders)


def _sides(where: TransactionFilter) -> list[_Side]:
    """The many-valued filters, the most selective (as a rule) first: metadata pairs, then client, account, asset."""
    sides = [_Side("view_transaction_metadata", ("name", "value"), pair) for pair in where.metadata]
    for name, (table, columns) in _SIDE_TABLES.items():
        value = getattr(where, name)
        if value is not None:
            sides.append(_Side(table, columns, (value,)))
    return sides


def _column_terms(where: TransactionFilter, *, with_time: bool = True) -> tuple[list[str], list[Any]]:
    """The conditions on the transactions' own columns, and their parameters."""
    terms: list[str] = []
    params: list[Any] = []
    for column, value in (("command_type", where.command_type), ("rule", where.rule), ("venue_id", where.venue)):
        if value is not None:
            terms.append(f"t.{column} = ?")
            params.append(value)
    if where.status is not None:
        # A literal (one of two, checked): the partial index of rejections is used only for it.
        terms.append(f"t.status = '{where.status}'")
    if with_time and where.since is not None:
        terms.append("t.ledger_time >= ?")
        params.append(view_time_text(where.since))
    if with_time and where.until is not None:
        terms.append("t.ledger_time < ?")
        params.append(view_time_text(where.until))
    return terms, params


def _matching(session: ReadSession, where: TransactionFilter, before: int, count: int) -> list[tuple[Any, ...]]:
    """Up to `count` rows of the transactions `where` selects, before the
    position `before`, newest first."""
    sides = _sides(where)
    terms, params = _column_terms(where)
    if sides:
        return session.fetchall(*_driven_by_side(sides, terms, params, before, count))
    if (where.since is not None or where.until is not None) and not _column_terms(where, with_time=False)[0]:
        return _in_time_window(session, where, before, count)  # a window of ledger time is the only filter
    conditions = " AND ".join([*terms, "t.position < ?"])
    statement = f"SELECT {_COLUMNS} FROM view_transactions t WHERE {conditions} ORDER BY t.position DESC LIMIT ?"  # noqa: S608
    return session.fetchall(statement, [*params, before, count])


def _in_time_window(session: ReadSession, where: TransactionFilter, before: int, count: int) -> list[tuple[Any, ...]]:
    """A window of ledger time alone: its page is looked for among the newest
    rows first (a recent window, or one open at the end, is found there), and
    otherwise read from the ledger-time index, which costs the rows the window
    holds before the cursor, whatever the length of the log."""
    terms, params = _column_terms(where)
    scanned = _RECENT_ROWS_FIRST * count
    recent = session.fetchall(
        "SELECT position, ledger_time FROM view_transactions WHERE position < ? ORDER BY position DESC LIMIT ?",
        (before, scanned),
    )
    since = None if where.since is None else view_time_text(where.since)
    until = None if where.until is None else view_time_text(where.until)
    positions = [
        position for position, time in recent if (since is None or time >= since) and (until is None or time < until)
    ]
    if len(positions) < count and len(recent) == scanned:
        # `+position`: the ledger-time index, not the positions', serves this read.
        statement = (
            f"SELECT t.position FROM view_transactions t WHERE {' AND '.join(terms)} AND +t.position < ? "  # noqa: S608
            "ORDER BY t.position DESC LIMIT ?"
        )
        positions = [position for (position,) in session.fetchall(statement, [*params, before, count])]
    return _by_positions(session, positions[:count])


def _by_positions(session: ReadSession, positions: list[int]) -> list[tuple[Any, ...]]:
    if not positions:
        return []
    marks = ", ".join("?" * len(positions))
    statement = f"SELECT {_COLUMNS} FROM view_transactions t WHERE t.position IN ({marks}) ORDER BY t.position DESC"  # noqa: S608
    return session.fetchall(statement, positions)


def _driven_by_side(
    sides: list[_Side], terms: list[str], params: list[Any], before: int, count: int
) -> tuple[str, list[Any]]:
    """The read that walks the first side table's index back from `before`,
    and checks every other filter on the rows it meets (SQLite keeps the
    tables of a CROSS JOIN in the order written; PostgreSQL plans by its
    statistics)."""
    first, others = sides[0], sides[1:]
    conditions = [
        first.on("d"),
        "d.position < ?",
        "t.position = d.position",
        *(side.exists() for side in others),
        *terms,
    ]
    values = [*first.values, before, *(value for side in others for value in side.values), *params]
    statement = (
        f"SELECT {_COLUMNS} FROM {first.table} d CROSS JOIN view_transactions t "  # noqa: S608
        f"WHERE {' AND '.join(conditions)} ORDER BY d.position DESC LIMIT ?"
    )
    return statement, [*values, count]


def _check_limit(limit: int, most: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise InvalidQuery(f"limit must be a whole number from 1 to {most}, not {limit!r}")


def _cursor_text(before: int, where: TransactionFilter) -> str:
    """An opaque cursor: the position to read back from, and the filters it is for."""
    data = json.dumps({"v": 1, "before": before, "filter": where.digest()}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _cursor_position(cursor: str | None, where: TransactionFilter) -> int:
    if cursor is None:
        return _NO_CURSOR
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        before, digest = data["before"], data["filter"]
        if data["v"] != 1 or not isinstance(before, int) or not isinstance(digest, str):
            raise ValueError(cursor)
    except (ValueError, KeyError, TypeError, binascii.Error):
        shown = cursor if len(cursor) <= 40 else cursor[:37] + "..."
        raise InvalidCursor(
            f"cursor {shown!r} is not one this ledger made: pass a page's next_cursor as it was given"
        ) from None
    if digest != where.digest():
        raise InvalidCursor(
            "the cursor was made for other filters: repeat the filters of the page it came from, "
            "or start again without a cursor"
        )
    return before


def event_topics(types: tuple[str, ...]) -> list[str]:
    """The stored topics of event class names; an unknown name is refused, naming the known ones."""
    if not types:
        return []
    from domain.events import event_classes  # noqa: PLC0415 (only a read of the log by type needs the events)

    stored = [cls for cls in event_classes() if not cls.__subclasses__()]  # not LedgerTransaction, a base
    known = {cls.__name__: f"{cls.__module__}:{cls.__qualname__}" for cls in stored}
    unknown = [name for name in types if name not in known]
    if unknown:
        raise InvalidQuery(f"unknown event type {unknown[0]!r}: the types are {', '.join(sorted(known))}")
    return [known[name] for name in types]


def _rejections_under(session: ReadSession, rule: str, after: int, limit: int) -> list[int]:
    """The positions of the rejections under `rule` after `after` (a rejection is one event)."""
    rows = session.fetchall(
        "SELECT position FROM view_transactions WHERE rule = ? AND position > ? ORDER BY position LIMIT ?",
        (rule, after, limit),
    )
    return [int(position) for (position,) in rows]
