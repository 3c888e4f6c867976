"""One structured line per request: what was asked, by which key id (never the key), and how it went.

A pure ASGI middleware (Starlette's `BaseHTTPMiddleware` costs a task per
request). Lines are JSON on the `ledger.api.access` logger, which `ledger
serve` sends to standard error; the query string is left out (it may hold
metadata values a bank would not want in logs).
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("ledger.api.access")


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
                state = scope.get("state") or {}
                access_logger.info(
                    json.dumps(
                        {
                            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                            "request_id": request_id,
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "ms": round((time.perf_counter() - started) * 1000, 2),
                            "bytes": sent,
                            "key_id": state.get("key_id"),
                            "client": (scope.get("client") or ("?", 0))[0],
                        },
                        separators=(",", ":"),
                    )
                )
