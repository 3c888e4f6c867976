"""The batch write path on a real SQLite file and a real PostgreSQL schema."""

from __future__ import annotations

import gc
from collections.abc import Callable
from uuid import UUID

import pytest

from domain.commands import Deposit, IssueTokens, Transfer, Withdraw
from domain.errors import BatchRejected, IdempotencyConflict, InsufficientFunds, SupplyCapExceeded
from domain.events import CommandRejected
from ledger import Ledger
from tests.world import funding_commands, setup_commands

OpenLedger = Callable[..., Ledger]


def prepared(open_ledger: OpenLedger) -> Ledger:
    ledger = open_ledger()
    ledger.submit(setup_commands() + funding_commands())
    return ledger


def log_length(ledger: Ledger) -> int:
    return ledger.backend.max_notification_id()


def test_a_batch_commits_every_command_in_order(open_ledger: OpenLedger) -> None:
    ledger = open_ledger()
    commands = setup_commands() + funding_commands()
    results = ledger.submit(commands)
    assert [result.position for result in results] == list(range(len(commands)))
    assert all(result.accepted for result in results)
    ids = [i for result in results for i in result.notification_ids]
    assert ids == list(range(1, len(commands) + 1))
    assert log_length(ledger) == len(commands)


def test_each_result_names_the_positions_its_events_were_stored_at(open_ledger: OpenLedger) -> None:
    ledger = prepared(open_ledger)
    results = ledger.submit(
        [
            Deposit(key=f"pos-{n}", client_id="nord", asset="BYN", amount=f"{n}.00", reference=f"r{n}")
            for n in range(1, 40)
        ]
    )
    for result in results:
        (position,) = result.notification_ids
        assert ledger.backend.notification_id_of(UUID(result.stream), 1) == position


def test_an_invalid_command_refuses_the_whole_batch_and_names_its_position(open_ledger: OpenLedger) -> None:
    ledger = prepared(open_ledger)
    before, balances = log_length(ledger), ledger.balances()
    batch = [
        Deposit(key="ok", client_id="nord", asset="BYN", amount="1.00", reference="r1"),
        Deposit(key="bad", client_id="nord", asset="BYN", amount="1.001", reference="r2"),
    ]
    with pytest.raises(BatchRejected, match=r"command 1 \('bad'\).*2 decimal places") as refused:
        ledger.submit(batch)
    assert refused.value.context["position"] == 1
    assert log_length(ledger) == before
    assert ledger.balances() == balances
    assert open_ledger().balances() == balances


def test_a_repeated_key_with_the_same_payload_returns_the_first_result_and_writes_nothing(
    open_ledger: OpenLedger,
) -> None:
    ledger = prepared(open_ledger)
    command = Transfer(key="t-1", source_client_id="alesia", target_client_id="nord", asset="BYN", amount="5")
    (first,) = ledger.submit([command])
    length, balances = log_length(ledger), ledger.balances()
    (again,) = open_ledger().submit([command])
    assert again.repeated
    assert (again.stream, again.notification_ids, again.status) == (
        first.stream,
        first.notification_ids,
        "accepted",
    )
    assert log_length(ledger) == length
    assert ledger.balances() == balances


def test_a_repeated_key_within_one_batch_is_applied_once(open_ledger: OpenLedger) -> None:
    ledger = prepared(open_ledger)
    command = Withdraw(key="w-1", client_id="alesia", asset="BYN", amount="60", reference="out")
    first, second = ledger.submit([command, command])
    assert first.accepted
    assert second.repeated
    assert second.notification_ids == first.notification_ids
    assert ledger.state.balance("client:alesia", "BYN") == 4000


def test_a_repeated_key_with_a_different_payload_is_refused(open_ledger: OpenLedger) -> None:
    ledger = prepared(open_ledger)
    ledger.submit([Deposit(key="dep", client_id="nord", asset="BYN", amount="1", reference="r")])
    length = log_length(ledger)
    with pytest.raises(BatchRejected) as refused:
        ledger.submit([Deposit(key="dep", client_id="nord", asset="BYN", amount="2", reference="r")])
    assert isinstance(refused.value.cause, IdempotencyConflict)
    assert log_length(ledger) == length


def test_a_rule_violation_is_recorded_for_the_supervisor_and_raised(open_ledger: OpenLedger) -> None:
    ledger = prepared(open_ledger)
    balances = ledger.balances()
    command = IssueTokens(key="over", issuer_id="svislach", asset="SVT", client_id="nord", amount="700.01")
    with pytest.raises(SupplyCapExceeded, match="exceed the supply cap"):
        ledger.execute(command)
    assert ledger.balances() == balances
    (notification,) = ledger.backend.notifications_after(log_length(ledger) - 1)
    event = ledger.mapper.to_domain_event(notification)
    assert isinstance(event, CommandRejected)
    assert (event.rule, event.command_key) == ("SUPPLY_CAP_EXCEEDED", "over")
    # A retry of the same command is refused the same way, and records nothing more.
    with pytest.raises(SupplyCapExceeded):
        open_ledger().execute(command)
    assert ledger.backend.max_notification_id() == notification.id


