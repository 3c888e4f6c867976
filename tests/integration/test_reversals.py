"""Reversals on a real store: the write path finds the original in the log, in the batch, or after a reopen."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.commands import Deposit, ReverseTransaction
from domain.errors import BatchRejected
from ledger import Ledger
from tests.world import funding_commands, setup_commands

OpenLedger = Callable[..., Ledger]


def reverse(original: str, key: str) -> ReverseTransaction:
    return ReverseTransaction(key=key, original_key=original, reason="booked twice", reference="TICKET-1")


def test_a_reversal_finds_its_original_in_an_earlier_batch_after_a_reopen(open_ledger: OpenLedger) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands() + funding_commands())
    ledger.close()
    reopened = open_ledger()
    (result,) = reopened.submit([reverse("fund-byn", "undo-1")])
    assert result.accepted, result
    assert reopened.state.balance("client:alesia", "BYN") == 0
    (again,) = reopened.submit([reverse("fund-byn", "undo-2")])
    assert (again.status, again.rule) == ("rejected", "ALREADY_REVERSED")
    row = reopened.read_model.transaction("fund-byn")
    assert row is not None
    assert row.reversed_by == "undo-1"


def test_a_reversal_finds_its_original_in_its_own_batch(open_ledger: OpenLedger) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands())
    deposit = Deposit(key="dep", client_id="alesia", asset="BYN", amount="5.00", reference="in")
    results = ledger.submit([deposit, reverse("dep", "undo")])
    assert [result.status for result in results] == ["accepted", "accepted"]
    assert ledger.state.balance("client:alesia", "BYN") == 0


def test_a_reversal_of_an_unknown_key_writes_nothing(open_ledger: OpenLedger) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands())
    length = ledger.backend.max_notification_id()
    with pytest.raises(BatchRejected) as refused:
        ledger.submit([reverse("nothing-here", "undo")])
    assert refused.value.cause.code == "UNKNOWN_TRANSACTION"
    assert ledger.backend.max_notification_id() == length
