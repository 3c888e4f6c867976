"""Runs the demo scenario through the Python API, in a sandbox home given on the command line."""

import sys
from pathlib import Path

from rich.console import Console

from ledger.demo import run_demo
from ledger.sandbox import Sandbox

if __name__ == "__main__":
    home = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-sandbox")
    sys.exit(run_demo(Sandbox.at(home), Console()))
