"""Checkpoints are signed by themselves every N events and every T seconds."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from domain.commands import Deposit
from ledger import ManualClock, Sandbox
from ledger.home import BankIdentity
from ledger.sandbox import DEFAULT_IDENTITY
from tests.world import LEDGER_TIME, funding_commands, setup_commands


def test_a_checkpoint_is_signed_every_n_events_and_every_t_seconds(tmp_path: Path) -> None:
    identity = BankIdentity(
        **{**DEFAULT_IDENTITY.model_dump(), "checkpoint_every_events": 5, "checkpoint_every_seconds": 600}
    )
    sandbox = Sandbox.at(tmp_path / "bank")
    sandbox.init(identity, allow_unencrypted_key=True)
    clock = ManualClock(LEDGER_TIME)
    with sandbox.open(clock=clock) as ledger:
        ledger.submit(setup_commands()[1:] + funding_commands())  # the first commit is checkpointed at once
        first = [c.size for c in ledger.audit.checkpoints()]
        for n in range(4):
            ledger.submit([Deposit(key=f"d{n}", client_id="nord", asset="BYN", amount="1", reference="r")])
        assert [c.size for c in ledger.audit.checkpoints()] == first
        ledger.submit([Deposit(key="d4", client_id="nord", asset="BYN", amount="1", reference="r")])
        by_count = [c.size for c in ledger.audit.checkpoints()]
        assert by_count == [*first, first[-1] + 5]
        ledger.submit([Deposit(key="d5", client_id="nord", asset="BYN", amount="1", reference="r")])
        assert [c.size for c in ledger.audit.checkpoints()] == by_count
        clock.advance(timedelta(seconds=600))
        ledger.submit([Deposit(key="d6", client_id="nord", asset="BYN", amount="1", reference="r")])
        assert [c.size for c in ledger.audit.checkpoints()] == [*by_count, by_count[-1] + 2]
