"""Export and proof benchmarks on stores written through the write path.

`audit.export`: leaves per second of the first export of a store of N events
(`ledger audit export`'s code, `ledger.audit.bundle.export_bundle`: a
checkpoint signed, events.jsonl, checkpoints, proofs and the tiles written),
timed in a fresh process, beside `audit.verify` (`verify_bundle` of that very
bundle, in this run). `memory.export`: the peak RSS in MB of that process,
beside the same for a first export of 100k events (`at_100k`).
`audit.prove`: milliseconds per single-event proof (`ledger audit prove`'s
code, `ledger.audit.proofs.tlog_proof`), averaged over random leaves of the
N-event store, beside the same at 10k events (`at_10k`).

The stores are `ledger.bench.stores`', shared with the replay benchmarks;
the audit tables in them are filled by the write path as it commits.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.audit.notes import Signer
from ledger.audit.proofs import tlog_proof
from ledger.audit.verify import verify_bundle
from ledger.bench.stores import BenchStores
from ledger.bench.write import figure
from ledger.service import Ledger

SMALL_SIZE = 100_000
PROVE_SMALL_SIZE = 10_000
PROOFS = 300
SEED = 14

# A first export in a process of its own: its time, its own peak (VmHWM: the
# parent's pages at fork would count in ru_maxrss), and the key to verify with.
_EXPORT = """
import json, sys, time
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger.audit.bundle import export_bundle
from ledger.audit.notes import Signer
from ledger.service import Ledger
store, bundle = Path(sys.argv[1]), Path(sys.argv[2])
with Ledger.open(home=store.parent, database_url=f"sqlite:///{store}") as ledger:
    signer = Signer(ledger.audit.origin, Ed25519PrivateKey.generate())
    started = time.perf_counter()
    summary = export_bundle(ledger.audit, signer, bundle, ledger.clock.now())
    elapsed = time.perf_counter() - started
status = Path("/proc/self/status").read_text()
peak = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "leaves": summary.tree_size, "peak_kb": int(peak),
                  "key": signer.verifier.encode()}))
"""


def first_export(store: Path, bundle: Path) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", _EXPORT, str(store), str(bundle)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"the bench store must export: {result.stderr[-800:]}"
    return dict(json.loads(result.stdout))


def proof_ms(store: Path, proofs: int = PROOFS) -> float:
    """Milliseconds per tlog-proof of a random leaf, against the latest checkpoint."""
    with Ledger.open(home=store.parent, database_url=f"sqlite:///{store}") as ledger:
        signer = Signer(ledger.audit.origin, Ed25519PrivateKey.generate())
        checkpoint = ledger.audit.checkpoint(signer, ledger.clock.now())  # the export's, if there was one
        chosen = random.Random(SEED)  # noqa: S311 (which leaves, not a secret)
        indexes = [chosen.randrange(checkpoint.size) for _ in range(proofs)]
        tlog_proof(ledger.audit, indexes[0], checkpoint)  # the first opens the library's connections
        started = time.perf_counter()
        for index in indexes:
            tlog_proof(ledger.audit, index, checkpoint)
        return (time.perf_counter() - started) * 1000 / proofs


def run_export_benchmarks(size: int, stores: BenchStores) -> dict[str, Any]:
    big = stores.store(size)
    small = stores.store(min(size, SMALL_SIZE))
    with tempfile.TemporaryDirectory(prefix="ledger-bench-export-") as folder:
        root = Path(folder)
        exported = first_export(big, root / "big")
        started = time.perf_counter()
        findings = verify_bundle(root / "big", exported["key"])
        verify_rate = exported["leaves"] / (time.perf_counter() - started)
        assert not findings, findings[:3]
        exported_small = first_export(small, root / "small")
    prove_big = proof_ms(big)
    prove_small = proof_ms(stores.store(min(size, PROVE_SMALL_SIZE)))
    rate = exported["leaves"] / exported["seconds"]
    memory_big, memory_small = exported["peak_kb"] / 1024, exported_small["peak_kb"] / 1024
    return {
        "audit.export": figure(rate, "leaves/s", {"audit.verify": verify_rate}, leaves=exported["leaves"]),
        "audit.prove": {
            "value": round(prove_big, 3),
            "unit": "ms",
            "references": {"at_10k": round(prove_small, 3)},
            "ratios": {"vs_at_10k": round(prove_big / prove_small, 3)},
            "leaves": exported["leaves"],
            "proofs": PROOFS,
        },
        "memory.export": figure(memory_big, "MB", {"at_100k": memory_small}, leaves=exported["leaves"]),
    }
