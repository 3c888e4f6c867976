"""Audit benchmarks: offline verification speed and its memory, beside same-run references.

`audit.verify`: leaves per second verifying a bundle of N leaves, beside
`sha256` (bare RFC 9162 leaf hashing of the same lines, read from the same
file), taking turns, each the best of two rounds. `memory.verify`: peak RSS in MB of a fresh process verifying the
N-leaf bundle, beside the same at 100k (`at_100k`).

The bundle is written directly, not through the write path, so that a 1M-leaf
bundle takes seconds to make: realistic leaves (transfers, trades, deposits)
in the ledger's leaf format, checkpoints every 100k leaves and at the end,
signed with a throwaway key, the consistency proofs between them, and the
tiles an export writes (hash tiles, entry bundles, `tiles/checkpoint`), which
the verifier checks against the leaves. Verification uses every core: the
memory figure is the verifier's own peak plus each worker's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.bundle import BUNDLE_FORMAT, b64
from ledger.audit.files import TILES, Folder
from ledger.audit.merkle import HASH_SIZE, CompactRange, consistency_proof, leaf_hash, range_hasher
from ledger.audit.notes import Checkpoint, Signer, sign
from ledger.audit.tile_check import tile_root
from ledger.audit.tiles import TILE_WIDTH, EntryBundleWriter, TileFiles, TileName, write_tiles
from ledger.audit.verify import verify_bundle
from ledger.bench.write import figure

ORIGIN = "bench.example/ledger"
CHECKPOINT_EVERY = 100_000
SMALL_SIZE = 100_000
ROUNDS = 2
NAMESPACE = UUID("0b6d1f3a-1c9e-5e7b-9a42-7f1d2c3b4a59")


def leaf_object(index: int) -> dict[str, Any]:
    """A leaf shaped like the ledger's own: one of a transfer, a trade or a deposit."""
    kind = index % 3
    amount = str(1000 + index * 7 % 100_000)
    head: dict[str, Any] = {
        "command_key": f"bench:{index}",
        "ledger_time": f"2026-02-{1 + index % 28:02d}T09:00:00Z",
    }
    if kind == 0:
        data = {
            **head,
            "asset_code": "BYN",
            "amount_minor": amount,
            "source_client_id": f"c{index % 997}",
            "target_client_id": f"c{(index + 1) % 997}",
            "postings": [
                {"account": f"client:c{index % 997}", "asset": "BYN", "amount_minor": f"-{amount}"},
                {"account": f"client:c{(index + 1) % 997}", "asset": "BYN", "amount_minor": amount},
            ],
        }
        kind_name = "FundsTransferred"
    elif kind == 1:
        data = {
            **head,
            "venue_id": "minsk-htp",
            "buyer_client_id": f"c{index % 991}",
            "seller_client_id": None,
            "base_asset": "USDT",
            "base_amount_minor": amount + "000",
            "quote_asset": "BYN",
            "quote_amount_minor": amount,
            "fee_minor": "0",
            "postings": [
                {"account": f"client:c{index % 991}", "asset": "USDT", "amount_minor": amount + "000"},
                {"account": "system:external", "asset": "USDT", "amount_minor": f"-{amount}000"},
                {"account": f"client:c{index % 991}", "asset": "BYN", "amount_minor": f"-{amount}"},
                {"account": "system:external", "asset": "BYN", "amount_minor": amount},
            ],
        }
        kind_name = "TradeExecuted"
    else:
        data = {
            **head,
            "client_id": f"c{index % 983}",
            "asset_code": "BYN",
            "amount_minor": amount,
            "reference": f"BYN-IN-{index}",
            "wallet_address": None,
            "postings": [
                {"account": "system:external", "asset": "BYN", "amount_minor": f"-{amount}"},
                {"account": f"client:c{index % 983}", "asset": "BYN", "amount_minor": amount},
            ],
        }
        kind_name = "FundsDeposited"
    return {
        "index": index,
        "stream": str(uuid5(NAMESPACE, str(index))),
        "version": 1,
        "type": kind_name,
        "recorded_at": "2026-02-01T09:00:00.000000Z",
        "data": data,
    }


