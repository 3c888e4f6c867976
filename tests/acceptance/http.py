"""Running `ledger serve` as a user does, in a process of its own on a free port, and talking to it over HTTP."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.acceptance.cli import ledger

SETUP = [
    {"type": "onboard_client", "key": "c", "client_id": "alesia", "name": "Alesia", "residency": "resident",
     "kind": "individual"},
    {"type": "verify_kyc", "key": "k", "client_id": "alesia"},
    {"type": "register_asset", "key": "a", "code": "BYN", "scale": 2, "kind": "fiat"},
]  # fmt: skip


def deposit(key: str, amount: str = "1.00", client: str = "alesia") -> dict[str, object]:
    return {"type": "deposit", "key": key, "client_id": client, "asset": "BYN", "amount": amount, "reference": "r"}


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    stderr: Path

    def client(self, key: str | None = None, timeout: float = 30) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)

    def log(self) -> str:
        return self.stderr.read_text()


@contextmanager
def serving(
    home: Path,
    *args: str,
    database_url: str | None = None,
    env: dict[str, str] | None = None,
    options: tuple[str, ...] = (),
) -> Iterator[Server]:
    """A `ledger [OPTIONS] serve ARGS` process on a free port of 127.0.0.1, stopped (SIGTERM) at the end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    environment.update(env or {})
    where = ["--database-url", database_url] if database_url else []
    stderr = home.parent / f"serve-{time.monotonic_ns()}.log"
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "ledger", *options, "serve", "--home", str(home), *where, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=environment,
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    if found is None:
        process.kill()
        raise AssertionError(f"the server did not start: {line!r} {stderr.read_text()}")
    server = Server(process, found.group(1), stderr)
    try:
        yield server
    finally:
        server.stop()
        process.stdout.close()


def api_key(home: Path, role: str, database_url: str | None = None) -> str:
    where = ["--database-url", database_url] if database_url else []
    made = ledger("api-key", "create", "--role", role, "--home", str(home), *where)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().splitlines()[-1]


def events_per_key(client: httpx.Client, event_type: str = "FundsDeposited") -> dict[str, int]:
    """How many events of `event_type` each command key wrote, over the whole log."""
    counts: dict[str, int] = {}
    after = 0
    while True:
        page = client.get("/v1/events", params={"after": after, "limit": 1000, "type": event_type}).json()
        for item in page["items"]:
            counts[item["command_key"]] = counts.get(item["command_key"], 0) + 1
        if not page["items"]:
            return counts
        after = page["next_after"]
