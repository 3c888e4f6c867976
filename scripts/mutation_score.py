"""The mutation score per module from mutmut's results under mutants/.

Prints, for each mutated module that has results, the mutants killed out of
those checked, the survivors, and the score (killed / checked, in percent);
a mutant no test reaches counts as a survivor. Exits 2 when called wrongly
or when there are no results to read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

USAGE = "usage: python scripts/mutation_score.py [MUTANTS_DIR [MODULE ...]]  (./mutants by default)"
KILLED = {1, 3, 37}  # a failing test, pytest's internal error, the type checker
SURVIVED = {0, 5, 33}  # every test passed, or no test reached the mutant
UNCHECKED = {None, 2, 34}  # not run yet, interrupted, skipped


def module_of(meta: Path, root: Path) -> str:
    return str(meta.relative_to(root).with_suffix("").with_suffix("")).replace("/", ".")


def tally(meta: Path) -> tuple[int, int, int]:
    """(killed, survived, other: timeouts, segfaults and suspicious ones)."""
    codes = json.loads(meta.read_text())["exit_code_by_key"].values()
    checked = [code for code in codes if code not in UNCHECKED]
    killed = sum(code in KILLED for code in checked)
    survived = sum(code in SURVIVED for code in checked)
    return killed, survived, len(checked) - killed - survived


def main(argv: list[str]) -> int:
    if any(arg.startswith("-") for arg in argv):
        print(USAGE, file=sys.stderr)
        return 2
    root = Path(argv[0]) if argv else Path("mutants")
    wanted = set(argv[1:])
    if not root.is_dir():
        print(f"{USAGE}\nno mutmut results under {root}: run 'make mutation' first", file=sys.stderr)
        return 2
    rows = []
    for meta in sorted(root.rglob("*.py.meta")):
        module = module_of(meta, root)
        if wanted and module not in wanted:
            continue
        killed, survived, other = tally(meta)
        if killed + survived + other:
            rows.append((module, killed, survived, other))
    if not rows:
        print(f"no checked mutants under {root}", file=sys.stderr)
        return 2
    print(f"{'module':32} {'killed':>7} {'survived':>9} {'other':>6} {'score':>7}")
    for module, killed, survived, other in rows:
        total = killed + survived + other
        print(f"{module:32} {killed:>7} {survived:>9} {other:>6} {100 * killed / total:>6.1f}%")
    killed, total = sum(row[1] for row in rows), sum(row[1] + row[2] + row[3] for row in rows)
    print(f"{'all':32} {killed:>7} {total - killed:>9} {'':>6} {100 * killed / total:>6.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
