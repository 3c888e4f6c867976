"""Running the `ledger` command as a user does: in a subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def ledger(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=stdin,
        timeout=120,
        check=False,
    )


def store_digest(home: Path) -> dict[str, str]:
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def write_batch(path: Path, *commands: dict[str, object] | str) -> Path:
    lines = [c if isinstance(c, str) else json.dumps(c) for c in commands]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def witness_serving(home: Path, log_key: str, port: int = 0) -> Iterator[str]:
    """`ledger audit witness serve` on `port` (0: a free one), stopped at the end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger", "audit", "witness", "serve", "--witness-home", str(home),
         "--log-key", log_key, "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )  # fmt: skip
    assert process.stdout is not None
    found = re.search(r"on (http://127\.0\.0\.1:\d+)", process.stdout.readline())
    if found is None:
        process.kill()
        raise AssertionError(f"the witness did not start: {process.communicate()[1]}")
    try:
        yield found.group(1)
    finally:
        process.terminate()
        process.communicate(timeout=30)  # and closes its pipes
