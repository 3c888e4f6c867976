"""A reset starts a sandbox over on either backend; the bank is established again."""

from __future__ import annotations

from pathlib import Path

from ledger import Sandbox
from tests.world import funding_commands, setup_commands


def test_a_reset_empties_the_store_and_establishes_the_bank_again(tmp_path: Path, database_url: str) -> None:
    sandbox = Sandbox.at(tmp_path / "home", database_url)
    sandbox.init(allow_unencrypted_key=True)
    with sandbox.open() as ledger:
        ledger.submit(setup_commands()[1:] + funding_commands())
        assert ledger.balances()
    sandbox.reset()
    with sandbox.open() as ledger:
        assert ledger.balances() == []
        assert ledger.state.bank is not None
        assert ledger.backend.max_notification_id() == 1
        ledger.submit(setup_commands()[1:] + funding_commands())  # the same keys are new again
        assert ledger.balances()
