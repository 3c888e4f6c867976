"""One log record per request: what was asked, by which key id (never the key), and how it went.

A pure ASGI middleware (Starlette's `BaseHTTPMiddleware` costs a task per
request). Records go to the `ledger.api.access` logger with their fields
(`request_id`, `method`, `path`, `status`, `duration_ms`, `bytes`, `key_id`,
`client`), which `ledger serve` writes to standard error as text or, with
`--log-format json`, as one JSON object a line (`ledger.logs`); the query
string is left out (it may hold metadata values a bank would not want in logs).
"""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.logs import ACCESS_LOGGER

access_logger = logging.getLogger(ACCESS_LOGGER)


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        status = 500
        sent = 0

        async def send_logged(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                _log_request(scope, request_id, status, sent, started)


def _log_request(scope: Scope, request_id: str, status: int, sent: int, started: float) -> None:
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    state = scope.get("state") or {}
    access_logger.info(
        "%s %s %d %.2f ms",
        scope["method"],
        scope["path"],
        status,
        duration_ms,
        extra={
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": duration_ms,
            "bytes": sent,
            "key_id": state.get("key_id"),
            "client": (scope.get("client") or ("?", 0))[0],
        },
    )
