"""The HTTP load generator against a real HTTP/1.1 server: every body posted once, every answer counted."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ledger.bench.http_load import LoadFailed, nearest_rank, run_load

TOKEN = "Bearer test-key"
REJECT = "reject"  # a body holding this is answered 422
DROP = "drop"  # a body holding this is read, recorded, and its connection closed unanswered
HANG = "hang"  # a body holding this is answered never: its handler waits until the server stops


class RecordingServer(ThreadingHTTPServer):
    """A stdlib server that records every body it reads and the connection it came on."""

    daemon_threads = True
    request_queue_size = 128  # 5 by default: more workers than that connect at once

    def __init__(self, *, close_every: int = 0, chunked_every: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), RecordingHandler)
        self.close_every = close_every
        self.chunked_every = chunked_every
        self.lock = threading.Lock()
        self.bodies: list[str] = []
        self.connections: set[int] = set()
        self.authorizations: set[str | None] = set()
        self.stopping = threading.Event()

    def record(self, body: str, client_port: int, authorization: str | None) -> int:
        with self.lock:
            self.bodies.append(body)
            self.connections.add(client_port)
            self.authorizations.add(authorization)
            return len(self.bodies)


class RecordingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless a response says Connection: close
    # The head and the body go out as two writes: with Nagle's algorithm the
    # second waits for the client's delayed ACK, 40 ms a response.
    disable_nagle_algorithm = True
    server: RecordingServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        count = self.server.record(body, self.client_address[1], self.headers["Authorization"])
        if HANG in body:
            self.server.stopping.wait()
        if DROP in body or HANG in body:
            self.close_connection = True
            return
        payload = json.dumps({"count": count}).encode()
        self.send_response(422 if REJECT in body else 200)
        self.send_header("Content-Type", "application/json")
        if self.server.close_every and count % self.server.close_every == 0:
            self.send_header("Connection", "close")
        if self.server.chunked_every and count % self.server.chunked_every == 0:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(payload) // 2
            for chunk in (payload[:half], payload[half:], b""):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            return
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a line per request would drown the test's output."""


@contextmanager
def serving(**options: int) -> Iterator[RecordingServer]:
    server = RecordingServer(**options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join()


def job(port: int, bodies: list[str], *, concurrency: int = 8, warmup: int = 50, **extra: Any) -> dict[str, Any]:
    return extra | {
        "host": "127.0.0.1",
        "port": port,
        "path": "/v1/commands",
        "headers": {"Authorization": TOKEN, "Content-Type": "application/json"},
        "bodies": bodies,
        "concurrency": concurrency,
        "warmup": warmup,
    }


def commands(count: int, marked: dict[int, str] | None = None) -> list[str]:
    """Distinct JSON bodies; body n holds `marked[n]` when given (REJECT, DROP or HANG)."""
    marks = marked or {}
    return [json.dumps({"key": f"load:{n}", "note": marks.get(n, "")}) for n in range(count)]


def test_every_body_reaches_the_server_exactly_once_over_one_connection_per_worker() -> None:
    bodies = commands(500)
    with serving() as server:
        result = run_load(job(server.server_address[1], bodies))
    # Each body arrived once, with the job's headers, on 8 keep-alive connections.
    assert sorted(server.bodies) == sorted(bodies)
    assert len(set(server.bodies)) == 500
    assert server.authorizations == {TOKEN}
    assert len(server.connections) == 8
    # The 450 after the warm-up are measured, all answered 200, none failed.
    assert result["requests"] == 450
    assert result["statuses"] == {"200": 450}
    assert result["errors"] == 0
    assert result["reconnects"] == 0
    assert result["per_second"] == pytest.approx(450 / result["seconds"], rel=0.01)
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]


def test_closed_chunked_rejected_and_dropped_answers_are_each_counted_once() -> None:
    marked = dict.fromkeys(range(100, 500, 10), REJECT) | dict.fromkeys(range(105, 500, 50), DROP)
    bodies = commands(500, marked)
    with serving(close_every=7, chunked_every=3) as server:
        result = run_load(job(server.server_address[1], bodies, concurrency=16, warmup=100))
    # A dropped request is not posted again: still each body exactly once.
    assert sorted(server.bodies) == sorted(bodies)
    # Of the 400 measured: 8 dropped unanswered, 40 rejected, the rest accepted.
    assert result["errors"] == 8
    assert result["error_kinds"] == {"IncompleteReadError": 8}
    assert result["statuses"] == {"200": 352, "422": 40}
    assert result["requests"] == sum(result["statuses"].values()) == 400 - result["errors"]
    # Each close and each drop makes its worker connect again before its next
    # request: a worker closed at the end of the warm-up reconnects in the
    # measured part, one closed at the very end never does.
    closes = 400 // 7
    assert closes - 16 <= result["reconnects"] <= closes + 8 + 16
    assert result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]


def test_a_request_past_its_timeout_is_counted_as_one_and_the_others_go_on() -> None:
    bodies = commands(60, {20: HANG})
    with serving() as server:
        result = run_load(job(server.server_address[1], bodies, concurrency=4, warmup=0, timeout_seconds=0.3))
    assert sorted(server.bodies) == sorted(bodies)
    assert result["error_kinds"] == {"TimeoutError": 1}
    assert result["statuses"] == {"200": 59}
    # The hung request has no latency: it is an error, not a slow answer.
    assert result["max_ms"] < 300


def test_a_job_the_generator_rejects_fails_with_its_reason() -> None:
    with pytest.raises(LoadFailed, match=r"concurrency must be in 1\.\.512, not 0") as failure:
        run_load(job(8123, commands(10), concurrency=0, warmup=0))
    assert failure.value.returncode != 0


def test_a_server_that_is_not_listening_fails_the_run_before_it_starts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nobody listens on it once closed
    with pytest.raises(LoadFailed, match=f"cannot connect to 127.0.0.1:{port}"):
        run_load(job(port, commands(10), warmup=0))


def test_percentiles_are_taken_by_nearest_rank() -> None:
    hundred = [float(n) for n in range(1, 101)]
    assert nearest_rank(hundred, 50) == 50.0
    assert nearest_rank(hundred, 99) == 99.0
    assert nearest_rank([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert nearest_rank([1.0, 2.0, 3.0], 99) == 3.0
    assert nearest_rank([7.0], 50) == 7.0
