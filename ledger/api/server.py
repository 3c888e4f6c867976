"""Running the service: uvicorn on a socket bound here, so that `--port 0` can say which port it got.

SIGINT or SIGTERM shut it down gracefully: no new connections, requests in
flight answered (for up to `graceful_seconds`), then the writer commits what
was queued and closes.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from ledger.api.app import ServiceConfig, create_app

GRACEFUL_SECONDS = 10


def serve(
    config: ServiceConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    graceful_seconds: int = GRACEFUL_SECONDS,
    announce: Callable[[str], None] | None = None,
) -> None:
    _log_requests_to_stderr(config.access_log)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.listen(2048)
    bound_port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            lifespan="on",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=graceful_seconds,
            server_header=False,
            backlog=2048,
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


def _log_requests_to_stderr(enabled: bool) -> None:
    logger = logging.getLogger("ledger.api.access")
    logger.propagate = False
    logger.setLevel(logging.INFO if enabled else logging.WARNING)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
