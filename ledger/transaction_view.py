"""The transactions view: one row per command that wrote events, and a side table per many-valued filter.

A command's events are contiguous in the log (a batch appends them in the
order it decided them, under the write lock) and carry its key, so the view
reads the log as runs of one key. The first event of a run names the command
and its outcome: a `CommandRejected` (status `rejected`, with its rule), or
the event its decider records first (`domain.events.COMMAND_TYPE_OF_FIRST_EVENT`).
Every event of the run adds what it names: clients (every party field, a
rejected command's own party fields, and the owners of the client accounts its
postings move), accounts and assets (its postings'; for a rejection, the
assets its command names) and a venue. A run that a page boundary cuts is
continued from the row the earlier page wrote: one look-up by key, for the
first run of a page only. Rows are written with one statement per table.

Lists of names (clients, accounts, assets, notification ids) are stored
comma-separated (`ledger.tables.split_names`), as `view_venues` stores its
assets; times as fixed-width RFC 3339 UTC text (`view_time_text`); metadata
and a rejection's details as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from domain.accounts import CLIENT_PREFIX
from domain.events import (
    COMMAND_TYPE_OF_FIRST_EVENT,
    NEVER_FIRST_EVENTS,
    CommandRejected,
    LedgerEvent,
    LedgerTransaction,
    VenueListed,
)
from ledger.store.ports import WriteSession
from ledger.tables import split_names, view_time_text

if TYPE_CHECKING:
    from ledger.projections import PlainTransactionFacts

PARTY_FIELDS = ("client_id", "source_client_id", "target_client_id", "buyer_client_id", "seller_client_id")
COMMAND_ASSET_FIELDS = ("asset", "base_asset", "quote_asset")
_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)  # made once: json.dumps makes one per call
_CLIENT_PREFIX_LENGTH = len(CLIENT_PREFIX)


class EventFacts(NamedTuple):
    """What the transactions view reads of one event. `command_type` is None
    for an event that never comes first (an AML notice); `rejection` is
    (rule, reason, details as JSON) for a `CommandRejected`, else None. The
    names may repeat, and `clients` may hold None (a party field left empty)."""

    id: int
    key: str
    command_type: str | None
    rejection: tuple[str, str, str] | None
    venue_id: str | None
    ledger_time: datetime
    recorded_at: datetime
    metadata: dict[str, str]
    clients: list[str | None]
    accounts: list[str]
    assets: list[str]


# Makes EventFacts of a tuple without a Python frame (a NamedTuple's __new__
# has one): the write path makes one an event.
_event_facts = partial(tuple.__new__, EventFacts)


class _Shape(NamedTuple):
    """What an event class offers the view, worked out once per class."""

    parties: tuple[str, ...]
    command_type: str | None
    moves: bool
    rejection: bool
    lists_venue: bool


_SHAPES: dict[type[LedgerEvent], _Shape] = {}


def _shape(cls: type[LedgerEvent]) -> _Shape:
    shape = _SHAPES.get(cls)
    if shape is None:
        command_type = (
            None if issubclass(cls, NEVER_FIRST_EVENTS) else COMMAND_TYPE_OF_FIRST_EVENT.get(cls, cls.__name__)
        )
        shape = _SHAPES[cls] = _Shape(
            parties=tuple(name for name in PARTY_FIELDS if name in cls.model_fields),
            command_type=command_type,
            moves=issubclass(cls, LedgerTransaction),
            rejection=issubclass(cls, CommandRejected),
            lists_venue=issubclass(cls, VenueListed),
        )
    return shape


def facts_of_event(event_id: int, event: LedgerEvent) -> EventFacts:
    shape = _shape(type(event))
    if shape.rejection:
        return _facts_of_rejection(event_id, cast(CommandRejected, event))
    fields = event.__dict__  # the fields themselves: most events are read on the write path
    postings = fields["postings"] if shape.moves else ()
    accounts = [posting.account for posting in postings]
    clients = [fields[name] for name in shape.parties]
    clients += [account[_CLIENT_PREFIX_LENGTH:] for account in accounts if account.startswith(CLIENT_PREFIX)]
    venue = fields["venue"].venue_id if shape.lists_venue else fields.get("venue_id")
    return _event_facts(
        (
            event_id,
            fields["command_key"],
            shape.command_type,
            None,
            venue,
            fields["ledger_time"],
            fields["timestamp"],
            fields["metadata"],
            clients,
            accounts,
            [posting.asset for posting in postings],
        )
    )


def _facts_of_rejection(event_id: int, event: CommandRejected) -> EventFacts:
    command = event.command
    parties = [event.client_id, *(command.get(name) for name in PARTY_FIELDS)]
    return EventFacts(
        event_id,
        event.command_key,
        event.command_type,
        (event.rule, event.reason, _JSON.encode(event.details)),
        event.venue_id,
        event.ledger_time,
        event.timestamp,
        event.metadata,
        [party if isinstance(party, str) else None for party in parties],
        [],
        [str(command[name]) for name in COMMAND_ASSET_FIELDS if command.get(name)],
    )


def facts_of_plain(event_id: int, command_type: str, fields: PlainTransactionFacts) -> EventFacts:
    """The facts of a plain transaction from its `PlainTransactionFacts`, as
    `facts_of_event` gives them from the whole event."""
    postings = fields["postings"]
    accounts = [posting["account"] for posting in postings]
    clients: list[str | None] = [fields.get(name) for name in PARTY_FIELDS[:3]]  # type: ignore[misc]
    clients += [account[_CLIENT_PREFIX_LENGTH:] for account in accounts if account.startswith(CLIENT_PREFIX)]
    return _event_facts(
        (
            event_id,
            fields["command_key"],
            command_type,
            None,
            None,
            fields["ledger_time"],
            fields["timestamp"],
            fields.get("metadata", _NO_METADATA),
            clients,
            accounts,
            [posting["asset"] for posting in postings],
        )
    )


class _Transaction:
    """One command's row as its run of events builds it."""

    __slots__ = (
        "accounts",
        "assets",
        "clients",
        "command_type",
        "ids",
        "key",
        "ledger_time",
        "metadata",
        "position",
        "recorded_at",
        "rejection",
        "venue_id",
    )
    clients: set[str | None]  # None is taken out as each event is added

    def __init__(self, facts: EventFacts, texts: dict[datetime, str]) -> None:
        """From the run's first event; `texts` holds the RFC 3339 text of the
        times already seen (a batch's commands share theirs)."""
        self.key, self.position, self.command_type = facts.key, facts.id, facts.command_type
        self.rejection, self.venue_id = facts.rejection, facts.venue_id
        time, recorded = facts.ledger_time, facts.recorded_at
        self.ledger_time = texts.get(time) or texts.setdefault(time, view_time_text(time))
        self.recorded_at = texts.get(recorded) or texts.setdefault(recorded, view_time_text(recorded))
        self.metadata = facts.metadata
        self.clients, self.accounts, self.assets = set(facts.clients), set(facts.accounts), set(facts.assets)
        self.clients.discard(None)
        self.ids = [facts.id]

    def add(self, facts: EventFacts) -> None:
        self.clients.update(facts.clients)
        self.clients.discard(None)
        self.accounts.update(facts.accounts)
        self.assets.update(facts.assets)
        self.ids.append(facts.id)
        self.venue_id = self.venue_id or facts.venue_id

    def continuing(self, stored: Sequence[Any]) -> None:
        """Takes the row an earlier page wrote for the start of this run."""
        (position, command_type, status, rule, reason, details, venue, time, recorded, metadata) = stored[:10]
        self.position, self.command_type, self.ledger_time, self.recorded_at = position, command_type, time, recorded
        self.rejection = (rule, reason, details) if status == "rejected" else None
        self.venue_id, self.metadata = venue or self.venue_id, json.loads(metadata)
        for names, text in ((self.clients, stored[10]), (self.accounts, stored[11]), (self.assets, stored[12])):
            names.update(split_names(text))
        self.ids[:0] = [int(text) for text in split_names(stored[13])]

    def row(self) -> tuple[Any, ...]:
        assert self.command_type is not None, f"the events of {self.key!r} start with one that never comes first"
        rule, reason, details = self.rejection or _ACCEPTED
        return (
            self.key,
            self.position,
            self.command_type,
            "accepted" if self.rejection is None else "rejected",
            rule,
            reason,
            details,
            self.venue_id,
            self.ledger_time,
            self.recorded_at,
            _JSON.encode(self.metadata) if self.metadata else "{}",
            ",".join(sorted(cast("set[str]", self.clients))),
            ",".join(sorted(self.accounts)),
            ",".join(sorted(self.assets)),
            ",".join(map(str, self.ids)),
        )


