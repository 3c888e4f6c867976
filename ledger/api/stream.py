"""The log over HTTP: pages of events in order, and a Server-Sent Events stream that resumes where it broke off.

`GET /v1/events?after=N` answers the events after position N, in order.
`GET /v1/events/stream` sends each event as it is committed, `id:` its log
position; a client that reconnects with `Last-Event-ID` (browsers' and
every SSE client's own behaviour) gets exactly the events after it, none
missed and none twice: positions are assigned under the write lock and
committed in their order, so a page never has a gap that fills later. The
stream is woken by this server's writer at each commit and looks again
every `POLL_SECONDS` for what other writers append.
"""

# No `from __future__ import annotations`: FastAPI reads these routes' annotations,
# which name the `reads` dependency given to `mount`, when they are defined.

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from ledger.api.problems import ProblemError
from ledger.views import EVENTS_PAGE_MAX

if TYPE_CHECKING:
    from ledger.api.app import Service

POLL_SECONDS = 0.5
PING_SECONDS = 15
STREAM_PAGE = 500


def mount(app: FastAPI, reads: Any, problems: dict[int | str, dict[str, Any]]) -> None:
    @app.get("/v1/events", tags=["events"], responses=problems)
    def events_page(
        request: Request,
        _key: reads,
        after: Annotated[int, Query(ge=0, description="Events after this log position.")] = 0,
        limit: Annotated[int, Query(ge=1, le=EVENTS_PAGE_MAX)] = 100,
        type: Annotated[list[str] | None, Query(description="Only events of these types.")] = None,
        rule: Annotated[str | None, Query(description="Only rejections under this rule.")] = None,
    ) -> dict[str, Any]:
        """The log in order: events after `after`, `next_after` to ask for the next page."""
        service: Service = request.app.state.service
        rows = service.reader.events(after=after, limit=limit, types=tuple(type or ()), rule=rule)
        return {"items": [row.to_json() for row in rows], "next_after": rows[-1].position if rows else after}

    @app.get(
        "/v1/events/stream",
        tags=["events"],
        responses={**problems, 200: {"description": "Server-Sent Events", "content": {"text/event-stream": {}}}},
    )
    async def events_stream(
        request: Request,
        _key: reads,
        after: Annotated[int | None, Query(ge=0, description="Start after this position (default: now).")] = None,
    ) -> EventSourceResponse:
        """Each event as it is committed (`id:` its position, `event:` its type,
        `data:` the event as JSON). Reconnect with `Last-Event-ID` to resume."""
        service: Service = request.app.state.service
        resumed = _resume_point(request.headers.get("last-event-id"), after)
        start: int = resumed if resumed is not None else await run_in_threadpool(service.reader.position)
        return EventSourceResponse(_events_from(service, start), ping=PING_SECONDS)


def _resume_point(last_event_id: str | None, after: int | None) -> int | None:
    if last_event_id is None:
        return after
    text = last_event_id.strip()
    if not text.isdigit():
        raise ProblemError(
            400, "invalid-last-event-id", "Last-Event-ID is not a log position", f"{text!r} is not a whole number"
        )
    return int(text)


async def _events_from(service: "Service", position: int) -> AsyncIterator[ServerSentEvent]:
    while True:
        rows = await run_in_threadpool(service.reader.events, after=position, limit=STREAM_PAGE)
        for row in rows:
            yield ServerSentEvent(
                data=json.dumps(row.to_json(), separators=(",", ":")), id=str(row.position), event=row.type
            )
            position = row.position
        if len(rows) < STREAM_PAGE:
            await service.signal.wait(POLL_SECONDS)
