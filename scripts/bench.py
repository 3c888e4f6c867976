"""Prints the benchmark figures as JSON: `python scripts/bench.py [TRANSACTIONS]`."""

import json
import sys

from ledger.bench.write import run_benchmarks

if __name__ == "__main__":
    transactions = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(json.dumps(run_benchmarks(transactions), indent=2))
