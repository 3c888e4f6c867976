"""Simulates traffic in a sandbox through the Python API: `python scripts/simulate.py HOME SEED [DAYS]`."""

import sys
from pathlib import Path

from ledger import ManualClock, Sandbox
from ledger.simulate import SIM_START, SimulationConfig, simulate

USAGE = "usage: python scripts/simulate.py HOME SEED [DAYS]  (SEED and DAYS whole numbers; 10 days by default)"

if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or not all(arg.isdigit() for arg in sys.argv[2:]):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    home, seed = Path(sys.argv[1]), int(sys.argv[2])
    days = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    sandbox = Sandbox.at(home)
    if not sandbox.home.is_initialised():
        sandbox.init(allow_unencrypted_key=True, clock=ManualClock(SIM_START), ledger_clock=ManualClock(SIM_START))
    with sandbox.open(clock=ManualClock(SIM_START), ledger_clock=ManualClock(SIM_START)) as ledger:
        summary = simulate(ledger, SimulationConfig(seed=seed, days=days))
    print(f"{summary.first_day} to {summary.last_day}: {summary.commands} commands")
    print("rejected:", dict(summary.rejected))