def write_bundle(directory: Path, size: int, signer: Signer) -> None:
    """A bundle of `size` leaves, checkpointed every 100k leaves and at the end."""
    (directory / "checkpoints").mkdir(parents=True)
    (directory / "proofs").mkdir()
    digests: list[bytes] = []
    tree = CompactRange()
    sizes = sorted({*range(CHECKPOINT_EVERY, size, CHECKPOINT_EVERY), size})
    assert rfc8785.dumps(leaf_object(1)) == _compact(leaf_object(1)), "the bench leaves must be canonical"
    (directory / TILES).mkdir()
    tiles = TileFiles(Folder.open(directory / TILES))
    entries = EntryBundleWriter(tiles, 0, sizes)
    note = ""
    with (directory / "events.jsonl").open("wb") as handle:
        for index in range(size):
            line = _compact(leaf_object(index))
            handle.write(line + b"\n")
            entries.add(line)
            digest = leaf_hash(line)
            digests.append(digest)
            tree.append(digest)
            if tree.size in sizes:
                note = sign(Checkpoint(ORIGIN, tree.size, tree.root()).text(), [signer])
                (directory / "checkpoints" / str(tree.size)).write_text(note)
    entries.close()
    write_tiles(tiles, _HashesInMemory(digests), sizes)
    tiles.write("checkpoint", note.encode())
    tiles.close()
    hasher = range_hasher(digests)
    proofs = []
    for size1, size2 in pairwise(sizes):
        proof = consistency_proof(size1, size2, hasher)
        document = {
            "size1": size1,
            "size2": size2,
            "root1": b64(hasher(0, size1)),
            "root2": b64(hasher(0, size2)),
            "proof": [b64(h) for h in proof],
        }
        (directory / "proofs" / f"{size1}-{size2}.json").write_text(json.dumps(document))
        proofs.append(f"{size1}-{size2}.json")
    manifest = {
        "format": BUNDLE_FORMAT,
        "origin": ORIGIN,
        "tree_size": size,
        "first_index": 0,
        "base_range": [],
        "verifier_keys": [signer.verifier.encode()],
        "checkpoints": sizes,
        "proofs": proofs,
        "tiles": TILES,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))


class _HashesInMemory:
    """The tiles of a tree whose leaf hashes are all at hand: each level the
    roots of the full tiles of the level below."""

    def __init__(self, digests: list[bytes]) -> None:
        self.levels = [b"".join(digests)]
        while len(self.levels[-1]) >= TILE_WIDTH * HASH_SIZE:
            below = self.levels[-1]
            full = len(below) // (TILE_WIDTH * HASH_SIZE)
            span = TILE_WIDTH * HASH_SIZE
            self.levels.append(b"".join(tile_root(below[n * span : (n + 1) * span]) for n in range(full)))

    def tile(self, name: TileName) -> bytes:
        start = name.index * TILE_WIDTH
        return self.level_bytes(name.level, start, start + name.width)

    def level_bytes(self, level: int, start: int, end: int) -> bytes:
        return self.levels[level][start * HASH_SIZE : end * HASH_SIZE]


def _compact(value: dict[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def bare_hashing_rate(directory: Path) -> float:
    started = time.perf_counter()
    count = 0
    with (directory / "events.jsonl").open("rb") as handle:
        for line in handle:
            leaf_hash(line[:-1])
            count += 1
    return count / (time.perf_counter() - started)


_MEASURE = """
import sys
from pathlib import Path
from ledger.audit.verify import verify_bundle
from ledger.bench.write import figure
import resource
from ledger.audit.leaf_chunks import worker_count
findings = verify_bundle(Path(sys.argv[1]), sys.argv[2])
# VmHWM is this process's own peak since exec; ru_maxrss would also count the
# parent's pages at fork, before exec. Of its workers, the largest peak is
# known (RUSAGE_CHILDREN), counted once for each.
status = Path("/proc/self/status").read_text()
peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
workers = worker_count((Path(sys.argv[1]) / "events.jsonl").stat().st_size)
print(peak + workers * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(1 if findings else 0)
"""


def _verify_rate(directory: Path, key: str, size: int) -> float:
    started = time.perf_counter()
    findings = verify_bundle(directory, key)
    elapsed = time.perf_counter() - started
    assert not findings, findings[:3]
    return size / elapsed


def peak_rss_mb(directory: Path, key: str) -> float:
    """Peak RSS of a fresh process that verifies the bundle."""
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _MEASURE, str(directory), key], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"the bench bundle must verify: {result.stderr[-500:]}"
    return round(int(result.stdout.strip()) / 1024, 1)


def run_audit_benchmarks(size: int) -> dict[str, Any]:
    signer = Signer(ORIGIN, Ed25519PrivateKey.generate())
    key = signer.verifier.encode()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-audit-") as folder:
        big, small = Path(folder) / "big", Path(folder) / "small"
        write_bundle(big, size, signer)
        write_bundle(small, min(size, SMALL_SIZE), signer)
        os.sync()  # the bundles' writing back to disk is not timed with the reading
        rates, bares = [], []
        for _ in range(ROUNDS):  # taking turns, each the best of its rounds
            bares.append(bare_hashing_rate(big))
            rates.append(_verify_rate(big, key, size))
        rate, bare = max(rates), max(bares)
        memory_big, memory_small = peak_rss_mb(big, key), peak_rss_mb(small, key)
    return {
        "audit.verify": figure(rate, "events/s", {"sha256": bare}, events=size),
        "memory.verify": figure(memory_big, "MB", {"at_100k": memory_small}, events=size),
    }
