"""Exports a sandbox's audit bundle and verifies it as the supervisor would.

`python scripts/export_and_verify.py HOME BUNDLE_DIR`: the bank exports; the
supervisor checks it offline with the key it pinned. Exits 1 on any finding.
"""

import sys
from datetime import UTC, datetime
from pathlib import Path

from ledger import Sandbox
from ledger.audit.bundle import export_bundle
from ledger.audit.verify import verify_bundle

USAGE = "usage: python scripts/export_and_verify.py HOME BUNDLE_DIR  (a sandbox home; a new directory for the bundle)"

if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    sandbox, bundle = Sandbox.at(Path(sys.argv[1])), Path(sys.argv[2])
    pinned_key = sandbox.verifier_key()  # in real life: pinned once, out of band
    with sandbox.open(auto_checkpoint=False) as ledger:
        summary = export_bundle(
            ledger.audit, sandbox.signer(), bundle, datetime.now(UTC), verifier_keys=sandbox.verifier_keys()
        )
    findings = verify_bundle(bundle, pinned_key)
    for finding in findings:
        print("FAIL", finding)
    print(
        f"{summary.tree_size} leaves, {len(summary.checkpoints)} checkpoints:",
        "verified" if not findings else "NOT verified",
    )
    sys.exit(1 if findings else 0)
