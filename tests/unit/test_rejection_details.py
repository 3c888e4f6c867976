"""The details of every rule code's rejection, field by field, as the recorded rejection event holds them.

The supervisor reads a rejection's `details` (the transactions view, the
extract's rejections): they are asserted whole, every field and value, for a
case of each rule code (tests/rejections.py), and a rule code without a case
fails here.
"""

from __future__ import annotations

import pytest

from domain.errors import RULE_VIOLATIONS
from domain.events import CommandRejected
from tests.rejections import CASES
from tests.world import apply, trading_world


def test_every_rule_code_has_a_details_case() -> None:
    assert sorted(CASES) == sorted(RULE_VIOLATIONS)


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_rejection_of_each_rule_code_records_exactly_its_details(code: str) -> None:
    case = CASES[code]()
    state = trading_world()
    for command in case.before:
        assert apply(state, command).violation is None, command
    balances = dict(state.balances)
    outcome = apply(state, case.command)
    assert outcome.violation is not None, case.command
    assert type(outcome.violation) is RULE_VIOLATIONS[code]
    (event,) = outcome.events
    assert isinstance(event, CommandRejected)
    assert (event.rule, event.command_key, event.command_type) == (code, "provoke", case.command.command_type)
    assert event.details == case.details
    assert event.reason == RULE_VIOLATIONS[code].template.format(**case.details)
    assert state.balances == balances
