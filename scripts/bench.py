"""Prints the benchmark figures as JSON: `python scripts/bench.py [TRANSACTIONS]`."""

import json
import sys

from ledger.bench.write import run_benchmarks

USAGE = "usage: python scripts/bench.py [TRANSACTIONS]  (a whole number; 20000 by default)"

if __name__ == "__main__":
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and not sys.argv[1].isdigit()):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    transactions = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(json.dumps(run_benchmarks(transactions), indent=2))