def test_a_rule_violation_inside_a_batch_does_not_stop_the_others(open_ledger: OpenLedger) -> None:
    ledger = prepared(open_ledger)
    results = ledger.submit(
        [
            Withdraw(key="too-much", client_id="alesia", asset="BYN", amount="500", reference="o"),
            Withdraw(key="fine", client_id="alesia", asset="BYN", amount="50", reference="o"),
        ]
    )
    assert [(r.status, r.rule) for r in results] == [("rejected", "INSUFFICIENT_FUNDS"), ("accepted", None)]
    assert isinstance(results[0].violation, InsufficientFunds)
    assert ledger.state.balance("client:alesia", "BYN") == 5000


def test_reopening_rebuilds_the_same_state_from_the_log(open_ledger: OpenLedger) -> None:
    ledger = prepared(open_ledger)
    ledger.submit([Withdraw(key="x", client_id="nord", asset="BYN", amount="1", reference="o")])
    again = open_ledger()
    assert again.state.balances == ledger.state.balances
    assert again.state.versions == ledger.state.versions
    assert again.state.rejections == ledger.state.rejections == 1


def test_a_decision_sees_every_event_another_writer_committed_before_it(open_ledger: OpenLedger) -> None:
    first = prepared(open_ledger)
    second = open_ledger()
    first.submit([Deposit(key="more", client_id="nord", asset="BYN", amount="10", reference="r")])
    # The second ledger has not read that deposit yet; its write path must.
    (spent,) = second.submit([Withdraw(key="spend", client_id="nord", asset="BYN", amount="10", reference="o")])
    assert spent.accepted
    (late,) = first.submit([Withdraw(key="late", client_id="nord", asset="BYN", amount="0.01", reference="o")])
    assert late.rule == "INSUFFICIENT_FUNDS"


def test_a_failure_before_commit_writes_nothing_and_undoes_the_decision_state(
    open_ledger: OpenLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = prepared(open_ledger)
    length, balances, versions = log_length(ledger), dict(ledger.state.balances), dict(ledger.state.versions)
    session_class = type(ledger.backend).write

    def failing_write(self: object) -> object:
        context = session_class(self)  # type: ignore[arg-type]

        class Failing:
            def __enter__(self) -> object:
                session = context.__enter__()

                def remember(_: object) -> None:
                    raise OSError("disk full (injected)")

                session.remember_commands = remember
                return session

            def __exit__(self, *exc: object) -> object:
                return context.__exit__(*exc)

        return Failing()

    monkeypatch.setattr(type(ledger.backend), "write", failing_write)
    with pytest.raises(OSError, match="injected"):
        ledger.submit([Deposit(key="lost", client_id="nord", asset="BYN", amount="3", reference="r")])
    monkeypatch.undo()
    assert log_length(ledger) == length
    assert ledger.state.balances == balances
    assert ledger.state.versions == versions
    (retry,) = ledger.submit([Deposit(key="lost", client_id="nord", asset="BYN", amount="3", reference="r")])
    assert retry.accepted
    assert not retry.repeated


@pytest.mark.parametrize("collector_on", [True, False])
def test_a_batch_leaves_the_garbage_collector_as_it_found_it(open_ledger: OpenLedger, collector_on: bool) -> None:
    ledger = prepared(open_ledger)
    was = gc.isenabled()
    (gc.enable if collector_on else gc.disable)()
    try:
        ledger.submit([Deposit(key="gc-1", client_id="nord", asset="BYN", amount="1.00", reference="r")])
        assert gc.isenabled() is collector_on
        with pytest.raises(BatchRejected):
            ledger.submit([Deposit(key="gc-2", client_id="nord", asset="BYN", amount="1.001", reference="r")])
        assert gc.isenabled() is collector_on
    finally:
        (gc.enable if was else gc.disable)()


def test_a_repeat_with_the_same_metadata_is_a_repeat_and_with_other_metadata_a_conflict(
    open_ledger: OpenLedger,
) -> None:
    ledger = prepared(open_ledger)
    command = Deposit(key="dep", client_id="nord", asset="BYN", amount="1", reference="r", metadata={"order": "A-1"})
    ledger.submit([command])
    length = log_length(ledger)
    (again,) = open_ledger().submit([command.model_copy()])
    assert again.repeated
    for other in ({"order": "A-2"}, {}):
        with pytest.raises(BatchRejected) as refused:
            ledger.submit([command.model_copy(update={"metadata": other})])
        assert isinstance(refused.value.cause, IdempotencyConflict)
    assert log_length(ledger) == length
