"""HTTP load generator for `serve.http` (DESIGN.md section 7), run as a process of its own.

`python -m ledger.bench.http_load` reads one JSON job from stdin and prints
one JSON result to stdout; `run_load(job)` does both from Python. It runs in
its own process so that the figure is the server's work, not a client's
sharing the server's interpreter; and it uses the standard library only
(asyncio streams, uvloop when importable), because a Python HTTP client
library costs more CPU per request than the server does on a 2-core machine.

The job (`timeout_seconds`, a limit on each request, is optional):

    {"host": "127.0.0.1", "port": 8123, "path": "/v1/commands",
     "headers": {"Authorization": "Bearer ...", "Content-Type": "application/json"},
     "bodies": ["{...}", "{...}"], "concurrency": 64, "warmup": 200}

Each of `concurrency` workers holds one keep-alive HTTP/1.1 connection and
POSTs one body at a time, taken in order from an iterator all workers share,
so that each body is posted exactly once; a body whose request fails is not
posted again (it counts under `errors`). A response is read in full: the
head, then a Content-Length body, a chunked body, or (with neither) the body
up to the server's close. After `Connection: close` the worker opens a new
connection before its next request, outside that request's latency.

The first `warmup` bodies are posted first, by all workers; when every one
of them has been answered, the clock starts and the workers post the rest.
The result describes that measured part only:

    {"requests": N, "seconds": S, "per_second": N/S, "p50_ms": .., "p99_ms": .., "max_ms": ..,
     "statuses": {"200": n, ...}, "errors": n, "error_kinds": {"ConnectionResetError": n},
     "reconnects": n, "client_cpu_seconds": c, "concurrency": 64, "warmup": 200, "loop": "uvloop"}

`requests` counts the measured requests that got a whole response (of any
status, so `statuses` adds up to it); `errors` those that did not (refused,
reset, timed out, or a response we cannot read). A latency runs from the
request's write to the last byte of its response read; percentiles are by
nearest rank on the sorted latencies, and null when no request got a
response. `client_cpu_seconds` is this process's own CPU time while measured:
the share of the machine the client took from the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import json
import math
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODULE = "ledger.bench.http_load"
CONCURRENCY_MAX = 512  # a socket each, under the usual soft limit of 1024 open descriptors
BODIES_MAX = 1_000_000  # every request is held encoded in memory before the clock starts
BODY_CHARACTERS_MAX = 1024 * 1024
RESPONSE_HEAD_BYTES_MAX = 64 * 1024  # also the stream's buffer limit
RESPONSE_BODY_BYTES_MAX = 16 * 1024 * 1024
TRAILER_LINES_MAX = 64
TIMEOUT_SECONDS_DEFAULT = 30.0
TIMEOUT_SECONDS_MAX = 600.0
WATCHDOG_SECONDS = 0.25  # how often overdue requests are looked for: a timeout is late by at most this
NEVER = math.inf
READ_CHUNK_BYTES = 64 * 1024
PERCENTILES = (50, 99)
# Headers the generator writes itself: a second Content-Length or a
# Transfer-Encoding from the job would make every request ambiguous.
OWN_HEADERS = frozenset({"content-length", "transfer-encoding"})

# Failures of one request; each is counted and the connection is dropped.
# Anything else is a bug here and ends the run.
REQUEST_FAILURES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, broken pipe, and TimeoutError connecting
    EOFError,  # asyncio.IncompleteReadError: the server closed mid-response
    asyncio.LimitOverrunError,  # a head or chunk line beyond RESPONSE_HEAD_BYTES_MAX
    ValueError,  # a status, length or chunk size that is not a number
)


class MalformedResponse(ValueError):
    """A response this client cannot read as HTTP/1.x; counted as a request error."""


class LoadFailed(RuntimeError):
    """The load generator's process failed: a job it rejected, a server it could not reach, or a bug.

    `stderr` is the child's whole error output; the message carries its end.
    """

    def __init__(self, *, returncode: int, stderr: str) -> None:
        super().__init__(f"{MODULE} exited with {returncode}: {stderr.strip()[-2000:] or '(no stderr)'}")
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class LoadJob:
    """One run's job, checked. `headers` can be empty; Host is added unless given."""

    host: str
    port: int
    path: str
    headers: dict[str, str]
    bodies: list[str]
    concurrency: int
    warmup: int
    timeout_seconds: float = TIMEOUT_SECONDS_DEFAULT

    @classmethod
    def from_json(cls, job: Any) -> LoadJob:
        """The job from its JSON value; raises ValueError naming the first field that is wrong."""
        if not isinstance(job, dict):
            raise ValueError("the job must be a JSON object")
        unknown = set(job) - {"host", "port", "path", "headers", "bodies", "concurrency", "warmup", "timeout_seconds"}
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        host = _field(job, "host", str)
        port = _field(job, "port", int)
        path = _field(job, "path", str)
        headers = _field(job, "headers", dict, {})
        bodies = _field(job, "bodies", list)
        concurrency = _field(job, "concurrency", int)
        warmup = _field(job, "warmup", int, 0)
        timeout = _field(job, "timeout_seconds", (int, float), TIMEOUT_SECONDS_DEFAULT)
        _check_target(host, port, path)
        _check_headers(headers)
        _check_bodies(bodies)
        if not 0 < concurrency <= CONCURRENCY_MAX:
            raise ValueError(f"concurrency must be in 1..{CONCURRENCY_MAX}, not {concurrency}")
        if not 0 <= warmup < len(bodies):
            raise ValueError(f"warmup must be in 0..{len(bodies) - 1} to leave a request to measure, not {warmup}")
        if not 0 < timeout <= TIMEOUT_SECONDS_MAX:
            raise ValueError(f"timeout_seconds must be in (0, {TIMEOUT_SECONDS_MAX}], not {timeout}")
        return cls(host, port, path, headers, bodies, concurrency, warmup, float(timeout))

    def requests(self) -> list[bytes]:
        """Every request's bytes, head and body in one buffer so that each is one write."""
        lines = [f"POST {self.path} HTTP/1.1"]
        if not any(name.lower() == "host" for name in self.headers):
            lines.append(f"Host: {self.host}:{self.port}")
        lines.extend(f"{name}: {value}" for name, value in self.headers.items())
        head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        encoded = []
        for body in self.bodies:
            payload = body.encode()
            encoded.append(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(payload), payload))
        return encoded


