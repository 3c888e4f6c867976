"""The decision state undoes a whole batch exactly when asked to."""

from domain.commands import Deposit, Transfer
from tests.world import accept, built_world, reject


def test_rolling_back_a_batch_restores_every_balance_version_and_counter() -> None:
    state = built_world()
    balances, versions, counters = dict(state.balances), dict(state.versions), dict(state.counters)
    state.begin()
    accept(state, Deposit(key="d", client_id="nord", asset="BYN", amount="5", reference="r"))
    overdraft = Transfer(key="t", source_client_id="nord", target_client_id="alesia", asset="BYN", amount="9")
    reject(state, overdraft, "INSUFFICIENT_FUNDS")  # a rejection counts, and is rolled back too
    state.advance_to(state.position + 2)
    assert state.balances != balances
    state.rollback()
    assert (state.balances, state.versions, state.counters) == (balances, versions, counters)


def test_a_committed_batch_keeps_its_effects() -> None:
    state = built_world()
    state.begin()
    accept(state, Deposit(key="d", client_id="nord", asset="BYN", amount="5", reference="r"))
    state.commit()
    assert state.balance("client:nord", "BYN") == 500
    assert not state.in_batch
