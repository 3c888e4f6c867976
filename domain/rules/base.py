"""What every area of rules needs: stamps, event heads, postings and look-ups."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from domain.commands import BaseCommand
from domain.crossborder import Settlement
from domain.errors import (
    BackdatedBeyondWindow,
    ChangedBeforeLastChange,
    UnknownAsset,
    UnknownClient,
    UnknownIssuer,
    UnknownSettlement,
    UnknownVenue,
)
from domain.events import LedgerEvent, Posting, stream_id
from domain.money import Asset
from domain.parties import Client, Issuer, Venue
from domain.state import LedgerState, last_change


class Stamp(NamedTuple):
    """When a command is recorded (`recorded_at`), when it happened in
    business time (`ledger_time`), the key of the command and its metadata
    (every event the command records carries both).

    Stamps and outcomes are named tuples: one of each per command on the write
    path, where a frozen dataclass costs ten times as much to make."""

    recorded_at: datetime
    ledger_time: datetime
    command_key: str
    metadata: dict[str, str] = {}  # noqa: RUF012 (a field's default, never mutated: events validate a copy)
    late_by_seconds: int | None = None  # set by `dated` when the command is back-dated within the window


Decider = Callable[[LedgerState, Any, Stamp], list[LedgerEvent]]
"""A command's decider: the state and the command give the events to record."""

Deciders = Mapping[type[BaseCommand], Decider]


def command_stream(key: str) -> UUID:
    """The stream of a command's transaction or rejection: one per key."""
    return stream_id("command", key)


def head(state: LedgerState, stream: UUID, stamp: Stamp) -> dict[str, Any]:
    """The fields every event starts with: its stream, version and stamp."""
    return {
        "originator_id": stream,
        "originator_version": state.version(stream) + 1,
        "timestamp": stamp.recorded_at,
        "ledger_time": stamp.ledger_time,
        "command_key": stamp.command_key,
        "metadata": stamp.metadata,
        "late_by_seconds": stamp.late_by_seconds,
    }


def check_after_last_change(fact: str, history: Sequence[tuple[Any, Any]], effective: Any) -> None:
    """A dated fact changes only after its latest change: a change dated
    before it would reorder the history earlier decisions were taken under."""
    last = last_change(history)
    if last is not None and effective < last:
        raise ChangedBeforeLastChange(fact=fact, last=last.isoformat(), effective=effective.isoformat())


def dated(state: LedgerState, command: BaseCommand, stamp: Stamp) -> Stamp:
    """The stamp of a command that names its own ledger time, judged against
    the ledger's current time (the latest ledger time recorded): earlier by
    more than the back-dating window is refused; earlier within it is marked
    late. A command the ledger's clock dates is never late."""
    current = state.current_time
    if command.ledger_time is None or current is None or stamp.ledger_time >= current:
        return stamp
    window = state.backdating_window
    if stamp.ledger_time < current - window:
        raise BackdatedBeyondWindow(
            ledger_time=stamp.ledger_time.isoformat(),
            current=current.isoformat(),
            window=f"{window.days} days",
            earliest=(current - window).isoformat(),
        )
    return stamp._replace(late_by_seconds=math.ceil((current - stamp.ledger_time).total_seconds()))


def movement(source: str, target: str, asset: str, amount_minor: int) -> tuple[Posting, ...]:
    return (
        Posting(account=source, asset=asset, amount_minor=-amount_minor),
        Posting(account=target, asset=asset, amount_minor=amount_minor),
    )


# Look-ups that refuse what does not exist.


def find_client(state: LedgerState, client_id: str) -> Client:
    found = state.clients.get(client_id)
    if found is None:
        raise UnknownClient(client=client_id)
    return found


def find_issuer(state: LedgerState, issuer_id: str) -> Issuer:
    found = state.issuers.get(issuer_id)
    if found is None:
        raise UnknownIssuer(issuer=issuer_id)
    return found


def find_asset(state: LedgerState, code: str) -> Asset:
    found = state.assets.get(code)
    if found is None:
        raise UnknownAsset(asset=code)
    return found


def find_venue(state: LedgerState, venue_id: str) -> Venue:
    found = state.venues.get(venue_id)
    if found is None:
        raise UnknownVenue(venue=venue_id)
    return found


def find_settlement(state: LedgerState, settlement_id: str) -> Settlement:
    found = state.settlements.get(settlement_id)
    if found is None:
        raise UnknownSettlement(settlement=settlement_id)
    return found