_ACCEPTED = (None, None, None)
_NO_METADATA: dict[str, str] = {}


def runs(facts: Sequence[EventFacts], texts: dict[datetime, str]) -> list[_Transaction | EventFacts]:
    """The commands behind events in log order, one per run of one key: a
    command of one event as its facts, others (and the page's first, which
    may continue a run an earlier page began) as a `_Transaction`. `texts`:
    the RFC 3339 text of the times seen (see `_Rows.texts`)."""
    found: list[_Transaction | EventFacts] = []
    current: _Transaction | None = None
    last = len(facts) - 1
    for index, fact in enumerate(facts):
        if current is not None and fact.key == current.key:
            current.add(fact)
        elif index and index < last and facts[index + 1].key != fact.key:
            current = None
            found.append(fact)
        elif index and index == last:
            found.append(fact)
        else:
            current = _Transaction(fact, texts)
            found.append(current)
    return found


_STORED = (
    "SELECT position, command_type, status, rule, reason, details, venue_id, ledger_time, recorded_at, metadata, "
    "clients, accounts, assets, notification_ids FROM view_transactions WHERE key = ?"
)
_TEXT, _BIGINT = "text", "bigint"
_ROW_TYPES = (_TEXT, _BIGINT, *(_TEXT,) * 13)
_UPDATED = (
    "ON CONFLICT (key) DO UPDATE SET venue_id = excluded.venue_id, clients = excluded.clients, "
    "accounts = excluded.accounts, assets = excluded.assets, notification_ids = excluded.notification_ids"
)
# The side tables and their columns' types. A run cut by a page boundary
# names again what the earlier page wrote: nothing is written twice.
_SIDE_TABLES = (
    ("view_transaction_clients", (_TEXT, _BIGINT)),
    ("view_transaction_accounts", (_TEXT, _BIGINT)),
    ("view_transaction_assets", (_TEXT, _BIGINT)),
    ("view_transaction_metadata", (_TEXT, _TEXT, _BIGINT)),
)


