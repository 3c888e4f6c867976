"""A rejection's details reach the supervisor whole.

The transactions view of a real store shows every field of each rule code's
case (tests/rejections.py), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger import Ledger, ManualClock
from tests.rejections import CASES
from tests.world import LEDGER_TIME, funding_commands, setup_commands, trading_commands


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_transactions_view_shows_the_rejection_of_each_rule_code_with_exactly_its_details(
    open_ledger: Callable[..., Ledger], code: str
) -> None:
    case = CASES[code]()
    ledger = open_ledger(ledger_clock=ManualClock(LEDGER_TIME))
    results = ledger.submit([*setup_commands(), *funding_commands(), *trading_commands(), *case.before])
    assert all(result.accepted for result in results), [result for result in results if not result.accepted]
    (result,) = ledger.submit([case.command])
    assert (result.accepted, result.rule) == (False, code)
    row = ledger.read_model.transaction("provoke")
    assert row is not None
    assert (row.status, row.rule, row.details) == ("rejected", code, case.details)
