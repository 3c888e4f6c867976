"""Running the service: uvicorn on a socket bound here, so that `--port 0` can say which port it got.

SIGINT or SIGTERM shut it down gracefully: no new connections, requests in
flight answered (for up to `graceful_seconds`), then the writer commits what
was queued and closes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ledger.api.app import ServiceConfig, create_app
from ledger.logs import service_config

GRACEFUL_SECONDS = 10
CONNECTIONS_MAX = 1024


def serve(
    config: ServiceConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    graceful_seconds: int = GRACEFUL_SECONDS,
    announce: Callable[[str], None] | None = None,
) -> None:
    serve_app(
        create_app(config),
        host=host,
        port=port,
        graceful_seconds=graceful_seconds,
        announce=announce,
        access_log=config.access_log,
    )


def serve_app(
    app: object,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    graceful_seconds: int = GRACEFUL_SECONDS,
    announce: Callable[[str], None] | None = None,
    access_log: bool = True,
) -> None:
    """Any ASGI app of ours (the ledger's service, a witness) on uvicorn, as
    `serve` describes. Its records and uvicorn's go to standard error in the
    command's format (`ledger.logs`); requests are logged by the app's own
    `AccessLog` (with their duration and key id), so uvicorn's access log is off."""
    log_config = service_config(access_log=access_log)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.listen(2048)
    bound_port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,  # type: ignore[arg-type]
            lifespan="on",
            access_log=False,
            log_config=log_config,
            log_level=logging.getLogger("ledger").getEffectiveLevel(),
            timeout_graceful_shutdown=graceful_seconds,
            server_header=False,
            backlog=2048,
            http=PlainHttpToolsProtocol,
            limit_concurrency=CONNECTIONS_MAX,  # beyond it, 503: what waits in the writer's queue is bounded too
        )
    )
    url = f"http://{f'[{host}]' if family == socket.AF_INET6 else host}:{bound_port}"
    original_startup = server.startup

    async def startup(sockets: list[socket.socket] | None = None) -> None:
        await original_startup(sockets)
        if announce is not None and server.started:
            announce(url)

    server.startup = startup  # type: ignore[method-assign]
    server.capture_signals = lambda: _stopping_on_signals(server)  # type: ignore[method-assign]
    try:
        server.run(sockets=[listening])
    finally:
        listening.close()
    if not server.started:
        raise ServiceDidNotStart("the service did not start: see the message above")


class ServiceDidNotStart(Exception):
    pass


_UPGRADE_HEADER = re.compile(rb"\r\nupgrade:", re.IGNORECASE)
_DECLINED = b"\r\nxupgrad:"  # as long as what it replaces: the request's length does not change
HEAD_BYTES_MAX = 64 * 1024


class PlainHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, serving an upgrade offer as the plain
    HTTP/1.1 request it also is (RFC 9110 section 7.8), body included, and
    refusing a request head over 64 KiB with 431.

    Every JDK `HttpClient` offers `Upgrade: h2c` on a cleartext URL by
    default; uvicorn with httptools then hands the application an empty body
    (Kludex/uvicorn#2722, open). The service speaks no protocol it could
    upgrade to, so the offer's header is renamed, in the request's head only
    (the bytes up to its blank line, gathered across reads) and to a name of
    the same length: a body is never touched. h11 does not have the defect
    but costs a third of the service's throughput.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head = b""
        self._in_head = True
        super().connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            data = self._head + data
            end = data.find(b"\r\n\r\n")
            if end < 0 or end > HEAD_BYTES_MAX:
                if len(data) > HEAD_BYTES_MAX:
                    self._refuse_large_head()
                    return
                self._head = data
                return
            self._head = b""
            head = data[: end + 2]
            if b"pgrade" in head.lower():
                data = _UPGRADE_HEADER.sub(_DECLINED, head) + data[end + 2 :]
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # what follows on this connection is the next request's head

    def _refuse_large_head(self) -> None:
        body = json.dumps(
            {
                "type": "/problems/head-too-large",
                "title": "Request head too large",
                "status": 431,
                "detail": f"the request line and headers exceed {HEAD_BYTES_MAX} bytes",
            }
        ).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/problem+json\r\n"
            b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        self.transport.close()


@contextmanager
def _stopping_on_signals(server: uvicorn.Server) -> Iterator[None]:
    """SIGINT and SIGTERM start the graceful shutdown, as uvicorn's own
    handling does, but the process then exits normally (status 0, after
    saying so) instead of re-raising the signal."""
    handled = (signal.SIGINT, signal.SIGTERM)
    original = {sig: signal.signal(sig, server.handle_exit) for sig in handled}
    try:
        yield
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