def _field(job: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    if name not in job:
        if default is ...:
            raise ValueError(f"the job needs {name!r}")
        return default
    value = job[name]
    # bool is an int to isinstance; a port of `true` is a mistake, not 1.
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{name!r} has the wrong type: {type(value).__name__}")
    return value


def _check_target(host: str, port: int, path: str) -> None:
    if not host or any(character.isspace() for character in host):
        raise ValueError(f"host must be a name or address, not {host!r}")
    if not 0 < port < 65536:
        raise ValueError(f"port must be in 1..65535, not {port}")
    if not path.startswith("/") or any(character.isspace() for character in path):
        raise ValueError(f"path must start with / and hold no spaces, not {path!r}")


def _check_headers(headers: dict[str, Any]) -> None:
    for name, value in headers.items():
        if not _is_header_text(name) or ":" in name or any(character.isspace() for character in name):
            raise ValueError(f"header name {name!r} must be Latin-1 text without a colon or spaces")
        if not isinstance(value, str) or not _is_header_text(value):
            raise ValueError(f"header {name!r} must be non-empty Latin-1 text without line breaks")
        if name.lower() in OWN_HEADERS:
            raise ValueError(f"header {name!r} is written by the generator itself")


def _check_bodies(bodies: list[Any]) -> None:
    if not 0 < len(bodies) <= BODIES_MAX:
        raise ValueError(f"bodies must hold 1..{BODIES_MAX} strings, not {len(bodies)}")
    for position, body in enumerate(bodies):
        if not isinstance(body, str) or len(body) > BODY_CHARACTERS_MAX:
            raise ValueError(f"bodies[{position}] must be a string of at most {BODY_CHARACTERS_MAX} characters")


def _is_header_text(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return "\r" not in text and "\n" not in text and bool(text.strip())


@dataclass
class Tally:
    """What one phase's requests came to. Latencies are seconds, in the order responses ended."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


class Connection:
    """One worker's keep-alive connection, opened again when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.opened = 0  # how many times: the first opening, then reconnections
        self.deadline = NEVER  # when the request in flight is overdue
        self.overdue = False  # `watch` aborted it for that

    async def open(self, timeout_seconds: float) -> None:
        # A timer of its own, unlike a request (see `watch`): connecting is rare.
        async with asyncio.timeout(timeout_seconds):
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, limit=RESPONSE_HEAD_BYTES_MAX
            )
        self.opened += 1

    def drop(self) -> None:
        """Close without waiting: the next request opens a new connection anyway."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None
        self.deadline, self.overdue = NEVER, False

    async def close(self) -> None:
        writer = self.writer
        self.drop()
        if writer is not None:
            with contextlib.suppress(OSError):  # the server had already reset it: closed either way
                await writer.wait_closed()


async def post_all(connection: Connection, requests: Iterator[bytes], tally: Tally, timeout_seconds: float) -> None:
    """Post requests from the shared iterator one at a time until it runs out."""
    clock = time.perf_counter
    for request in requests:
        try:
            if connection.writer is None:
                await connection.open(timeout_seconds)
            reader, writer = connection.reader, connection.writer
            assert reader is not None
            assert writer is not None
            started = clock()
            connection.deadline = started + timeout_seconds
            writer.write(request)
            await writer.drain()
            status, keep_alive = await read_response(reader)
            elapsed = clock() - started
        except REQUEST_FAILURES as error:
            tally.errors["TimeoutError" if connection.overdue else type(error).__name__] += 1
            connection.drop()
            continue
        connection.deadline = NEVER
        tally.latencies.append(elapsed)
        tally.statuses[status] += 1
        if not keep_alive:
            connection.drop()


async def watch(connections: list[Connection], timeout_seconds: float) -> None:
    """Abort the connection of every request past its deadline; its read then fails, counted as a timeout.

    One task looking a few times a second instead of `asyncio.timeout` around
    each request: a timer per request halved the generator's requests/s.
    """
    interval = min(WATCHDOG_SECONDS, timeout_seconds / 2)
    while True:
        await asyncio.sleep(interval)
        now = time.perf_counter()
        for connection in connections:
            if connection.deadline < now and connection.writer is not None and not connection.overdue:
                connection.overdue = True
                connection.writer.transport.abort()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one whole response; its status, and whether the connection stays open after it."""
    status, length, chunked, keep_alive = parse_head(await reader.readuntil(b"\r\n\r\n"))
    while 100 <= status < 200:  # an interim response (100 Continue, 103 Early Hints): the real one follows
        if status == 101:
            raise MalformedResponse("101 Switching Protocols to a POST")
        status, length, chunked, keep_alive = parse_head(await reader.readuntil(b"\r\n\r\n"))
    if status in {204, 304}:
        return status, keep_alive
    if chunked:
        await read_chunked(reader)
    elif length is not None:
        if length:
            await reader.readexactly(length)
    else:
        # Neither length nor chunks: the body ends where the server closes.
        total = 0
        while chunk := await reader.read(READ_CHUNK_BYTES):
            total += len(chunk)
            if total > RESPONSE_BODY_BYTES_MAX:
                raise MalformedResponse(f"a body beyond {RESPONSE_BODY_BYTES_MAX} bytes")
        keep_alive = False
    return status, keep_alive


def parse_head(head: bytes) -> tuple[int, int | None, bool, bool]:
    """Status, Content-Length (None when absent), whether chunked, and whether keep-alive."""
    lines = head.split(b"\r\n")
    status_line = lines[0]
    if not status_line.startswith(b"HTTP/1.") or len(status_line) < 12 or status_line[8:9] != b" ":
        raise MalformedResponse(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    status = int(status_line[9:12])
    keep_alive = status_line[5:8] == b"1.1"  # HTTP/1.0 closes unless it says keep-alive
    length: int | None = None
    chunked = False
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            raise MalformedResponse(f"a header line without a colon: {line[:80]!r}")
        name = name.lower()
        if name == b"content-length":
            length = int(value)
            if not 0 <= length <= RESPONSE_BODY_BYTES_MAX:
                raise MalformedResponse(f"Content-Length {length} outside 0..{RESPONSE_BODY_BYTES_MAX}")
        elif name == b"transfer-encoding":
            chunked = value.strip().lower().endswith(b"chunked")
        elif name == b"connection":
            tokens = value.lower()
            if b"close" in tokens:
                keep_alive = False
            elif b"keep-alive" in tokens:
                keep_alive = True
    return status, length, chunked, keep_alive


async def read_chunked(reader: asyncio.StreamReader) -> None:
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n")).partition(b";")[0], 16)
        if size < 0 or total + size > RESPONSE_BODY_BYTES_MAX:
            raise MalformedResponse(f"a chunk of {size} bytes after {total}")
        if size == 0:
            break
        total += size
        if (await reader.readexactly(size + 2))[-2:] != b"\r\n":
            raise MalformedResponse("a chunk not ended by CRLF")
    for _ in range(TRAILER_LINES_MAX):
        if await reader.readuntil(b"\r\n") == b"\r\n":
            return
    raise MalformedResponse(f"more than {TRAILER_LINES_MAX} trailer lines")


def nearest_rank(ordered: list[float], percent: int) -> float:
    """The value at nearest rank ceil(percent/100 * n) of an ascending, non-empty list."""
    assert ordered, "a percentile of no values"
    rank = max(1, -(-percent * len(ordered) // 100))
    return ordered[rank - 1]


async def run_job(job: LoadJob, loop_name: str) -> dict[str, Any]:
    requests = job.requests()
    connections = [Connection(job.host, job.port) for _ in range(job.concurrency)]
    opened = await asyncio.gather(
        *(connection.open(job.timeout_seconds) for connection in connections), return_exceptions=True
    )
    failures = [outcome for outcome in opened if isinstance(outcome, BaseException)]
    if failures:
        await asyncio.gather(*(connection.close() for connection in connections))
        raise failures[0]

    async def phase(bodies: list[bytes], tally: Tally) -> None:
        shared = iter(bodies)
        await asyncio.gather(*(post_all(one, shared, tally, job.timeout_seconds) for one in connections))

    watchdog = asyncio.create_task(watch(connections, job.timeout_seconds))
    await phase(requests[: job.warmup], Tally())
    measured, rest = Tally(), requests[job.warmup :]
    opened_before = sum(connection.opened for connection in connections)
    # Everything made so far lives to the end: keep it out of the collector's
    # scans, so that a pause of this process does not read as the server's.
    gc.collect()
    gc.freeze()
    cpu_started, started = time.process_time(), time.perf_counter()
    await phase(rest, measured)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    reconnects = sum(connection.opened for connection in connections) - opened_before
    watchdog.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watchdog
    await asyncio.gather(*(connection.close() for connection in connections))
    return summary(measured, seconds, job, reconnects=reconnects, cpu_seconds=cpu_seconds, loop_name=loop_name)


def summary(
    tally: Tally, seconds: float, job: LoadJob, *, reconnects: int, cpu_seconds: float, loop_name: str
) -> dict[str, Any]:
    ordered = sorted(tally.latencies)
    percentiles: dict[str, float | None] = {f"p{percent}_ms": None for percent in PERCENTILES}
    percentiles["max_ms"] = None
    if ordered:
        percentiles = {f"p{percent}_ms": round(nearest_rank(ordered, percent) * 1000, 3) for percent in PERCENTILES}
        percentiles["max_ms"] = round(ordered[-1] * 1000, 3)
    return {
        "requests": len(ordered),
        "seconds": round(seconds, 6),
        "per_second": round(len(ordered) / seconds, 1),
        **percentiles,
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(sorted(tally.errors.items())),
        "reconnects": reconnects,
        "client_cpu_seconds": round(cpu_seconds, 3),
        "concurrency": job.concurrency,
        "warmup": job.warmup,
        "loop": loop_name,
    }


def event_loop_factory() -> tuple[str, Callable[[], asyncio.AbstractEventLoop] | None]:
    """uvloop's loop when it is installed (it comes with uvicorn[standard]), else asyncio's."""
    try:
        uvloop = importlib.import_module("uvloop")  # optional: not a dependency of the project
    except ImportError:
        return "asyncio", None
    new_event_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return "uvloop", new_event_loop


def run_in_loop(coroutine: Coroutine[Any, Any, dict[str, Any]], loop_factory: Callable[[], Any] | None) -> Any:
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(coroutine)


def main() -> None:
    """Read one job from stdin, print one result to stdout; exit non-zero with a reason on stderr."""
    try:
        job = LoadJob.from_json(json.loads(sys.stdin.read()))
    except ValueError as error:  # json.JSONDecodeError is one too
        sys.exit(f"{MODULE}: invalid job: {error}")
    loop_name, loop_factory = event_loop_factory()
    try:
        result = run_in_loop(run_job(job, loop_name), loop_factory)
    except OSError as error:
        sys.exit(f"{MODULE}: cannot connect to {job.host}:{job.port}: {error}")
    print(json.dumps(result))


def run_load(job: dict[str, Any], *, timeout_seconds: float | None = None) -> dict[str, Any]:
    """Run the load generator in a process of its own on `job` and return its result.

    Raises LoadFailed (with the child's stderr) when the child fails, and
    subprocess.TimeoutExpired when it outlives `timeout_seconds`.
    """
    completed = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", MODULE],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout_seconds,
        # `-m` looks in the working directory first: the child runs this very
        # checkout's module, whatever else the environment has installed.
        cwd=Path(__file__).resolve().parents[2],
    )
    if completed.returncode != 0:
        raise LoadFailed(returncode=completed.returncode, stderr=completed.stderr)
    try:
        result: dict[str, Any] = json.loads(completed.stdout)
    except ValueError:
        stderr = f"not JSON on stdout: {completed.stdout[:500]!r}\n{completed.stderr}"
        raise LoadFailed(returncode=0, stderr=stderr) from None
    return result


if __name__ == "__main__":
    main()
