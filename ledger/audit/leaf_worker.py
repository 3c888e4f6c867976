"""A worker process of the verifier: `python -m ledger.audit.leaf_worker EVENTS_FD [TILES_FD TILES_PATH]`.

It checks the chunks of `events.jsonl` its verifier sends on stdin, one at a
time, and answers each on stdout (`ledger.audit.leaf_chunks.serve_jobs`). The
files are those the verifier opened, inherited by descriptor.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.audit.files import Folder
from ledger.audit.leaf_chunks import Opened, serve_jobs


def main(arguments: list[str]) -> None:
    tiles = Folder(int(arguments[1]), Path(arguments[2])) if len(arguments) > 1 else None
    serve_jobs(Opened(int(arguments[0]), tiles), sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv[1:])
