"""Random histories with trades in tokens, with the bank and on venues, keep supply equal to holdings.

After every command of a random sequence (issuance, redemption, deposits,
withdrawals, transfers, the treasury's funding and trades of tokens and
crypto with the bank, between clients on a venue and with a venue's outside
counterparty): every asset sums to zero, no holding account (a client's, the
treasury, the fees) is negative, every token's supply equals what clients and
the bank hold and stays within its cap, nothing outside the books holds a
token, and a refused or rejected command leaves the balances as they were.
The domain alone, so that many histories run in little time.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.accounts import is_holding_account
from domain.commands import (
    BaseCommand,
    Deposit,
    ExecuteTrade,
    FundTreasury,
    IssueTokens,
    RedeemTokens,
    ReverseTransaction,
    Transfer,
    Withdraw,
)
from domain.errors import InvalidCommand
from domain.money import AssetKind
from domain.state import LedgerState
from tests.world import apply, trading_world

CLIENTS = ["alesia", "nord", "jan", "ivan"]
SIDES = [*CLIENTS, None, None]  # None: the bank (no venue) or the venue's outside counterparty
VENUES = ["minsk-htp", "minsk-htp", "offshore", None, None, None]  # offshore lists SVT too
ASSETS = ["BYN", "USDT", "SVT", "BRZ"]
TOKENS = {"SVT": "svislach", "BRZ": "berezina"}
# Mostly whole amounts (BRZ has no decimals), some with cents.
HISTORY_MAX = 40
REVERSED_WITHIN = 8
amounts = st.one_of(
    st.integers(min_value=1, max_value=60_000).map(lambda n: f"{n // 100}.{n % 100:02d}"),
    st.integers(min_value=1, max_value=600).map(str),
    st.integers(min_value=1, max_value=100).map(str),
)


@st.composite
def commands(draw: st.DrawFn) -> BaseCommand:
    key = f"k{draw(st.integers(min_value=0, max_value=10_000))}"
    kind = draw(
        st.sampled_from(
            ["trade"] * 6
            + ["issue", "issue", "redeem", "deposit", "withdraw", "transfer", "fund", "reverse", "reverse"]
        )
    )
    if kind == "reverse":
        # The history's commands are keyed by their place in it (see the test):
        # mostly an early one, so that most reversals find their original.
        original = f"k{draw(st.integers(min_value=0, max_value=REVERSED_WITHIN))}"
        return ReverseTransaction(key=key, original_key=original, reason="correction", reference="T-1")
    client, other = draw(st.sampled_from(CLIENTS)), draw(st.sampled_from(CLIENTS))
    amount = draw(amounts)
    if kind in ("issue", "redeem"):
        token = draw(st.sampled_from(sorted(TOKENS)))
        command = IssueTokens if kind == "issue" else RedeemTokens
        return command(key=key, issuer_id=TOKENS[token], asset=token, client_id=client, amount=amount)
    asset = draw(st.sampled_from(ASSETS))
    if kind == "deposit":
        return Deposit(key=key, client_id=client, asset=asset, amount=amount, reference="in")
    if kind == "withdraw":
        return Withdraw(key=key, client_id=client, asset=asset, amount=amount, reference="out")
    if kind == "transfer":
        return Transfer(key=key, source_client_id=client, target_client_id=other, asset=asset, amount=amount)
    if kind == "fund":
        return FundTreasury(key=key, asset=asset, amount=amount, reference="capital")
    base, quote = draw(st.sampled_from(["SVT", "BRZ", "USDT", "SVT"])), draw(st.sampled_from(["BYN", "BYN", "SVT"]))
    buyer, seller = draw(st.permutations(SIDES))[:2]
    return ExecuteTrade(
        key=key,
        venue_id=draw(st.sampled_from(VENUES)),
        buyer_client_id=buyer,
        seller_client_id=seller,
        base_asset=base,
        base_amount=amount,
        quote_asset=quote,
        quote_amount=draw(amounts),
        fee=draw(st.sampled_from(["0", "0", "0.50"])),
    )


def funded_world() -> LedgerState:
    """The trading world, with a funded treasury and every client holding money and tokens to trade."""
    state = trading_world()
    prelude: list[BaseCommand] = [
        FundTreasury(key="treasury-byn", asset="BYN", amount="10000", reference="capital"),
        FundTreasury(key="treasury-usdt", asset="USDT", amount="1000", reference="otc"),
        IssueTokens(key="svt-nord", issuer_id="svislach", asset="SVT", client_id="nord", amount="300"),
        IssueTokens(key="brz-jan", issuer_id="berezina", asset="BRZ", client_id="jan", amount="5000"),
        *(
            Deposit(key=f"byn-{client}", client_id=client, asset="BYN", amount="5000", reference="in")
            for client in CLIENTS
        ),
    ]
    for command in prelude:
        assert apply(state, command).violation is None, command
    return state


def assert_supply_is_held(state: LedgerState) -> None:
    totals: dict[str, int] = defaultdict(int)
    for (account, asset), amount in state.balances.items():
        totals[asset] += amount
        if is_holding_account(account):
            assert amount >= 0, (account, asset, amount)
    assert all(total == 0 for total in totals.values()), totals
    for asset in state.assets.values():
        if asset.kind != AssetKind.TOKEN:
            continue
        assert asset.supply_cap_minor is not None
        assert state.supply(asset.code) == state.holdings(asset.code), asset.code
        assert 0 <= state.supply(asset.code) <= asset.supply_cap_minor
        outside = {
            account: amount
            for (account, code), amount in state.balances.items()
            if code == asset.code and amount and not is_holding_account(account) and account != "system:issuance"
        }
        assert not outside, outside


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(commands(), min_size=1, max_size=HISTORY_MAX))
def test_any_history_of_trades_in_tokens_keeps_supply_equal_to_what_clients_and_the_bank_hold(
    history: list[BaseCommand],
) -> None:
    state = funded_world()
    assert_supply_is_held(state)
    for position, drawn in enumerate(history):
        command = drawn.model_copy(update={"key": f"k{position}"})  # a reversal names an earlier one by it
        before = dict(state.balances)
        try:
            outcome = apply(state, command)
        except InvalidCommand as refused:
            event(f"{command.type} refused {refused.code}")
            assert state.balances == before
            continue
        if outcome.violation is not None:
            event(f"{command.type} rejected {outcome.violation.rule}")
            assert state.balances == before
        elif isinstance(command, ExecuteTrade):
            counterparty = "between clients" if command.buyer_client_id and command.seller_client_id else "with "
            if counterparty == "with ":
                counterparty += "the bank" if command.venue_id is None else "an outside counterparty"
            event(f"trade of {command.base_asset} for {command.quote_asset} accepted, {counterparty}")
        else:
            event(f"{command.type} accepted")
        assert_supply_is_held(state)
