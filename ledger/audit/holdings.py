"""What each client holds at a leaf of the log, from the events alone (no database).

Both sides of a proof of liabilities use it: the bank, reading its store's
events up to a checkpoint, and the supervisor, reading a verified bundle's
`events.jsonl` up to the same checkpoint. The domain's own state is evolved
with each event, so the balances are those the ledger decided with.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from domain.accounts import client_of, is_client_account
from domain.events import LedgerEvent
from domain.state import LedgerState
from ledger.audit.merkle import CompactRange, leaf_hash
from ledger.progress import ProgressStart, no_progress
from ledger.replay import event_from_leaf  # checks that each event gives its very leaf back


@dataclass(frozen=True)
class ClientHoldings:
    scales: dict[str, int]  # every asset registered, by code
    balances: dict[str, dict[str, int]]  # asset code -> client id -> non-zero balance, in minor units


def client_holdings(events: Iterable[LedgerEvent]) -> ClientHoldings:
    state = LedgerState()
    state.evolve_all(events)
    balances: dict[str, dict[str, int]] = {}
    for (account, asset), balance in state.balances.items():
        if balance and is_client_account(account):
            balances.setdefault(asset, {})[client_of(account)] = balance
    return ClientHoldings({code: asset.scale for code, asset in state.assets.items()}, balances)


@dataclass(frozen=True)
class BundleAt:
    root: bytes  # the Merkle root of the bundle's first `size` leaves
    holdings: ClientHoldings


def bundle_at(directory: Path, size: int, progress: ProgressStart = no_progress) -> BundleAt:
    """The root and the clients' holdings of a verified, whole-log bundle after its first `size` leaves."""
    tree = CompactRange()

    def events(lines: Iterable[bytes], advance: Callable[[int], None]) -> Iterator[LedgerEvent]:
        for line in lines:
            leaf = line.rstrip(b"\n")
            tree.append(leaf_hash(leaf))
            yield event_from_leaf(leaf)
            if tree.size % PROGRESS_STEP == 0:
                advance(PROGRESS_STEP)

    with (directory / "events.jsonl").open("rb") as handle, progress("replaying leaves", total=size) as advance:
        holdings = client_holdings(events(itertools.islice(handle, size), advance))
    if tree.size != size:
        raise HoldingsError(f"the bundle has {tree.size} leaves, fewer than the {size} of the statement's checkpoint")
    return BundleAt(tree.root(), holdings)


PROGRESS_STEP = 10_000


class HoldingsError(ValueError):
    """The bundle cannot give the holdings asked for; the message says why."""
