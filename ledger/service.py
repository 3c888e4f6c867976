"""The ledger application: one entry point that takes batches of commands.

`Ledger.submit(commands)` is the write path. Inside one database transaction
that holds the write lock it catches the decision state up with every event
committed before it, looks up the commands' idempotency keys, decides each
command in order against the state as the earlier ones left it, inserts all
the events and records the keys. A batch commits whole or writes nothing: an
invalid command raises `BatchRejected` naming its position. A command refused
by a business rule is not an error of the batch: its outcome is a recorded
`CommandRejected` event. `Ledger.execute(command)` is a batch of one that
raises the rule violation for callers that want an exception.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, cast

from domain.commands import BaseCommand
from domain.decide import Outcome, Stamp, command_stream, handle
from domain.errors import (
    RULE_VIOLATIONS,
    BatchRejected,
    BatchTooLarge,
    IdempotencyConflict,
    InvalidCommand,
    OutOfRange,
    RuleViolation,
)
from domain.events import LedgerEvent
from domain.state import NO_HISTORY, LedgerState
from ledger import snapshots
from ledger.audit.log import AuditLog
from ledger.audit.store_check import check_record
from ledger.clock import Clock, SystemClock
from ledger.follow import STATE_PLAIN_TOPICS, follow
from ledger.home import BATCH_SIZE_MAX, DEFAULT_HOME
from ledger.projections import AppendedBatch, Projector, collector_paused, decode_with, read_plain_transaction
from ledger.snapshots import SNAPSHOT_EVERY_EVENTS
from ledger.store.ports import Backend, LogEntry, StoreLocation, WriteSession
from ledger.store.schema import open_store
from ledger.views import Balance, ReadModel

_log = logging.getLogger(__name__)
CATCH_UP_PAGE_SIZE = 1000
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))  # made once: json.dumps makes one per call
DEFAULT_ORIGIN = "zubr-crypto-bank.example/ledger"


@dataclass(slots=True)
class CommandResult:
    """What became of one command: `accepted`, or `rejected` under `rule`.

    `stream` is the id of the stream the command wrote, `notification_ids` the
    positions of its events in the log. A repeat (`repeated`) wrote nothing and
    carries the first submission's stream and positions.
    """

    position: int
    key: str
    command_type: str
    status: Literal["accepted", "rejected"]
    stream: str
    notification_ids: tuple[int, ...]
    rule: str | None = None
    reason: str | None = None
    details: dict[str, str] | None = None
    repeated: bool = False
    violation: RuleViolation | None = field(default=None, compare=False, repr=False)

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"

    def stored(self) -> str:
        return _COMPACT_JSON.encode(
            {
                "command_type": self.command_type,
                "status": self.status,
                "stream": self.stream,
                "notification_ids": list(self.notification_ids),
                "rule": self.rule,
                "reason": self.reason,
                "details": self.details,
            }
        )

    @classmethod
    def from_stored(cls, text: str, *, position: int, key: str) -> CommandResult:
        data = json.loads(text)
        violation = None
        if data["rule"] is not None:
            violation = RULE_VIOLATIONS[data["rule"]](**data["details"])
        return cls(
            position=position,
            key=key,
            command_type=data["command_type"],
            status=data["status"],
            stream=data["stream"],
            notification_ids=tuple(data["notification_ids"]),
            rule=data["rule"],
            reason=data["reason"],
            details=data["details"],
            repeated=True,
            violation=violation,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "key": self.key,
            "command_type": self.command_type,
            "status": self.status,
            "rule": self.rule,
            "reason": self.reason,
            "details": self.details,
            "repeated": self.repeated,
            "stream": self.stream,
            "notification_ids": list(self.notification_ids),
        }


@dataclass(slots=True)
class _Decided:
    position: int
    command: BaseCommand
    digest: str
    outcome: Outcome


class Ledger:
    def __init__(
        self,
        backend: Backend,
        *,
        clock: Clock | None = None,
        ledger_clock: Clock | None = None,
        origin: str = DEFAULT_ORIGIN,
        snapshot_every: int | None = SNAPSHOT_EVERY_EVENTS,
    ) -> None:
        """`snapshot_every`: events between automatic snapshots of the
        decision state (None: the ledger neither reads nor takes them by itself)."""
        self.backend = backend
        self.clock = clock or SystemClock()
        self.ledger_clock = ledger_clock or self.clock
        self.mapper = backend.mapper
        self.snapshot_every = snapshot_every
        restored, ignored = snapshots.load(backend) if snapshot_every is not None else (None, False)
        self.state = restored or LedgerState()
        self.projector = Projector(backend)
        self.read_model = ReadModel(backend)
        self.audit = AuditLog(backend, decode_with(self.mapper), origin)
        # Called with the number of events each committed batch appended
        # (the sandbox signs checkpoints from here).
        self.after_commit: list[Callable[[int], None]] = []
        self.catch_up()
        self._snapshot_at = self.state.position if restored else 0
        if ignored or self._snapshot_due():
            # A long replay, or an unusable snapshot, is not paid for again.
            self._snapshot_quietly()

    @classmethod
    def open(
        cls,
        *,
        home: Path = DEFAULT_HOME,
        database_url: str | None = None,
        clock: Clock | None = None,
        ledger_clock: Clock | None = None,
        origin: str = DEFAULT_ORIGIN,
        create: bool = False,
        snapshot_every: int | None = SNAPSHOT_EVERY_EVENTS,
    ) -> Ledger:
        """The ledger of a store that exists; with `create`, a store that holds
        no ledger yet is created first (as `ledger init` does)."""
        backend = open_store(StoreLocation.parse(home=home, database_url=database_url), create=create)
        try:
            return cls(backend, clock=clock, ledger_clock=ledger_clock, origin=origin, snapshot_every=snapshot_every)
        except BaseException:
            backend.close()
            raise

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    # The write path.

    def execute(self, command: BaseCommand) -> CommandResult:
        """A batch of one: raises the command's own error, including a rule
        violation (after recording it)."""
        try:
            (result,) = self.submit([command])
        except BatchRejected as rejected:
            raise rejected.cause from None
        if result.violation is not None:
            raise result.violation
        return result

    def submit(self, commands: Sequence[BaseCommand]) -> list[CommandResult]:
        if len(commands) > BATCH_SIZE_MAX:
            raise BatchTooLarge(limit=BATCH_SIZE_MAX, given=len(commands))
        if not commands:
            return []
        try:
            with collector_paused(), self.backend.write() as session:
                self._catch_up(session.notifications_after)
                self.state.begin()
                results, batch = self._decide_batch(session, commands)
                self.projector.follow(session, appended=batch)  # the views commit with the events they show
                self.audit.append_batch(session, batch.after, batch.events, batch.ids)  # and every event is logged
        except BaseException:
            if self.state.in_batch:
                self.state.rollback()
            raise
        self.state.commit()
        _log_committed(len(commands), batch.ids)
        for hook in self.after_commit:
            try:
                hook(len(batch.ids))
            except Exception:  # the batch has committed: its callers are told so, the failure is logged
                _log.exception("a hook after a committed batch failed")
        if self._snapshot_due():
            self._snapshot_quietly()
        return results

    def _snapshot_due(self) -> bool:
        return self.snapshot_every is not None and self.state.position - self._snapshot_at >= self.snapshot_every

    def _snapshot_quietly(self) -> None:
        """An automatic snapshot: one that fails costs the next open some
        replay, never a batch that has committed, so it only warns."""
        try:
            self.snapshot()
        except Exception as error:  # any failure of the store's: the batch has committed
            # Once: a role that may not write snapshots (the runtime role) is told, not nagged.
            self.snapshot_every = None
            warnings.warn(
                f"no snapshot taken, and none will be by this writer: {error}", snapshots.SnapshotIgnored, stacklevel=3
            )

    def snapshot(self) -> int:
        """Stores a snapshot of the decision state, caught up to the head of
        the log first; returns its log position."""
        self.catch_up()
        self._snapshot_at = snapshots.save(self.backend, self.state, self.clock.now())
        return self._snapshot_at

    def _decide_batch(
        self, session: WriteSession, commands: Sequence[BaseCommand]
    ) -> tuple[list[CommandResult], AppendedBatch]:
        prior = session.known_commands(list({command.key for command in commands}))
        recorded_at = self.clock.now().astimezone(UTC)
        ledger_now = self.ledger_clock.now().astimezone(UTC)
        decided: list[_Decided] = []
        in_batch: dict[str, _Decided] = {}
        results: list[CommandResult | _Decided] = []
        self.state.history = _StoredHistory(session, self.mapper, in_batch)
        try:
            self._decide_each(session, commands, prior, recorded_at, ledger_now, decided, in_batch, results)
        finally:
            self.state.history = NO_HISTORY
        first_results, batch = self._append(session, decided)
        return [self._result_for(position, item, first_results) for position, item in enumerate(results)], batch

    def _decide_each(
        self,
        session: WriteSession,
        commands: Sequence[BaseCommand],
        prior: dict[str, tuple[str, str]],
        recorded_at: datetime,
        ledger_now: datetime,
        decided: list[_Decided],
        in_batch: dict[str, _Decided],
        results: list[CommandResult | _Decided],
    ) -> None:
        for position, command in enumerate(commands):
            digest = command.digest()
            if command.key in prior:
                first_digest, stored = prior[command.key]
                self._check_same(position, command, first_digest, digest)
                check_record(session, self.audit.decode, command.key, stored)  # a retry, never from a forged record
                results.append(CommandResult.from_stored(stored, position=position, key=command.key))
                continue
            if command.key in in_batch:
                self._check_same(position, command, in_batch[command.key].digest, digest)
                results.append(in_batch[command.key])
                continue
            try:
                stamp = Stamp(
                    recorded_at=recorded_at,
                    ledger_time=command.at(self._ledger_now(ledger_now)).astimezone(UTC),
                    command_key=command.key,
                    metadata=command.metadata,
                )
                outcome = handle(self.state, command, stamp)
            except InvalidCommand as error:
                raise BatchRejected(position=position, key=command.key, error=error) from None
            except (ArithmeticError, ValueError) as error:  # a time or amount out of any range, like year 9999 + 1
                refused = OutOfRange(reason=str(error))
                raise BatchRejected(position=position, key=command.key, error=refused) from None
            self.state.evolve_all(outcome.events)
            entry = _Decided(position, command, digest, outcome)
            decided.append(entry)
            in_batch[command.key] = entry
            results.append(entry)

    def _append(self, session: WriteSession, decided: list[_Decided]) -> tuple[dict[str, CommandResult], AppendedBatch]:
        events = [event for entry in decided for event in entry.outcome.events]
        appended = session.append([self.mapper.to_stored_event(event) for event in events])
        batch = AppendedBatch(self.state.position, events, appended)
        first_results: dict[str, CommandResult] = {}
        start = 0
        for entry in decided:
            end = start + len(entry.outcome.events)
            first_results[entry.command.key] = _first_result(entry, tuple(appended[start:end]))
            start = end
        session.remember_commands(
            [(entry.command.key, entry.digest, first_results[entry.command.key].stored()) for entry in decided]
        )
        if appended:
            self.state.advance_to(appended[-1])
        return first_results, batch

    def _ledger_now(self, clock_now: datetime) -> datetime:
        """The sandbox's test clock where it is frozen; else the ledger clock,
        never behind the furthest the test clock has read."""
        frozen = self.state.sandbox_clock
        if frozen is not None:
            return frozen
        furthest = self.state.clock_high_water
        return furthest if furthest is not None and furthest > clock_now else clock_now

    @staticmethod
    def _result_for(position: int, item: CommandResult | _Decided, first: dict[str, CommandResult]) -> CommandResult:
        if isinstance(item, CommandResult):
            return item
        result = first[item.command.key]
        if item.position == position:
            return result
        return replace(result, position=position, repeated=True)

    @staticmethod
    def _check_same(position: int, command: BaseCommand, first_digest: str, digest: str) -> None:
        if first_digest != digest:
            error = IdempotencyConflict(key=command.key, first_digest=first_digest[:12], digest=digest[:12])
            raise BatchRejected(position=position, key=command.key, error=error)

    # Reading.

    def catch_up(self) -> None:
        """Applies every event committed since the state was last brought up to date."""
        self._catch_up(self.backend.notifications_after)

    def _catch_up(self, read: Callable[[int, int], Sequence[LogEntry]]) -> None:
        """Plain transactions are decoded to their postings alone (four times
        cheaper than whole events: a writer with no snapshot replays the
        whole log into the decision state)."""
        follow(read, self.state.position, self._evolve_page, CATCH_UP_PAGE_SIZE)

    def _evolve_page(self, entries: Sequence[LogEntry]) -> None:
        for entry in entries:
            if entry.topic in STATE_PLAIN_TOPICS:
                fields = read_plain_transaction(self.mapper.open_state(entry.state))
                self.state.apply_postings(
                    [(posting["account"], posting["asset"], posting["amount_minor"]) for posting in fields["postings"]]
                )
                self.state.saw_time(fields["ledger_time"])
            else:
                self.state.evolve(cast(LedgerEvent, self.mapper.to_domain_event(entry)))
        self.state.advance_to(entries[-1].id)

    def balances(self, *, include_system: bool = False) -> list[Balance]:
        """From the balances view, in a read-only transaction."""
        return self.read_model.balances(include_system=include_system)


class _StoredHistory:
    """The decision state's look-up of what a command recorded (a reversal's
    original): the batch's own commands first, then the store's record of
    the key and the events at its positions, in the write transaction."""

    def __init__(self, session: WriteSession, mapper: Any, in_batch: dict[str, _Decided]) -> None:
        self._session = session
        self._mapper = mapper
        self._in_batch = in_batch

    def events_of(self, command_key: str) -> Sequence[LedgerEvent] | None:
        entry = self._in_batch.get(command_key)
        if entry is not None:
            return entry.outcome.events
        known = self._session.known_commands([command_key])
        if command_key not in known:
            return None
        ids = json.loads(known[command_key][1])["notification_ids"]
        entries = self._session.notifications_at(ids) if ids else ()
        return [cast(LedgerEvent, self._mapper.to_domain_event(entry)) for entry in entries]


def _log_committed(commands: int, ids: Sequence[int]) -> None:
    positions = {"first_position": ids[0], "last_position": ids[-1]} if ids else {}
    _log.debug(
        "batch committed: %d commands, %d events",
        commands,
        len(ids),
        extra={"commands": commands, "events": len(ids), **positions},
    )


def _first_result(entry: _Decided, notification_ids: tuple[int, ...]) -> CommandResult:
    command_type = entry.command.command_type
    violation = entry.outcome.violation
    return CommandResult(
        position=entry.position,
        key=entry.command.key,
        command_type=command_type,
        status="rejected" if violation else "accepted",
        stream=str(
            entry.outcome.events[0].originator_id if entry.outcome.events else command_stream(entry.command.key)
        ),
        notification_ids=notification_ids,
        rule=violation.rule if violation else None,
        reason=violation.message if violation else None,
        details={name: str(value) for name, value in violation.context.items()} if violation else None,
        violation=violation,
    )
