"""Runs the demo scenario through the Python API, in a sandbox home given on the command line."""

import sys
from pathlib import Path

from rich.console import Console

from ledger.demo import run_demo
from ledger.sandbox import Sandbox

if __name__ == "__main__":
    if len(sys.argv) > 2 or sys.argv[1:2] in (["-h"], ["--help"]):
        print("usage: python scripts/demo.py [HOME]  (a sandbox home; ./demo-sandbox by default)", file=sys.stderr)
        sys.exit(2)
    home = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-sandbox")
    sys.exit(run_demo(Sandbox.at(home), Console()))
