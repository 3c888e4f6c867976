"""Group commit: concurrent requests' commands share database transactions, each request its own results.

One writer thread owns the `Ledger`. Requests queue their (already
validated) commands; the thread takes every request that is waiting, up to
`max_commands` in all or until `max_wait` has passed since the first, and
submits them as one batch, in the order they arrived. The decision state is
caught up inside that transaction, so no decision is made on stale state,
whatever other writers (another server on the same PostgreSQL schema) did.

A batch that is refused names the position of the command that made it
fail. Only the request that owns that command is answered with the refusal;
the others are submitted again without it, so one request's invalid command
never fails another's (it costs them one retry). A failure of the store
itself fails every request of the batch: nothing of it was written.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from domain.errors import BatchRejected

if TYPE_CHECKING:
    from domain.commands import BaseCommand
    from ledger.service import CommandResult, Ledger

T = TypeVar("T")
MAX_COMMANDS_PER_TRANSACTION = 2000
MAX_WAIT_SECONDS = 0.0  # no waiting: what queued while the last transaction ran is the next batch


@dataclass(eq=False)
class _Request:
    """Commands to commit, or (`work`) something to run between batches."""

    commands: Sequence[BaseCommand]
    future: Future[Any] = field(default_factory=Future)
    work: Callable[[Ledger], object] | None = None
    reopen: bool = False


class CommitterClosed(Exception):
    """The service is shutting down and takes no more commands."""


@dataclass(frozen=True)
class CommitStats:
    transactions: int
    commands: int
    retries: int


class GroupCommitter:
    """`submit` from any thread; the returned future holds the request's results
    (or its `BatchRejected`, with the position inside the request)."""

    def __init__(
        self,
        open_ledger: Callable[[], Ledger],
        *,
        max_commands: int = MAX_COMMANDS_PER_TRANSACTION,
        max_wait: float = MAX_WAIT_SECONDS,
        coalesce: bool = True,
    ) -> None:
        self._open_ledger = open_ledger
        self.max_commands = max_commands
        self.max_wait = max_wait
        self.coalesce = coalesce
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._closing = threading.Event()
        self._opened: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._held: _Request | None = None
        self._transactions = self._commands = self._retries = 0
        self.ledger: Ledger | None = None

    # The caller's side.

    def start(self) -> None:
        """Starts the writer thread and waits until its ledger is open (raising what opening raised)."""
        self._thread.start()
        self._opened.result()

    def submit(self, commands: Sequence[BaseCommand]) -> Future[list[CommandResult]]:
        assert commands, "a request holds at least one command"
        if self._closing.is_set():
            raise CommitterClosed("the service is shutting down")
        request = _Request(commands)
        self._queue.put(request)
        return request.future

    def close(self) -> None:
        """Takes no more commands, commits what was queued, and closes the ledger."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def stats(self) -> CommitStats:
        return CommitStats(self._transactions, self._commands, self._retries)

    def call(self, work: Callable[[Ledger], T], *, reopen: bool = False) -> Future[T]:
        """Runs `work` on the writer thread, between batches (for what must not
        race the write path). With `reopen`, the ledger is closed while `work`
        runs and opened again after it (a sandbox reset replaces the store)."""
        if self._closing.is_set():
            raise CommitterClosed("the service is shutting down")
        request = _Request((), work=work, reopen=reopen)
        self._queue.put(request)
        return request.future

    # The writer thread.

    def _run(self) -> None:
        try:
            self.ledger = self._open_ledger()
        except BaseException as error:  # reported to `start`'s caller
            self._opened.set_exception(error)
            return
        self._opened.set_result(None)
        try:
            while True:
                group, more = self._next_group()
                if group:
                    self._commit(group)
                if not more:
                    break
        finally:
            self.ledger.close()

    def _next_group(self) -> tuple[list[_Request], bool]:
        """The requests of the next transaction, and whether to go on after it."""
        first, self._held = self._held or self._queue.get(), None
        if first is None:
            return self._drain(), False
        if first.work is not None:
            self._run_call(first)
            return [], True
        group, size = [first], len(first.commands)
        if not self.coalesce:
            return group, True
        deadline = time.monotonic() + self.max_wait
        while size < self.max_commands:
            try:
                timeout = deadline - time.monotonic()
                following = self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if following is None:
                return group + self._drain(), False
            if following.work is not None or size + len(following.commands) > self.max_commands:
                self._held = following  # the next group's first (or a call, run between groups)
                break
            group.append(following)
            size += len(following.commands)
        return group, True

    def _drain(self) -> list[_Request]:
        """At shutdown: what was queued before it, committed; calls refused."""
        left: list[_Request] = []
        while True:
            try:
                request = self._queue.get_nowait()
            except queue.Empty:
                return left
            if request is None:
                continue
            if request.work is None:
                left.append(request)
            else:
                _settle(request.future, error=CommitterClosed("the service is shutting down"))

    def _run_call(self, request: _Request) -> None:
        assert self.ledger is not None
        assert request.work is not None
        try:
            if request.reopen:
                self.ledger.close()
            try:
                result = request.work(self.ledger)
            finally:
                if request.reopen:
                    self.ledger = self._open_ledger()
        except Exception as error:  # the caller's to report
            _settle(request.future, error=error)
        else:
            _settle(request.future, result=result)

    def _commit(self, group: list[_Request]) -> None:
        """Commits the group's commands in one transaction. A refused command
        answers its own request; the requests before it, which were decided
        cleanly, commit in one transaction more, and the ones after it are
        tried again: each refusal costs the others one retry, not a pass."""
        assert self.ledger is not None
        while group:
            commands = [command for request in group for command in request.commands]
            try:
                results = self.ledger.submit(commands)
            except BatchRejected as rejected:
                index = self._refuse_owner(group, rejected)
                self._retries += 1
                if index:
                    self._commit(group[:index])
                group = group[index + 1 :]
                continue
            except Exception as error:  # the store failed: nothing of the batch was written
                for request in group:
                    _settle(request.future, error=error)
                return
            self._transactions += 1
            self._commands += len(commands)
            self._answer(group, results)
            return

    @staticmethod
    def _refuse_owner(group: list[_Request], rejected: BatchRejected) -> int:
        """Answers the request whose command made the batch fail; returns its index."""
        start = 0
        for index, request in enumerate(group):
            if rejected.position < start + len(request.commands):
                own = BatchRejected(position=rejected.position - start, key=rejected.key, error=rejected.cause)
                _settle(request.future, error=own)
                return index
            start += len(request.commands)
        raise AssertionError(f"position {rejected.position} is in no request of the batch")

    @staticmethod
    def _answer(group: list[_Request], results: list[CommandResult]) -> None:
        start = 0
        for request in group:
            own = results[start : start + len(request.commands)]
            _settle(request.future, result=[replace(result, position=index) for index, result in enumerate(own)])
            start += len(request.commands)


def _settle(future: Future[Any], *, result: Any = None, error: BaseException | None = None) -> None:
    """Answers a request's future, unless its caller gave up on it (a cancelled
    request: its commands may have committed, and nobody is told; the writer
    goes on)."""
    if not future.set_running_or_notify_cancel():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
