"""Read models built from the notification log, in the same database as the events.

Each page of notifications is applied in one transaction that also records the
views' tracking position through the library's tracking recorder, so every
event is applied exactly once: a page re-delivered after a crash is skipped,
and a failure part-way through a page rolls the page back whole. Both backends
poll `select_notifications`-style reads (the library's SQLite recorder has no
subscriptions). A page is first summarised (`ViewDecoder.summarize`): its plain
transactions decoded to their postings and summed, its other events kept to be
decoded whole and applied in order.

The views: balances per account and asset; clients; venues; assets with the
outstanding supply of each token; compliance (recorded rejections by day,
rule, client, venue and command); settlements; AML notices; trades by venue;
the latest ledger time; the transactions, one row per command that wrote
events (`ledger.transaction_view`).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, NamedTuple, NotRequired, cast

from eventsourcing.utils import get_topic
from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict

from domain.accounts import SystemAccount
from domain.calendar import UNRECORDED_TIME_ZONE, ledger_day, zone_named
from domain.crossborder import (
    SETTLEMENT_INITIAL_STATUS,
    SettlementMove,
    SettlementStatus,
    settlement_outstanding_minor,
    settlement_status,
)
from domain.events import (
    COMMAND_TYPE_OF_FIRST_EVENT,
    PLAIN_TRANSACTIONS,
    AmlNotificationRecorded,
    AssetRegistered,
    BankEstablished,
    ClientFrozen,
    ClientKycRevoked,
    ClientKycVerified,
    ClientOffboarded,
    ClientOnboarded,
    ClientUnfrozen,
    CommandRejected,
    FundsReturned,
    FundsWithdrawn,
    IssuerLicenceRevoked,
    LedgerEvent,
    LedgerTransaction,
    SettlementClosedByDelivery,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
    TokenRegistered,
    TradeExecuted,
    TransactionReversed,
    VenueDelisted,
    VenueListed,
)
from domain.parties import KycStatus
from ledger.follow import PLAIN_TOPICS, follow_in, follow_tracked
from ledger.store.codec import PydanticMapper
from ledger.store.ports import Backend, LogEntry, UnreadableEvent, WriteSession
from ledger.tables import VIEW_INDEXES, VIEW_TABLES, VIEWS_TRACKING_NAME, create_view_statements
from ledger.transaction_view import EventFacts, facts_of_event, facts_of_plain, write_transactions
from ledger.views import recorded_time_zone

PAGE_SIZE = 5000
_IN_CHUNK = 400  # keeps every IN (...) list under SQLite's parameter limit

ComplianceKey = tuple[str, str, str, str, str]


class PostingRow(TypedDict):
    account: str
    asset: str
    amount_minor: int


class PlainTransaction(TypedDict):
    """What the views read of a transaction that has no view of its own
    (issuance, redemption, deposits, withdrawals, transfers): its ledger time
    and its postings. Only these fields are decoded, validated by
    pydantic-core, without building the event; that is most of the log, and
    four times cheaper than the whole event."""

    ledger_time: datetime
    postings: list[PostingRow]


class PlainTransactionFacts(PlainTransaction):
    """What the views read of a plain transaction: its `PlainTransaction`
    fields, and what the transactions view shows of it (key, recording time,
    metadata, parties)."""

    command_key: str
    timestamp: datetime
    metadata: NotRequired[dict[str, str]]
    late_by_seconds: NotRequired[int | None]
    client_id: NotRequired[str]
    source_client_id: NotRequired[str]
    target_client_id: NotRequired[str]


# The events with a row view of their own, and the Projector's method for each;
# they are decoded whole.
_ROW_VIEW_HANDLERS: dict[type[LedgerEvent], str] = {
    BankEstablished: "_bank_established",
    ClientOnboarded: "_client_onboarded",
    ClientKycVerified: "_client_kyc_verified",
    ClientKycRevoked: "_client_kyc_revoked",
    ClientFrozen: "_client_frozen",
    ClientUnfrozen: "_client_unfrozen",
    ClientOffboarded: "_client_offboarded",
    TransactionReversed: "_transaction_reversed",
    AssetRegistered: "_asset_registered",
    TokenRegistered: "_asset_registered",
    VenueListed: "_venue_listed",
    VenueDelisted: "_venue_delisted",
    SettlementInitiated: "_settlement_initiated",
    FundsReturned: "_funds_returned",
    SettlementClosedByDelivery: "_settlement_closed",
    SettlementDeadlineExtended: "_deadline_extended",
    SettlementOverdue: "_settlement_overdue",
    AmlNotificationRecorded: "_aml_notice",
    TradeExecuted: "_trade_executed",
}
# The lifecycle changes, each a row of `view_lifecycle`: what the subject is,
# its id, the change, and the reason and detail to show.
_LIFECYCLE_CHANGES: dict[type[LedgerEvent], Callable[[Any], tuple[str, str, str, str | None, str | None]]] = {
    ClientKycVerified: lambda e: (
        "client",
        e.client_id,
        "kyc_verified",
        None,
        None if e.expires_on is None else e.expires_on.isoformat(),
    ),
    ClientKycRevoked: lambda e: ("client", e.client_id, "kyc_revoked", e.reason, None),
    ClientFrozen: lambda e: ("client", e.client_id, "frozen", e.reason, None),
    ClientUnfrozen: lambda e: ("client", e.client_id, "unfrozen", e.reason, None),
    ClientOffboarded: lambda e: ("client", e.client_id, "offboarded", e.reason, None),
    IssuerLicenceRevoked: lambda e: ("issuer", e.issuer_id, "licence_revoked", e.reason, None),
    SettlementOverdue: lambda e: ("settlement", e.settlement_id, "overdue", None, e.deadline.isoformat()),
    SettlementDeadlineExtended: lambda e: (
        "settlement",
        e.settlement_id,
        "deadline_extended",
        e.permit_reference,
        e.new_deadline.isoformat(),
    ),
}
_SETTLEMENT_FOLLOW_UPS = (FundsReturned, SettlementClosedByDelivery, SettlementDeadlineExtended, SettlementOverdue)
_PLAIN_TRANSACTION = TypeAdapter(PlainTransaction)
# The schema validator itself: TypeAdapter.validate_json's wrapper costs as
# much again as the decoding, once per event.
read_plain_transaction: Callable[[bytes], PlainTransaction] = _PLAIN_TRANSACTION.validator.validate_json
read_plain_facts: Callable[[bytes], PlainTransactionFacts] = TypeAdapter(PlainTransactionFacts).validator.validate_json
# A withdrawal that carried travel-rule data has a row of its own: decoded whole.
_WITHDRAWN_TOPIC = get_topic(FundsWithdrawn)
_IVMS101_MARK = b'"ivms101":{'
_PLAIN_COMMAND_TYPES = {get_topic(cls): COMMAND_TYPE_OF_FIRST_EVENT[cls] for cls in PLAIN_TRANSACTIONS}


class _Recorded(TypedDict):
    timestamp: datetime


_RECORDED = TypeAdapter(_Recorded)


@dataclass
class PageSummary:
    """A page of the log reduced to what the views need from it in order: the
    balance changes and latest ledger time of its plain transactions (sums and
    a maximum, so any process can work them out) and what the transactions
    view reads of each, and its other events, still encoded, for the views to
    apply one by one. `last_id` is the notification id of the last event it
    covers (None if it covers none)."""

    last_id: int | None
    events: int
    changes: dict[tuple[str, str], int]
    latest: datetime | None
    whole: list[LogEntry]
    plain: list[EventFacts] = field(default_factory=list)
    stopped: bool = False
    late: list[tuple[str, int, int]] = field(default_factory=list)  # (key, position, seconds) of late commands


class ViewDecoder:
    """Reads pages of the log for the views: plain transactions are decoded to
    their `PlainTransaction` fields and summed, every other event is kept to be
    decoded whole (with upcasting) and applied in order."""

    def __init__(self, mapper: PydanticMapper) -> None:
        self.mapper = mapper
        self.plain_topics = PLAIN_TOPICS
        self._recorded = _RECORDED.validator.validate_json

    def summarize(self, entries: Sequence[LogEntry], recorded_by: datetime | None = None) -> PageSummary:
        """The summary of `entries`, stopping before the first event recorded
        after `recorded_by` when it is given."""
        changes: dict[tuple[str, str], int] = {}
        latest: datetime | None = None
        whole: list[LogEntry] = []
        facts: list[EventFacts] = []
        late: list[tuple[str, int, int]] = []
        state, plain, plain_topics = self._state, read_plain_facts, self.plain_topics
        kept = 0
        try:
            for entry in entries:
                if recorded_by is not None and self._recorded(state(entry.state))["timestamp"] > recorded_by:
                    break
                raw = state(entry.state)
                if entry.topic in plain_topics and not (entry.topic == _WITHDRAWN_TOPIC and _IVMS101_MARK in raw):
                    fields = plain(raw)
                    for posting in fields["postings"]:
                        key = (posting["account"], posting["asset"])
                        changes[key] = changes.get(key, 0) + posting["amount_minor"]
                    if latest is None or fields["ledger_time"] > latest:
                        latest = fields["ledger_time"]
                    facts.append(facts_of_plain(entry.id, _PLAIN_COMMAND_TYPES[entry.topic], fields))
                    if fields.get("late_by_seconds") is not None:
                        late.append((fields["command_key"], entry.id, cast(int, fields["late_by_seconds"])))
                else:
                    whole.append(entry)
                kept += 1
        except ValidationError as error:
            raise UnreadableEvent.at(entries[kept], error) from None
        last_id = entries[kept - 1].id if kept else None
        return PageSummary(last_id, kept, changes, latest, whole, facts, stopped=kept < len(entries), late=late)

    def whole(self, entry: LogEntry) -> LedgerEvent:
        try:
            return cast(LedgerEvent, self.mapper.to_domain_event(entry))
        except ValidationError as error:
            raise UnreadableEvent.at(entry, error) from None

    def _state(self, state: bytes) -> bytes:
        return self.mapper.open_state(state) if self.mapper.is_sealed else state


class AppendedBatch(NamedTuple):
    """What one batch appended: its events, their ids in the log, and the
    head of the log before it."""

    after: int
    events: Sequence[LedgerEvent]
    ids: Sequence[int]


@dataclass
class _Page:
    """What one page changes in the views that accumulate: balance changes,
    rejection counts, the latest ledger time, and the facts of its events for
    the transactions view (in log order once `in_order` sorted them)."""

    changes: dict[tuple[str, str], int] = field(default_factory=dict)
    compliance: dict[ComplianceKey, int] = field(default_factory=lambda: defaultdict(int))
    latest: datetime | None = None
    facts: list[EventFacts] = field(default_factory=list)
    late: list[tuple[str, int, int]] = field(default_factory=list)

    def in_order(self) -> list[EventFacts]:
        """The facts in log order: a summary's plain transactions and the
        whole events were added as two runs, each in order."""
        return sorted(self.facts, key=_event_id)


def _position(late: tuple[str, int, int]) -> int:
    return late[1]


def _event_id(facts: EventFacts) -> int:
    return facts.id


class Projector:
    """Applies the log to the views; `catch_up` brings them to the head."""

    def __init__(self, backend: Backend, decode: ViewDecoder | None = None) -> None:
        self.backend = backend
        self._handlers: dict[type[LedgerEvent], Callable[[WriteSession, Any], None]] = {
            cls: getattr(self, name) for cls, name in _ROW_VIEW_HANDLERS.items()
        }
        self.decode = decode or ViewDecoder(backend.mapper)
        self._zone: tzinfo | None = None  # the bank's, read from the log when first needed

    def _day(self, session: WriteSession, moment: datetime) -> str:
        """The ledger day of `moment`, in the bank's time zone."""
        if self._zone is None:
            self._zone = recorded_time_zone(session, self.backend.mapper.open_state)
        return ledger_day(moment, self._zone).isoformat()

    def set_up(self) -> None:
        with self.backend.views() as session:
            for statement in create_view_statements(session.dialect):
                session.execute(statement)

    def follow(
        self, session: WriteSession, *, page_size: int = PAGE_SIZE, appended: AppendedBatch | None = None
    ) -> int:
        """Brings the views to the head of the log inside this session's
        transaction (the write path's, so that the views commit with the
        events they show); returns how many events were applied. When the
        views stood at the head the batch `appended` to, its events are
        applied as the write path holds them, not read back and decoded."""
        session.lock_views()
        if (
            appended is not None
            and appended.events
            and session.tracking_position(VIEWS_TRACKING_NAME) == appended.after
        ):
            self.apply_events(session, appended.events, appended.ids)
            return len(appended.events)
        return follow_in(session, VIEWS_TRACKING_NAME, self._apply_entries, page_size=page_size)

    def apply_events(self, session: WriteSession, events: Sequence[LedgerEvent], ids: Sequence[int]) -> None:
        """Applies events that are the next in the log, at notification ids
        `ids`, and records the last as the views' position, in this session's
        transaction."""
        page = _Page()
        for event_id, event in zip(ids, events, strict=True):
            self._apply(session, page, event_id, event)
        self._write_page(session, page)
        session.advance_tracking(VIEWS_TRACKING_NAME, ids[-1])

    def catch_up(self, *, page_size: int = PAGE_SIZE, progress: Callable[[int], None] | None = None) -> int:
        """Applies every notification after the views' position, a page per
        transaction; returns how many."""
        return follow_tracked(
            self.backend, VIEWS_TRACKING_NAME, self._apply_entries, page_size=page_size, lock="views", progress=progress
        )

    def _apply_entries(self, session: WriteSession, entries: Sequence[LogEntry]) -> None:
        self._apply_rows(session, self.decode.summarize(entries))

    @contextmanager
    def loading(self) -> Iterator[None]:
        """Around a load of the whole log into views that are empty (a replay
        into a fresh store): the transactions' secondary indexes are dropped
        and made again at the end, one sort each instead of an insert per
        row. A load that stops half-way leaves them to the next `set_up`."""
        with self.backend.views() as session:
            empty = session.tracking_position(VIEWS_TRACKING_NAME) == 0
            if empty:
                for name in VIEW_INDEXES:
                    session.execute(f"DROP INDEX IF EXISTS {name}")
        yield
        if empty:
            self.set_up()

    def rebuild(self, *, progress: Callable[[int], None] | None = None) -> int:
        """Empties every view and applies the whole log again."""
        self.clear()
        return self.catch_up(progress=progress)

    def clear(self) -> None:
        """Empties every view and sets its position back to the start of the log."""
        with self.backend.views() as session:
            for table in VIEW_TABLES:
                session.execute(f"DELETE FROM {table}")  # noqa: S608 (table names are constants)
            session.reset_tracking(VIEWS_TRACKING_NAME)

    def position(self) -> int:
        with self.backend.read() as session:
            return session.tracking_position(VIEWS_TRACKING_NAME)

    def apply_page(self, session: WriteSession, position: int, notifications: Sequence[LogEntry]) -> None:
        """Applies the notifications after `position`, in order, then records the
        new position. Notifications at or before `position` change nothing."""
        fresh = [n for n in notifications if n.id > position]
        if fresh:
            self.apply_summary(session, self.decode.summarize(fresh))

    def apply_summary(self, session: WriteSession, summary: PageSummary) -> None:
        """Applies a page's summary to the views and records its last id as
        the views' position, in this session's transaction."""
        if summary.last_id is None:
            return
        self._apply_rows(session, summary)
        session.advance_tracking(VIEWS_TRACKING_NAME, summary.last_id)

    def _apply_rows(self, session: WriteSession, summary: PageSummary) -> None:
        page = _Page(changes=summary.changes, latest=summary.latest, facts=list(summary.plain), late=list(summary.late))
        with collector_paused():
            for entry in summary.whole:
                self._apply(session, page, entry.id, self.decode.whole(entry))
            self._write_page(session, page)

    def _apply(self, session: WriteSession, page: _Page, event_id: int, event: LedgerEvent) -> None:
        facts = facts_of_event(event_id, event)
        page.facts.append(facts)
        if isinstance(event, _SETTLEMENT_FOLLOW_UPS):
            # These name the settlement, not its client: the transactions
            # view finds them under the client all the same.
            facts.clients.extend(self._client_of_settlement(session, event.settlement_id))
        if isinstance(event, LedgerTransaction):
            for posting in event.postings:
                key = (posting.account, posting.asset)
                page.changes[key] = page.changes.get(key, 0) + posting.amount_minor
        elif isinstance(event, CommandRejected):
            day = self._day(session, event.ledger_time)
            counted = (day, event.rule, event.client_id or "", event.venue_id or "", event.command_type)
            page.compliance[counted] += 1
        if page.latest is None or event.ledger_time > page.latest:
            page.latest = event.ledger_time
        if event.late_by_seconds is not None:
            page.late.append((event.command_key, event_id, event.late_by_seconds))
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(session, event)
        elif isinstance(event, FundsWithdrawn) and event.ivms101 is not None:
            self._crypto_transfer(session, event_id, event)
        change = _LIFECYCLE_CHANGES.get(type(event))
        if change is not None:
            session.execute(
                "INSERT INTO view_lifecycle VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, self._day(session, event.ledger_time), *change(event)),
            )

    def _crypto_transfer(self, session: WriteSession, event_id: int, event: FundsWithdrawn) -> None:
        assert event.ivms101 is not None
        session.execute(
            "INSERT INTO view_crypto_transfers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.command_key,
                event_id,
                self._day(session, event.ledger_time),
                event.client_id,
                event.asset_code,
                str(event.amount_minor),
                event.wallet_address,
                int(event.ivms101.beneficiary_vasp is None),
                event.ivms101.model_dump_json(exclude_none=True),
            ),
        )

    @staticmethod
    def _client_of_settlement(session: WriteSession, settlement_id: str) -> list[str]:
        rows = session.fetchall("SELECT client_id FROM view_settlements WHERE settlement_id = ?", (settlement_id,))
        return [rows[0][0]] if rows else []

    # Accumulating views: read what the page touches, write it back once.

    def _write_page(self, session: WriteSession, page: _Page) -> None:
        write_transactions(session, page.in_order())
        if page.changes:
            balances = self._load_balances(session, sorted({account for account, _ in page.changes}))
            for key, change in page.changes.items():
                balances[key] = balances.get(key, 0) + change
            session.executemany(
                "INSERT INTO view_balances VALUES (?, ?, ?) ON CONFLICT (account, asset) "
                "DO UPDATE SET amount_minor = excluded.amount_minor",
                [(account, asset, str(balances[account, asset])) for account, asset in page.changes],
            )
            supply = sorted(asset for account, asset in page.changes if account == SystemAccount.ISSUANCE)
            if supply:
                session.executemany(
                    "UPDATE view_assets SET supply_minor = ? WHERE code = ?",
                    [(str(-balances[SystemAccount.ISSUANCE, code]), code) for code in supply],
                )
        if page.compliance:
            session.executemany(
                "INSERT INTO view_compliance VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (day, rule, client_id, venue_id, command_type) "
                "DO UPDATE SET rejections = view_compliance.rejections + excluded.rejections",
                [(*key, count) for key, count in page.compliance.items()],
            )
        if page.late:
            # A command's events all carry its lateness: its first one names it.
            late = sorted(page.late, key=_position)
            session.executemany("INSERT INTO view_late VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING", late)
        if page.latest is not None:
            session.execute(
                "INSERT INTO view_ledger_time VALUES (1, ?) ON CONFLICT (singleton) DO UPDATE SET ledger_time = "
                "CASE WHEN excluded.ledger_time > view_ledger_time.ledger_time THEN excluded.ledger_time "
                "ELSE view_ledger_time.ledger_time END",
                (page.latest.isoformat(),),
            )

    @staticmethod
    def _load_balances(session: WriteSession, accounts: list[str]) -> dict[tuple[str, str], int]:
        balances: dict[tuple[str, str], int] = {}
        for start in range(0, len(accounts), _IN_CHUNK):
            chunk = accounts[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = session.fetchall(
                f"SELECT account, asset, amount_minor FROM view_balances WHERE account IN ({marks})",  # noqa: S608
                chunk,
            )
            balances.update({(account, asset): int(amount) for account, asset, amount in rows})
        return balances

    # Row views, written event by event (they change rarely).

    def _bank_established(self, session: WriteSession, event: BankEstablished) -> None:
        self._zone = zone_named(event.time_zone or UNRECORDED_TIME_ZONE)
        session.execute(
            "INSERT INTO view_bank VALUES (1, ?, ?, ?)",
            (event.name, int(event.htp_resident), event.nbrb_register_entry),
        )

    def _client_onboarded(self, session: WriteSession, event: ClientOnboarded) -> None:
        session.execute(
            "INSERT INTO view_clients VALUES (?, ?, ?, ?, ?)",
            (event.client_id, event.name, event.residency.value, event.kind.value, KycStatus.PENDING.value),
        )

    def _client_kyc_verified(self, session: WriteSession, event: ClientKycVerified) -> None:
        session.execute(
            "UPDATE view_clients SET kyc = ? WHERE client_id = ?", (KycStatus.VERIFIED.value, event.client_id)
        )
        if event.expires_on is not None:
            _set_client_status(session, event.client_id, kyc_expires_on=event.expires_on.isoformat())
        else:
            session.execute(
                "UPDATE view_client_status SET kyc_expires_on = NULL WHERE client_id = ?", (event.client_id,)
            )

    def _client_kyc_revoked(self, session: WriteSession, event: ClientKycRevoked) -> None:
        session.execute(
            "UPDATE view_clients SET kyc = ? WHERE client_id = ?", (KycStatus.REVOKED.value, event.client_id)
        )
        _set_client_status(session, event.client_id, kyc_expires_on=None)

    def _client_frozen(self, session: WriteSession, event: ClientFrozen) -> None:
        _set_client_status(session, event.client_id, frozen_reason=event.reason)

    def _client_unfrozen(self, session: WriteSession, event: ClientUnfrozen) -> None:
        _set_client_status(session, event.client_id, frozen_reason=None)

    def _client_offboarded(self, session: WriteSession, event: ClientOffboarded) -> None:
        _set_client_status(session, event.client_id, offboarded_on=self._day(session, event.ledger_time))

    def _transaction_reversed(self, session: WriteSession, event: TransactionReversed) -> None:
        session.execute(
            "INSERT INTO view_reversals VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event.original_key,
                event.command_key,
                event.original_type,
                self._day(session, event.original_ledger_time),
                self._day(session, event.ledger_time),
                event.reason,
                event.reference,
            ),
        )

    def _asset_registered(self, session: WriteSession, event: AssetRegistered | TokenRegistered) -> None:
        asset = event.asset
        cap = None if asset.supply_cap_minor is None else str(asset.supply_cap_minor)
        session.execute(
            "INSERT INTO view_assets VALUES (?, ?, ?, ?, ?, ?)",
            (asset.code, asset.scale, asset.kind.value, asset.issuer_id, cap, "0"),
        )

    def _venue_listed(self, session: WriteSession, event: VenueListed) -> None:
        venue = event.venue
        session.execute(
            "INSERT INTO view_venues VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (venue_id) DO UPDATE SET "
            "name = excluded.name, kind = excluded.kind, domestic = excluded.domestic, "
            "listed = excluded.listed, assets = excluded.assets",
            (
                venue.venue_id,
                venue.name,
                venue.kind.value,
                int(venue.domestic),
                1,
                ",".join(sorted(venue.assets)),
            ),
        )

    def _venue_delisted(self, session: WriteSession, event: VenueDelisted) -> None:
        session.execute("UPDATE view_venues SET listed = 0 WHERE venue_id = ?", (event.venue_id,))

    def _settlement_initiated(self, session: WriteSession, event: SettlementInitiated) -> None:
        session.execute(
            "INSERT INTO view_settlements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.settlement_id,
                event.client_id,
                event.direction.value,
                event.counterparty,
                event.country,
                event.contract_reference,
                event.asset_code,
                str(event.amount_minor),
                "0",
                "0",
                SETTLEMENT_INITIAL_STATUS.value,
                self._day(session, event.ledger_time),
                event.deadline.isoformat(),
                None,
                event.value_byn,
                int(event.travel_rule_complete),
            ),
        )

    def _funds_returned(self, session: WriteSession, event: FundsReturned) -> None:
        _move_settlement(session, event.settlement_id, SettlementMove.RETURN, returned_minor=event.amount_minor)

    def _settlement_closed(self, session: WriteSession, event: SettlementClosedByDelivery) -> None:
        _move_settlement(session, event.settlement_id, SettlementMove.DELIVERY, delivered_minor=event.amount_minor)

    def _deadline_extended(self, session: WriteSession, event: SettlementDeadlineExtended) -> None:
        deadline = event.new_deadline.isoformat()
        _move_settlement(session, event.settlement_id, SettlementMove.EXTENSION, deadline=deadline)

    def _settlement_overdue(self, session: WriteSession, event: SettlementOverdue) -> None:
        overdue_on = self._day(session, event.ledger_time)
        _move_settlement(session, event.settlement_id, SettlementMove.DEADLINE_PASSED, overdue_on=overdue_on)

    def _trade_executed(self, session: WriteSession, event: TradeExecuted) -> None:
        """Trades by venue ('' for trades with the bank itself) and asset pair."""
        key = (event.venue_id or "", event.base_asset, event.quote_asset)
        rows = session.fetchall(
            "SELECT trades, base_volume_minor, quote_volume_minor, fees_minor FROM view_trades "
            "WHERE venue_id = ? AND base_asset = ? AND quote_asset = ?",
            key,
        )
        trades, base, quote, fees = rows[0] if rows else (0, "0", "0", "0")
        session.execute(
            "INSERT INTO view_trades VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (venue_id, base_asset, quote_asset) "
            "DO UPDATE SET trades = excluded.trades, base_volume_minor = excluded.base_volume_minor, "
            "quote_volume_minor = excluded.quote_volume_minor, fees_minor = excluded.fees_minor",
            (
                *key,
                int(trades) + 1,
                str(int(base) + event.base_amount_minor),
                str(int(quote) + event.quote_amount_minor),
                str(int(fees) + event.fee_minor),
            ),
        )

    def _aml_notice(self, session: WriteSession, event: AmlNotificationRecorded) -> None:
        session.execute(
            "INSERT INTO view_aml VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                str(event.originator_id),
                self._day(session, event.ledger_time),
                event.client_id,
                event.operation,
                event.asset_code,
                str(event.amount_minor),
                event.value_byn,
                event.threshold_byn,
                ",".join(event.covered),
            ),
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector while a page is applied: a page of
    the log makes tens of thousands of objects (the transactions view's rows
    among them) that outlive the youngest generation, and each collection
    walks every summary a replay holds; pausing made a replay a quarter
    faster. The write path pauses it for its whole batch with this too (a
    caught rule violation's few cycles wait for the collector, which resumes,
    as it was, when the batch ends); a page or a batch is bounded, so what
    waits for the collector is too."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_CLIENT_STATUS_COLUMNS = ("kyc_expires_on", "frozen_reason", "offboarded_on")


