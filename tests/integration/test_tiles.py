"""The stored tree as tiles: the same hashes as the leaves give, full tiles stored once, any proof from a few."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from domain.commands import Deposit
from ledger import Ledger, ManualClock, Sandbox
from ledger.audit.merkle import inclusion_proof, range_hasher
from ledger.audit.tiles import TILE_WIDTH, TiledHashes, TileName, store_full_tiles
from tests.world import LEDGER_TIME, funding_commands, setup_commands

LEAVES_AT_LEAST = 2 * TILE_WIDTH + 90  # two full level-0 tiles, a partial one, a partial level-1 tile


def grown(home: Path, database_url: str | None = None) -> Sandbox:
    sandbox = Sandbox.at(home, database_url)
    sandbox.init(allow_unencrypted_key=True, ledger_clock=ManualClock(LEDGER_TIME))
    with sandbox.open(auto_checkpoint=False) as ledger:
        ledger.submit(setup_commands()[1:] + funding_commands())
        deposits = [
            Deposit(key=f"d{n}", client_id="alesia", asset="BYN", amount="1", reference=f"r{n}")
            for n in range(LEAVES_AT_LEAST)
        ]
        for start in range(0, len(deposits), 97):  # batches that end inside tiles and across them
            ledger.submit(deposits[start : start + 97])
        ledger.audit.catch_up()
    return sandbox


@pytest.fixture
def ledger(tmp_path: Path, database_url: str) -> Ledger:
    url = None if database_url.startswith("sqlite") else database_url
    with grown(tmp_path / "home", url).open(auto_checkpoint=False) as opened:
        yield opened


def leaf_hashes(ledger: Ledger) -> list[bytes]:
    with ledger.backend.read() as session:
        return [bytes.fromhex(h) for (h,) in session.fetchall("SELECT leaf_hash FROM audit_leaves ORDER BY leaf_index")]


def test_every_range_hashes_from_the_tiles_as_from_the_leaves(ledger: Ledger) -> None:
    leaves = leaf_hashes(ledger)
    expected = range_hasher(leaves)
    chance = random.Random(5)
    ranges = [(0, len(leaves)), (0, TILE_WIDTH), (TILE_WIDTH, 2 * TILE_WIDTH), (0, 2 * TILE_WIDTH)]
    ranges += [tuple(sorted(chance.sample(range(len(leaves) + 1), 2))) for _ in range(200)]
    with ledger.audit.tiled() as tiled:
        for start, end in ranges:
            assert tiled.hash_range(start, end) == expected(start, end), (start, end)


def test_a_proof_from_the_tiles_is_the_proof_from_the_leaves(ledger: Ledger) -> None:
    leaves = leaf_hashes(ledger)
    for index in (0, 255, 256, 300, len(leaves) - 1):
        assert inclusion_proof(index, len(leaves), ledger.audit.hash_range) == inclusion_proof(
            index, len(leaves), range_hasher(leaves)
        )


def test_full_tiles_are_stored_once_as_the_log_grows_and_partial_ones_read_from_below(ledger: Ledger) -> None:
    leaves = leaf_hashes(ledger)
    with ledger.backend.read() as session:
        stored = session.fetchall("SELECT tile_level, tile_index FROM audit_tiles ORDER BY tile_level, tile_index")
        assert stored == [(0, 0), (0, 1)]
        tiled = TiledHashes(session)
        assert tiled.tile(TileName(0, 1)) == b"".join(leaves[TILE_WIDTH : 2 * TILE_WIDTH])
        width = len(leaves) % TILE_WIDTH
        assert tiled.tile(TileName(0, 2, width)) == b"".join(leaves[2 * TILE_WIDTH :])
        roots = [range_hasher(leaves)(n * TILE_WIDTH, (n + 1) * TILE_WIDTH) for n in (0, 1)]
        assert tiled.tile(TileName(1, 0, 2)) == b"".join(roots)


def test_a_store_made_before_tiles_gets_them_at_its_next_catch_up(ledger: Ledger) -> None:
    with ledger.backend.views("audit") as session:
        session.execute("DROP TABLE audit_tiles")  # as in a store of the release before tiles
    ledger.audit.set_up()
    ledger.audit.catch_up()
    with ledger.backend.read() as session:
        assert session.fetchall("SELECT count(*) FROM audit_tiles") == [(2,)]
    with ledger.backend.views("audit") as session:
        store_full_tiles(session, len(leaf_hashes(ledger)))  # again: nothing is stored twice
    with ledger.backend.read() as session:
        assert session.fetchall("SELECT count(*) FROM audit_tiles") == [(2,)]
