"""`serve.http`: commands/s through the HTTP service, 64 clients each posting one command per request.

A real `ledger serve` process on a fresh SQLite sandbox, driven by the load
generator in a process of its own (`ledger.bench.http_load`). The
references are measured in the same run: `no_coalescing`, the same server
with one transaction per request, and `in_process_batch`, the same commands
submitted in batches by a Python caller in the server's place (the write
path with no HTTP at all).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from ledger.bench.http_load import run_load
from ledger.bench.write import BATCH_SIZE, figure, setup_commands, to_command, unavailable, workload
from ledger.extras import missing_extra_line

CONCURRENCY = 64
WARMUP = 500


def run_serve_benchmark(requests: int) -> dict[str, Any]:
    try:
        import fastapi  # noqa: F401, PLC0415 (the HTTP service extra's: skipped without it, as PostgreSQL is)
        import uvicorn  # noqa: F401, PLC0415
    except ImportError as error:
        return {"serve.http": unavailable("commands/s", missing_extra_line(error) or str(error))}
    moves = workload(requests + WARMUP, seed=11)
    commands = [to_command(index, move) for index, move in enumerate(moves)]
    bodies = [command.model_dump_json(exclude_none=True) for command in commands]
    with tempfile.TemporaryDirectory(prefix="ledger-bench-serve-") as scratch:
        folder = Path(scratch)
        coalesced = _through_http(folder / "coalesced", bodies, coalesce=True)
        single = _through_http(folder / "single", bodies, coalesce=False)
        in_process = _in_process(folder / "in-process", commands)
    return {
        "serve.http": figure(
            coalesced["per_second"],
            "commands/s",
            {"no_coalescing": single["per_second"], "in_process_batch": in_process},
            p50_ms=coalesced["p50_ms"],
            p99_ms=coalesced["p99_ms"],
            no_coalescing_p50_ms=single["p50_ms"],
            no_coalescing_p99_ms=single["p99_ms"],
            concurrency=CONCURRENCY,
            requests=coalesced["requests"],
            statuses=coalesced["statuses"],
            transactions=coalesced["transactions"],
        )
    }


def _home(folder: Path) -> tuple[Path, str]:
    """A sandbox with the bench's clients and assets, and an operator key."""
    from ledger.api.keys import Role, create_key  # noqa: PLC0415
    from ledger.sandbox import Sandbox  # noqa: PLC0415

    sandbox = Sandbox.at(folder)
    sandbox.init(allow_unencrypted_key=True)
    with sandbox.open_writer(auto_checkpoint=False) as ledger:
        ledger.submit(setup_commands()[1:])  # the bank is established by init
        _, key = create_key(ledger.backend, Role.OPERATOR, label="bench", now=ledger.clock.now())
    return folder, key


def _through_http(folder: Path, bodies: list[str], *, coalesce: bool) -> dict[str, Any]:
    home, key = _home(folder)
    flags = [] if coalesce else ["--no-coalescing"]
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "ledger", "serve", "--home", str(home), "--port", "0", "--quiet", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        found = re.search(r"127\.0\.0\.1:(\d+)", server.stdout.readline())
        if found is None:
            raise RuntimeError("the bench's server did not start")
        port = int(found.group(1))
        result = run_load(
            {
                "host": "127.0.0.1",
                "port": port,
                "path": "/v1/commands",
                "headers": {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                "bodies": bodies,
                "concurrency": CONCURRENCY,
                "warmup": WARMUP,
            }
        )
        result["transactions"] = _writer_transactions(port)
        if result["statuses"].get("200", 0) != result["requests"]:
            raise RuntimeError(f"the bench's requests did not all succeed: {result['statuses']}")
        return result
    finally:
        server.terminate()
        server.wait(30)
        if server.stdout is not None:
            server.stdout.close()


def _writer_transactions(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=10) as response:
        health = json.load(response)
    return int(health["writer"]["transactions"])


def _in_process(folder: Path, commands: list[Any]) -> float:
    from ledger.sandbox import Sandbox  # noqa: PLC0415

    home, _ = _home(folder)
    with Sandbox.at(home).open_writer(auto_checkpoint=False) as ledger:
        ledger.submit(commands[:WARMUP])
        measured = commands[WARMUP:]
        started = time.perf_counter()
        for start in range(0, len(measured), BATCH_SIZE):
            ledger.submit(measured[start : start + BATCH_SIZE])
        return len(measured) / (time.perf_counter() - started)


if __name__ == "__main__":
    print(json.dumps(run_serve_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000), indent=2))
