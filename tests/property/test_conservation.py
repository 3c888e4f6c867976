"""Random sequences of commands keep the books straight, on a real SQLite store.

After every batch: value is conserved per asset, no client balance is
negative, every token's supply equals its holdings and stays under its cap,
and a refused batch or a rejected command leaves the balances unchanged (a
refused batch leaves the log unchanged too). At the end, a ledger reopened
from the store agrees with the live one.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.commands import BaseCommand, Deposit, IssueTokens, RedeemTokens, ReverseTransaction, Transfer, Withdraw
from domain.errors import BatchRejected
from domain.money import AssetKind
from domain.state import LedgerState
from ledger import Ledger
from tests.world import funding_commands, setup_commands

# Mostly commands that can succeed, with a few that break a rule (KYC pending,
# an unlicensed or foreign issuer) or are malformed (a client nobody knows,
# a fiat asset minted, an amount with too many decimals): repetition weights them.
CLIENTS = ["alesia", "nord"] * 6 + ["pending", "ghost"]
TOKEN_ISSUERS = {"SVT": ["svislach"] * 6 + ["berezina", "grey-mint"], "BRZ": ["berezina"] * 6 + ["svislach"]}
TOKENS = ["SVT", "BRZ"] * 8 + ["BYN"]
HELD = ["BYN", "USDT"] * 8 + ["SVT"]
ANY_ASSET = ["BYN", "USDT", "SVT", "BRZ"]
amounts = st.one_of(
    st.integers(min_value=1, max_value=30_000).map(lambda n: f"{n // 100}.{n % 100:02d}"),
    st.integers(min_value=1, max_value=300).map(str),
    st.integers(min_value=1, max_value=300).map(str),
    st.integers(min_value=1, max_value=300).map(str),
    # Plain decimals the ledger refuses (zero, beyond the asset's scale); text that is no
    # plain decimal ("-3", "abc") is refused by the command's own fields (tests/unit/test_input.py).
    st.sampled_from(["0", "0.001", "1.0000001"]),
)


@st.composite
def commands(draw: st.DrawFn) -> BaseCommand:
    key = f"k{draw(st.integers(min_value=0, max_value=3000))}"
    kind = draw(st.sampled_from(["issue", "redeem", "deposit", "withdraw", "transfer"]))
    client, other = draw(st.sampled_from(CLIENTS)), draw(st.sampled_from(CLIENTS))
    amount = draw(amounts)
    if kind in ("issue", "redeem"):
        token = draw(st.sampled_from(TOKENS))
        issuer = draw(st.sampled_from(TOKEN_ISSUERS.get(token, ["svislach"])))
        command = IssueTokens if kind == "issue" else RedeemTokens
        return command(key=key, issuer_id=issuer, asset=token, client_id=client, amount=amount)
    asset = draw(st.sampled_from(HELD if kind != "transfer" else ANY_ASSET))
    if kind == "deposit":
        return Deposit(key=key, client_id=client, asset=asset, amount=amount, reference="in")
    if kind == "withdraw":
        return Withdraw(key=key, client_id=client, asset=asset, amount=amount, reference="out")
    return Transfer(key=key, source_client_id=client, target_client_id=other, asset=asset, amount=amount)


@st.composite
def steps(draw: st.DrawFn) -> list[BaseCommand]:
    """A command alone, or followed by a reversal: of itself (its original in
    the same batch) or of the world's funding (its original in the store)."""
    command = draw(commands())
    choice = draw(st.sampled_from(["alone"] * 4 + ["reverse_it", "reverse_funding"]))
    if choice == "alone":
        return [command]
    original = command.key if choice == "reverse_it" else draw(st.sampled_from(["fund-byn", "fund-svt"]))
    reversal = ReverseTransaction(key=f"rev-{command.key}", original_key=original, reason="fix", reference="T-1")
    return [command, reversal]


batches_of_steps = st.lists(steps(), min_size=1, max_size=3).map(lambda runs: [c for run in runs for c in run])


def assert_books_balance(state: LedgerState) -> None:
    totals: dict[str, int] = defaultdict(int)
    for (account, asset), amount in state.balances.items():
        totals[asset] += amount
        if account.startswith("client:"):
            assert amount >= 0, (account, asset, amount)
    assert all(total == 0 for total in totals.values()), totals
    for asset in state.assets.values():
        if asset.kind == AssetKind.TOKEN:
            assert state.supply(asset.code) == state.holdings(asset.code)
            assert asset.supply_cap_minor is not None
            assert 0 <= state.supply(asset.code) <= asset.supply_cap_minor


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(batches_of_steps, min_size=1, max_size=12))
def test_random_command_sequences_keep_value_conserved_and_rejections_harmless(
    batches: list[list[BaseCommand]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'ledger.sqlite'}"
        with Ledger.open(home=Path(folder), database_url=url, create=True) as ledger:
            ledger.submit(setup_commands() + funding_commands())
            for batch in batches:
                length, balances = ledger.backend.max_notification_id(), dict(ledger.state.balances)
                try:
                    results = ledger.submit(batch)
                except BatchRejected:
                    event("batch refused")
                    assert ledger.backend.max_notification_id() == length
                    assert ledger.state.balances == balances
                    continue
                for result in results:
                    event(f"{result.command_type} {result.rule or result.status}")
                if all(not result.accepted or result.repeated for result in results):
                    assert ledger.state.balances == balances
                assert_books_balance(ledger.state)
            with Ledger.open(home=Path(folder), database_url=url, create=True) as reopened:
                assert reopened.state.balances == ledger.state.balances
                assert reopened.state.versions == ledger.state.versions
