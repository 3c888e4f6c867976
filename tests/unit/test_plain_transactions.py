"""One definition of the transactions a reader may apply by their postings alone, and both readers hold to it."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from domain.events import AML_OPERATIONS, PLAIN_TRANSACTIONS, LedgerTransaction, event_classes
from domain.state import LedgerState
from ledger.follow import STATE_PLAIN_TOPICS
from ledger.projections import _ROW_VIEW_HANDLERS


def test_the_decision_state_changes_nothing_but_balances_for_a_plain_transaction_but_aml_operations() -> None:
    state = LedgerState()
    assert all(state.evolves_by_postings_alone(cls) for cls in set(PLAIN_TRANSACTIONS) - set(AML_OPERATIONS))
    assert not any(state.evolves_by_postings_alone(cls) for cls in AML_OPERATIONS)


def test_every_transaction_the_state_could_apply_by_postings_alone_is_declared_plain() -> None:
    state = LedgerState()
    candidates = {cls for cls in event_classes(LedgerTransaction) if state.evolves_by_postings_alone(cls)}
    assert candidates == set(PLAIN_TRANSACTIONS) - set(AML_OPERATIONS)


def test_the_decision_state_catches_up_by_postings_alone_exactly_where_it_may() -> None:
    state = LedgerState()
    plain = {cls for cls in PLAIN_TRANSACTIONS if state.evolves_by_postings_alone(cls)}
    assert {get_topic(cls) for cls in plain} == STATE_PLAIN_TOPICS


def test_no_plain_transaction_has_a_row_view_of_its_own() -> None:
    assert not set(PLAIN_TRANSACTIONS) & set(_ROW_VIEW_HANDLERS)