def write_transactions(session: WriteSession, facts: Sequence[EventFacts]) -> None:
    """Writes the rows of the commands behind `facts` (events in log order,
    the next after those the view has applied) and their side tables."""
    if not facts:
        return
    rows = _Rows()
    transactions = runs(facts, rows.texts)
    first = transactions[0]
    assert isinstance(first, _Transaction), "a page's first run may continue an earlier page's"
    stored = session.fetchall(_STORED, (first.key,))
    if stored:
        first.continuing(stored[0])
    for transaction in transactions:
        if isinstance(transaction, _Transaction):
            rows.add(transaction)
        else:
            rows.add_single(transaction)
    session.insert_rows("view_transactions", _ROW_TYPES, rows.transactions, conflict=_UPDATED)
    for (table, types), side in zip(_SIDE_TABLES, rows.sides(), strict=True):
        if side:
            session.insert_rows(table, types, side, conflict="ON CONFLICT DO NOTHING")


class _Rows:
    """The rows a page writes: its transactions' and their side tables'."""

    def __init__(self) -> None:
        self.transactions: list[tuple[Any, ...]] = []
        self.clients: list[tuple[str, int]] = []
        self.accounts: list[tuple[str, int]] = []
        self.assets: list[tuple[str, int]] = []
        self.metadata: list[tuple[str, str, int]] = []
        self.texts: dict[datetime, str] = {}  # a batch's commands share their times

    def sides(self) -> tuple[list[Any], ...]:
        return sorted(self.clients), sorted(self.accounts), sorted(self.assets), sorted(self.metadata)

    def add(self, transaction: _Transaction) -> None:
        position = transaction.position
        self.transactions.append(transaction.row())
        self.clients += [(client, position) for client in cast("set[str]", transaction.clients)]
        self.accounts += [(account, position) for account in transaction.accounts]
        self.assets += [(asset, position) for asset in transaction.assets]
        self._add_metadata(transaction.metadata, position)

    def add_single(self, facts: EventFacts) -> None:
        """A command of one event (most of them), straight from its facts:
        the same row `_Transaction` builds, at a fraction of the cost."""
        position, key, command_type, rejection, venue, time, recorded, metadata, clients, accounts, assets = facts
        assert command_type is not None, f"the events of {key!r} start with one that never comes first"
        texts = self.texts
        names = set(clients)
        names.discard(None)
        own_clients = sorted(cast("set[str]", names))
        own_accounts = sorted(set(accounts))
        own_assets = sorted(set(assets))
        rule, reason, details = rejection or _ACCEPTED
        self.transactions.append(
            (
                key,
                position,
                command_type,
                "accepted" if rejection is None else "rejected",
                rule,
                reason,
                details,
                venue,
                texts.get(time) or texts.setdefault(time, view_time_text(time)),
                texts.get(recorded) or texts.setdefault(recorded, view_time_text(recorded)),
                _JSON.encode(metadata) if metadata else "{}",
                ",".join(own_clients),
                ",".join(own_accounts),
                ",".join(own_assets),
                str(position),
            )
        )
        self.clients += [(client, position) for client in own_clients]
        self.accounts += [(account, position) for account in own_accounts]
        self.assets += [(asset, position) for asset in own_assets]
        self._add_metadata(metadata, position)

    def _add_metadata(self, metadata: dict[str, str], position: int) -> None:
        if metadata:
            self.metadata += [(name, value, position) for name, value in metadata.items()]