def _set_client_status(session: WriteSession, client_id: str, **changes: str | None) -> None:
    """Sets some of a client's status columns, making its row if it has none."""
    rows = session.fetchall(
        "SELECT kyc_expires_on, frozen_reason, offboarded_on FROM view_client_status WHERE client_id = ?", (client_id,)
    )
    current = dict(zip(_CLIENT_STATUS_COLUMNS, rows[0] if rows else (None, None, None), strict=True))
    current.update(changes)
    session.execute(
        "INSERT INTO view_client_status VALUES (?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET "
        "kyc_expires_on = excluded.kyc_expires_on, frozen_reason = excluded.frozen_reason, "
        "offboarded_on = excluded.offboarded_on",
        (client_id, *(current[name] for name in _CLIENT_STATUS_COLUMNS)),
    )


def _move_settlement(
    session: WriteSession,
    settlement_id: str,
    move: SettlementMove,
    *,
    returned_minor: int = 0,
    delivered_minor: int = 0,
    deadline: str | None = None,
    overdue_on: str | None = None,
) -> None:
    """Applies one move to a settlement's row, its status from the domain's
    status machine (the one the decision state uses)."""
    ((sent, returned, delivered, status),) = session.fetchall(
        "SELECT sent_minor, returned_minor, delivered_minor, status FROM view_settlements WHERE settlement_id = ?",
        (settlement_id,),
    )
    returned, delivered = int(returned) + returned_minor, int(delivered) + delivered_minor
    moved = settlement_status(
        SettlementStatus(status), move, settlement_outstanding_minor(int(sent), returned, delivered)
    )
    session.execute(
        "UPDATE view_settlements SET returned_minor = ?, delivered_minor = ?, status = ?, "
        "deadline = COALESCE(?, deadline), overdue_on = COALESCE(?, overdue_on) WHERE settlement_id = ?",
        (str(returned), str(delivered), moved.value, deadline, overdue_on, settlement_id),
    )


def decode_with(mapper: Any) -> Callable[[Any], LedgerEvent]:
    """Whole events, for readers that need every field (the audit log)."""
    return lambda notification: cast(LedgerEvent, mapper.to_domain_event(notification))


assert not set(PLAIN_TRANSACTIONS) & set(_ROW_VIEW_HANDLERS), "a plain transaction has no row view of its own"
