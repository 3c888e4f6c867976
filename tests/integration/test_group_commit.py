"""Group commit: requests queued together share a transaction, and each gets its own results or refusal."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest

from domain.commands import BaseCommand, Deposit
from domain.errors import BatchRejected
from ledger import Ledger
from ledger.api.commit import CommitterClosed, GroupCommitter
from ledger.service import CommandResult
from tests.world import funding_commands, setup_commands


def deposit(key: str, asset: str = "BYN") -> BaseCommand:
    return Deposit(key=key, client_id="alesia", asset=asset, amount="1.00", reference=key)


@pytest.fixture
def committer(open_ledger: Callable[..., Ledger]) -> Iterator[GroupCommitter]:
    ledger = open_ledger()
    ledger.submit([*setup_commands(), *funding_commands()])
    committer = GroupCommitter(lambda: ledger)
    committer.start()
    yield committer
    committer.close()


def paused(committer: GroupCommitter) -> threading.Event:
    """Holds the writer between batches until the returned event is set, so that requests queue up."""
    release = threading.Event()
    committer.call(lambda _ledger: release.wait(10))
    return release


def test_requests_queued_together_share_one_transaction_each_with_its_own_positions(committer: GroupCommitter) -> None:
    release = paused(committer)
    futures = [committer.submit([deposit(f"a{n}"), deposit(f"b{n}")]) for n in range(5)]
    before = committer.stats().transactions
    release.set()
    results = [future.result(10) for future in futures]
    assert [[result.position for result in own] for own in results] == [[0, 1]] * 5
    assert all(result.accepted for own in results for result in own)
    assert committer.stats().transactions == before + 1


def test_an_invalid_command_fails_only_its_own_request_and_the_others_commit(committer: GroupCommitter) -> None:
    release = paused(committer)
    good_before = committer.submit([deposit("g1")])
    bad = committer.submit([deposit("x1"), deposit("x2", asset="EUR")])
    good_after = committer.submit([deposit("g2")])
    release.set()
    with pytest.raises(BatchRejected) as refused:
        bad.result(10)
    assert refused.value.position == 1
    assert "unknown asset 'EUR'" in str(refused.value)
    assert good_before.result(10)[0].accepted
    assert good_after.result(10)[0].accepted
    assert committer.stats().retries >= 1
    assert committer.ledger is not None
    balances = {b.account: b.amount for b in committer.ledger.balances() if b.asset == "BYN"}
    assert balances["client:alesia"] == "102.00"  # x1 was not written with its request


def test_a_repeat_in_another_request_of_the_same_transaction_gets_the_first_result(committer: GroupCommitter) -> None:
    release = paused(committer)
    first, second = committer.submit([deposit("same")]), committer.submit([deposit("same")])
    release.set()
    one: list[CommandResult] = first.result(10)
    two: list[CommandResult] = second.result(10)
    assert not one[0].repeated
    assert two[0].repeated
    assert two[0].notification_ids == one[0].notification_ids


def test_closing_commits_what_was_queued_and_refuses_what_comes_after(committer: GroupCommitter) -> None:
    release = paused(committer)
    queued: Future[list[CommandResult]] = committer.submit([deposit("late")])
    closing = threading.Thread(target=committer.close)
    closing.start()
    release.set()
    closing.join(10)
    assert queued.result(10)[0].accepted
    with pytest.raises(CommitterClosed):
        committer.submit([deposit("after")])


def test_a_request_its_caller_gave_up_on_never_stops_the_writer(committer: GroupCommitter) -> None:
    release = paused(committer)
    abandoned = committer.submit([deposit("abandoned")])
    assert abandoned.cancel()
    release.set()
    assert committer.submit([deposit("next")]).result(10)[0].accepted


def test_each_refused_request_costs_the_others_one_retry_not_a_pass(committer: GroupCommitter) -> None:
    release = paused(committer)
    futures = [committer.submit([deposit(f"v{n}", asset="EUR" if n % 2 else "BYN")]) for n in range(40)]
    before = committer.stats()
    release.set()
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result(10)[0].accepted)
        except BatchRejected:
            outcomes.append(False)
    assert outcomes == [n % 2 == 0 for n in range(40)]
    after = committer.stats()
    assert after.retries - before.retries == 20
    assert after.transactions - before.transactions <= 21


def test_a_time_out_of_any_range_refuses_its_own_request_only(committer: GroupCommitter) -> None:
    release = paused(committer)
    far = Deposit.model_validate({**deposit("far").model_dump(), "ledger_time": "9999-12-31T23:00:00-05:00"})
    bad, good = committer.submit([far]), committer.submit([deposit("near")])
    release.set()
    with pytest.raises(BatchRejected, match="out of range"):
        bad.result(10)
    assert good.result(10)[0].accepted
