"""POST /v1/commands straight to its handler, in front of FastAPI's routing and middleware.

Measured on the 2-core machine, FastAPI's stack (its six middleware layers,
routing, dependency solving) cost more per request than deciding and
committing the command; the hot path skips it. Everything else, the OpenAPI
document's operation for this path included, stays FastAPI's, and the
FastAPI route answers the same (`app.run_commands` is shared).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.api.keys import ApiKey
from ledger.api.problems import PROBLEM_MEDIA_TYPE, ProblemError

_JSON_MEDIA_TYPE = b"application/json"
OTHER_BODY_BYTES_MAX = 64 * 1024
# Two Authorization headers: which one counts would depend on the parser, so neither does.
_TWO_KEYS = ProblemError(
    400, "ambiguous-authorization", "More than one Authorization header", "send one 'Authorization: Bearer KEY'"
)


class CommandsFastPath:
    def __init__(self, app: Any) -> None:
        self.app: ASGIApp = app
        self.fastapi = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(name == b"authorization" for name, _ in scope["headers"]) > 1:
            await _send_problem(send, _TWO_KEYS)
            return
        if scope["path"] != "/v1/commands" or scope["method"] != "POST":
            await self._other(scope, receive, send)
            return
        from ledger.api.app import failure_problem, run_commands  # noqa: PLC0415 (app imports this module)

        service = self.fastapi.state.service
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        state = scope.setdefault("state", {})

        def seen(key: ApiKey) -> None:
            state["key_id"] = key.key_id

        media = _JSON_MEDIA_TYPE
        try:
            body = await read_body(receive, headers.get("content-length"), service.config.body_bytes_max)
            status, extra, payload = await run_commands(
                service,
                headers.get("authorization"),
                headers.get("idempotency-key"),
                body,
                seen,
                content_type=headers.get("content-type"),
            )
        except ProblemError as error:
            status, extra, payload = error.status, error.headers, _encoded(error.problem)
            media = PROBLEM_MEDIA_TYPE.encode()
        except Exception as error:  # answered as a problem, as FastAPI's handler would
            problem = failure_problem(error)
            status, extra, payload = int(problem["status"]), {}, _encoded(problem)
            media = PROBLEM_MEDIA_TYPE.encode()
        response_headers = [(b"content-type", media), (b"content-length", str(len(payload)).encode())]
        response_headers += [(name.lower().encode(), value.encode()) for name, value in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Every other route takes small bodies (FastAPI reads a body before
        it checks the key): 413 beyond `OTHER_BODY_BYTES_MAX`, declared or
        sent. The body is read here, and handed on whole."""
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > OTHER_BODY_BYTES_MAX:
            await _send_problem(send, _too_large(int(declared), OTHER_BODY_BYTES_MAX))
            return
        try:
            body = await read_body(receive, declared.decode() if declared else None, OTHER_BODY_BYTES_MAX)
        except ProblemError as error:
            await _send_problem(send, error)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _send_problem(send: Send, error: ProblemError) -> None:
    payload = _encoded(error.problem)
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ProblemError(400, "client-gone", "The client went away", "the request body did not arrive")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(size: int, limit: int) -> ProblemError:
    return ProblemError(
        413, "body-too-large", "The request body is too large", f"{size} bytes or more sent; the limit is {limit}"
    )


def _encoded(problem: dict[str, Any]) -> bytes:
    return json.dumps(problem, separators=(",", ":")).encode()
