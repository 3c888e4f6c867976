"""The ASGI application of `ledger serve`: routes over one sandbox's writer and readers.

`create_app(config)` opens nothing until the server starts it (the
lifespan): then the writer thread opens the ledger (catching up from its
snapshot), a reader opens the views, and requests are served. On shutdown
the server stops taking connections, lets requests in flight finish, and
the writer commits what was queued before it closes: nothing acknowledged
is lost, and nothing half-done is written (a batch commits whole or not).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, StrictBool, StrictInt, TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from domain.commands import COMMAND_ADAPTER, BaseCommand, Command, IdempotencyKey
from domain.errors import BatchRejected, IdempotencyConflict
from ledger.api import docs, queries, stream, tiles
from ledger.api.auth import KEY_CACHE_SECONDS, KeyChecker, Permission
from ledger.api.commit import MAX_COMMANDS_PER_TRANSACTION, CommitterClosed, GroupCommitter
from ledger.api.fast import CommandsFastPath, read_body
from ledger.api.keys import ApiKey
from ledger.api.logging import AccessLog
from ledger.api.models import BalanceOut, CommandResultOut, CommandsOut, HealthOut
from ledger.api.problems import ProblemError, http_problem, invalid_input, problem_response
from ledger.api.signal import LogSignal
from ledger.audit.log import AuditLog
from ledger.home import DEFAULT_HOME
from ledger.input import InputError, decode_utf8, describe_path, read_json
from ledger.sandbox import Sandbox
from ledger.serving import ServingLock, StoreServed
from ledger.store.ports import StoreLocation
from ledger.views import InvalidCursor, InvalidQuery

_failures = logging.getLogger("ledger.api.failures")
BODY_BYTES_MAX = 1024 * 1024
COMMANDS_PER_REQUEST_MAX = 1000
_IDEMPOTENCY_KEY: TypeAdapter[str] = TypeAdapter(IdempotencyKey)
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ServiceConfig:
    home: Path = DEFAULT_HOME
    database_url: str | None = None
    body_bytes_max: int = BODY_BYTES_MAX
    commands_per_request_max: int = COMMANDS_PER_REQUEST_MAX
    commands_per_transaction_max: int = MAX_COMMANDS_PER_TRANSACTION
    coalesce: bool = True  # False: one transaction per request (the benchmark's reference)
    max_wait: float = 0.0
    key_cache_seconds: float = KEY_CACHE_SECONDS
    access_log: bool = True


@dataclass
class Service:
    """What the routes share while the server runs."""

    config: ServiceConfig
    sandbox: Sandbox
    committer: GroupCommitter
    reader: Any
    keys: KeyChecker
    signal: LogSignal
    serving: ServingLock
    _audit: AuditLog | None = None

    @classmethod
    def start(cls, config: ServiceConfig, loop: asyncio.AbstractEventLoop) -> Service:
        sandbox = Sandbox.at(config.home, config.database_url)
        reader = sandbox.open_reader()
        serving = ServingLock(StoreLocation.parse(home=config.home, database_url=config.database_url))
        serving.hold()
        signal = LogSignal(loop)

        def open_writer() -> Any:
            ledger = sandbox.open_writer()
            ledger.after_commit.append(lambda _appended: signal.notify())
            return ledger

        committer = GroupCommitter(
            open_writer,
            max_commands=config.commands_per_transaction_max,
            max_wait=config.max_wait,
            coalesce=config.coalesce,
        )
        try:
            committer.start()
        except BaseException:
            reader.close()
            serving.close()
            raise
        keys = KeyChecker.over(reader.backend, cache_seconds=config.key_cache_seconds)
        return cls(config, sandbox, committer, reader, keys, signal, serving)

    def audit_log(self) -> AuditLog:
        """The audit log, read through the reader's store (the tiles' routes)."""
        if self._audit is None:
            from ledger.projections import decode_with  # noqa: PLC0415 (the audit routes only)

            backend = self.reader.backend
            self._audit = AuditLog(backend, decode_with(backend.mapper), self.sandbox.home.read_identity().origin)
        return self._audit

    def close(self) -> None:
        self.committer.close()
        self.reader.close()
        self.serving.close()


SERVING_LOCK_CHECK_SECONDS = 2.0


async def _keep_serving(service: Service) -> None:
    """Every few seconds: the serving lock is still held (see `ServingLock.keep`)."""
    while True:
        await asyncio.sleep(SERVING_LOCK_CHECK_SECONDS)
        try:
            await run_in_threadpool(service.serving.keep)
        except Exception as error:  # the database is down: tried again next time
            _failures.warning("the serving lock could not be taken again: %s", error)


bearer = HTTPBearer(auto_error=False, description="A key from 'ledger api-key create --role ...'")


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


async def authorize(request: Request, permission: Permission) -> ApiKey:
    def seen(key: ApiKey) -> None:
        request.state.key_id = key.key_id

    return await service_of(request).keys.check(request.headers.get("authorization"), permission, seen=seen)


def _needs(permission: Permission) -> Any:
    # Async, so that it runs on the event loop: a sync dependency costs a
    # thread hop per request. A key's lookup is cached; a miss is one indexed
    # read of a small table.
    async def check(request: Request, _scheme: Annotated[Any, Depends(bearer)] = None) -> ApiKey:
        return await authorize(request, permission)

    return Depends(check)


Reads = Annotated[ApiKey, _needs(Permission.READ)]
Audits = Annotated[ApiKey, _needs(Permission.AUDIT)]


def create_app(config: ServiceConfig) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service = await run_in_threadpool(Service.start, config, asyncio.get_running_loop())
        keeping = asyncio.create_task(_keep_serving(service))
        try:
            yield
        finally:
            keeping.cancel()
            await run_in_threadpool(service.close)

    app = FastAPI(
        title="Crypto bank ledger: sandbox API",
        version="1",
        summary="Commands, read-back and the event stream of one sandbox ledger.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    _handle_problems(app)
    docs.mount(app)
    _routes(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    served: Any = CommandsFastPath(app)
    if config.access_log:
        served = AccessLog(served)
    served.state = app.state
    return served  # type: ignore[no-any-return]


def _routes(app: FastAPI) -> None:
    app.get("/v1/health", response_model=HealthOut, tags=["service"])(health)
    app.post(
        "/v1/commands",
        response_model=CommandsOut | CommandResultOut,
        tags=["commands"],
        openapi_extra=_COMMANDS_DOC,
        responses=_PROBLEMS,
    )(post_commands)
    app.get("/v1/balances", response_model=list[BalanceOut], tags=["reads"], responses=_PROBLEMS)(balances)
    queries.mount(app, Reads, _PROBLEMS)
    stream.mount(app, Reads, _PROBLEMS)
    tiles.mount(app, Audits, _PROBLEMS)
    app.post("/v1/sandbox/reset", tags=["sandbox"], responses=_PROBLEMS)(reset)
    app.post("/v1/sandbox/clock", tags=["sandbox"], responses=_PROBLEMS)(set_clock)
    app.get("/v1/sandbox/clock", tags=["sandbox"], responses=_PROBLEMS)(get_clock)
    app.get("/v1/reports/compliance", tags=["reads"], responses=_PROBLEMS)(report_compliance)
    app.get("/v1/reports/settlements", tags=["reads"], responses=_PROBLEMS)(report_settlements)


# Routes.


def health(request: Request) -> dict[str, Any]:
    """Whether the service is up, how far its views have read the log, and
    what its writer has committed since it started (no key needed)."""
    service = service_of(request)
    stats = service.committer.stats()
    return {
        "status": "ok",
        "log_position": service.reader.position(),
        "writer": {"transactions": stats.transactions, "commands": stats.commands, "retries": stats.retries},
    }


async def post_commands(request: Request) -> Response:
    """One command or a JSON array of them (the JSONL schema). Each gets its
    result: accepted, or rejected under a rule (a recorded refusal, not an
    error). A batch is decided in order and commits whole; an invalid command
    writes nothing of its request and is answered with a problem naming its
    position and field. `Idempotency-Key` sets a single command's key."""
    # Served by `fast.CommandsFastPath` in front of FastAPI; this route gives
    # the OpenAPI document its operation (`_COMMANDS_DOC` declares the key
    # and the header) and answers the same if it is ever reached.
    service = service_of(request)
    body = await read_body(request.receive, request.headers.get("content-length"), service.config.body_bytes_max)

    def seen(key: ApiKey) -> None:
        request.state.key_id = key.key_id

    headers = request.headers
    status, extra, payload = await run_commands(
        service,
        headers.get("authorization"),
        headers.get("idempotency-key"),
        body,
        seen,
        content_type=headers.get("content-type"),
    )
    return Response(payload, status_code=status, media_type="application/json", headers=extra)


async def run_commands(
    service: Service,
    authorization: str | None,
    idempotency_key: str | None,
    body: bytes,
    seen: Callable[[ApiKey], None],
    *,
    content_type: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """The status, extra headers and JSON body answering POST /v1/commands;
    a `ProblemError` for every failure."""
    await service.keys.check(authorization, Permission.WRITE, seen=seen)
    _check_json_media_type(content_type)
    data = _json_body(body)
    batch = isinstance(data, list)
    commands = _commands(data, idempotency_key, service.config.commands_per_request_max)
    try:
        # Shielded: a request cancelled while queued (a client gone, the
        # shutdown's deadline) leaves its commands to the writer, which
        # decides them and tells nobody; it never stops the writer.
        results = await asyncio.shield(asyncio.wrap_future(service.committer.submit(commands)))
    except BatchRejected as rejected:
        raise _refusal(rejected, batch=batch) from None
    except CommitterClosed:
        raise ProblemError(503, "shutting-down", "The service is shutting down", "retry on another server") from None
    if batch:
        return 200, {}, _JSON.encode({"results": [result.to_json() for result in results]}).encode()
    (result,) = results
    headers = {"Idempotent-Replayed": "true"} if result.repeated else {}
    return 200, headers, _JSON.encode(result.to_json()).encode()


async def reset(request: Request, _key: Annotated[ApiKey, _needs(Permission.WRITE)]) -> dict[str, Any]:
    """Starts the sandbox over: an empty ledger with the bank established
    again. The bank's identity, signing key and the API keys are kept.
    Commands queued before it are committed first; none run during it."""
    service = service_of(request)
    reset = service.committer.call(lambda _ledger: service.sandbox.reset(serving=service.serving), reopen=True)
    try:
        await asyncio.wrap_future(reset)
    except StoreServed as error:
        raise ProblemError(409, "store-served", "Another server serves this ledger", str(error)) from None
    service.signal.notify()
    return {"reset": True, "log_position": service.reader.position()}


class ClockChange(BaseModel):
    """Exactly one of `frozen_at`, `advance_seconds`, `release`; `key` is the
    command's idempotency key (or send `Idempotency-Key`; without either, one is made)."""

    model_config = ConfigDict(extra="forbid")

    key: str | None = None
    frozen_at: AwareDatetime | None = None
    advance_seconds: StrictInt | None = None
    release: StrictBool = False


async def set_clock(
    request: Request,
    change: ClockChange,
    _key: Annotated[ApiKey, _needs(Permission.WRITE)],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """The sandbox's test clock: freeze it, move it on, or release it to real
    time, recorded as a `set_sandbox_clock` command and its event. While it is
    frozen, commands without a `ledger_time` happen at its time; moving it on
    flags the settlements whose deadlines it passed."""
    if change.key and idempotency_key and change.key != idempotency_key:
        raise ProblemError(
            400,
            "idempotency-key-mismatch",
            "Two different keys",
            f"the Idempotency-Key header ({idempotency_key!r}) and the body's key ({change.key!r}) differ",
        )
    if change.advance_seconds is not None and not (change.key or idempotency_key):
        raise ProblemError(
            400,
            "idempotency-key-required",
            "Moving the clock on needs a key",
            "send Idempotency-Key (or 'key'), so that a retried request does not move the clock twice",
        )
    key = change.key or idempotency_key or f"clock:{uuid.uuid4()}"
    fields = change.model_dump(exclude={"key"}, exclude_none=True, exclude_defaults=True)
    body = json.dumps({"type": "set_sandbox_clock", "key": key, **fields}, default=str).encode()
    service = service_of(request)
    _status, _headers, payload = await run_commands(
        service, request.headers.get("authorization"), None, body, lambda _key: None
    )
    clock = await _clock(service)
    return {"result": json.loads(payload), "frozen_at": clock.isoformat() if clock else None}


async def _clock(service: Service) -> datetime | None:
    """The test clock as the log has it now (other writers' changes included)."""

    def read(ledger: Any) -> datetime | None:
        ledger.catch_up()
        frozen: datetime | None = ledger.state.sandbox_clock
        return frozen

    return await asyncio.wrap_future(service.committer.call(read))


async def get_clock(request: Request, _key: Reads) -> dict[str, Any]:
    """Where the test clock stands: `frozen_at`, or null when it runs with real time."""
    clock = await _clock(service_of(request))
    return {"frozen_at": clock.isoformat() if clock else None}


def balances(
    request: Request,
    _key: Reads,
    system: Annotated[bool, Query(description="System accounts too (issuance, clearing, fees).")] = False,
) -> list[dict[str, str]]:
    """Every account's balance per asset, from the views."""
    rows = service_of(request).reader.balances(include_system=system)
    return [
        {"account": r.account, "asset": r.asset, "amount": r.amount, "amount_minor": str(r.amount_minor)} for r in rows
    ]


def report_compliance(request: Request, _key: Reads) -> dict[str, Any]:
    """Recorded rejections by rule, client, venue and day."""
    from ledger.reports import compliance  # noqa: PLC0415

    report: dict[str, Any] = compliance(service_of(request).reader)
    return report


def report_settlements(request: Request, _key: Reads) -> dict[str, Any]:
    """Cross-border settlements: outstanding, overdue, share returned, volume by country."""
    from ledger.reports import settlements  # noqa: PLC0415

    report: dict[str, Any] = settlements(service_of(request).reader)
    return report


# Reading a request.


def _json_body(body: bytes) -> Any:
    """The body's JSON, read as `ledger submit` reads a line (`ledger.input`):
    UTF-8, no duplicate keys, within the depth and string limits."""
    try:
        return read_json(decode_utf8(body))
    except InputError as error:
        position = error.path[0] if error.path and isinstance(error.path[0], int) else None
        field = describe_path(error.path[1:] if position is not None else error.path) or None
        where = f"command {position}, " if position is not None else ""
        where += f"{field}: " if field else ""
        raise ProblemError(
            400,
            "malformed-json",
            "The body is not acceptable JSON",
            f"{where}{error.message}; nothing was written",
            position=position,
            field=field,
        ) from None


def _check_json_media_type(content_type: str | None) -> None:
    """A body declared as anything but JSON is refused (415): `curl -d`
    alone declares a form. No Content-Type at all is read as JSON."""
    if content_type is None:
        return
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return
    raise ProblemError(
        415,
        "unsupported-media-type",
        "The body must be JSON",
        f"the body was declared as {media or 'nothing'!r}; send it as 'Content-Type: application/json' "
        "(with curl: --json, or -H 'Content-Type: application/json')",
    )


def _commands(data: Any, idempotency_key: str | None, limit: int) -> list[BaseCommand]:
    if isinstance(data, list):
        if idempotency_key is not None:
            raise ProblemError(
                400,
                "idempotency-key-on-batch",
                "Idempotency-Key names one command",
                "a batch's commands carry their own keys: send 'key' in each, not the Idempotency-Key header",
            )
        if not data:
            raise ProblemError(400, "empty-batch", "The batch is empty", "send at least one command")
        if len(data) > limit:
            raise ProblemError(
                413,
                "batch-too-large",
                "The batch has too many commands",
                f"{len(data)} commands sent; a request holds at most {limit}",
            )
        return [_command(item, position) for position, item in enumerate(data)]
    if not isinstance(data, dict):
        raise ProblemError(
            400, "not-a-command", "The body is not a command", "send a JSON object (one command) or an array of them"
        )
    if idempotency_key is not None:
        data = _keyed(data, idempotency_key)
    return [_command(data, None)]


def _keyed(data: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
    try:
        _IDEMPOTENCY_KEY.validate_python(idempotency_key)
    except ValidationError:
        raise ProblemError(
            400,
            "invalid-idempotency-key",
            "The Idempotency-Key header is not valid",
            "an idempotency key is 1 to 128 printable ASCII characters, no spaces",
        ) from None
    if "key" in data and data["key"] != idempotency_key:
        raise ProblemError(
            400,
            "idempotency-key-mismatch",
            "Two different keys",
            f"the Idempotency-Key header ({idempotency_key!r}) and the command's key ({data['key']!r}) differ",
        )
    return {**data, "key": idempotency_key}


def _command(item: Any, position: int | None) -> BaseCommand:
    try:
        command: BaseCommand = COMMAND_ADAPTER.validate_python(item)
    except ValidationError as error:
        raise invalid_input(error, position) from None
    return command


def _refusal(rejected: BatchRejected, *, batch: bool) -> ProblemError:
    cause = rejected.cause
    position = rejected.position if batch else None
    where = f"command {rejected.position} ({rejected.key!r}): " if batch else ""
    if isinstance(cause, IdempotencyConflict):
        return ProblemError(
            409,
            "idempotency-conflict",
            "The idempotency key was used for another command",
            f"{where}{cause.message}; nothing was written",
            position=position,
            key=rejected.key,
            code=cause.code,
            first_digest=str(cause.context["first_digest"]),
            digest=str(cause.context["digest"]),
        )
    return ProblemError(
        422,
        "invalid-command",
        "A command is not valid",
        f"{where}{cause.message}; nothing was written",
        position=position,
        key=rejected.key,
        code=cause.code,
    )


# Problems for every failure.


def _handle_problems(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def problem(_request: Request, error: ProblemError) -> Response:
        return problem_response(error.problem, error.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> Response:
        found = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]} for item in error.errors()
        ]
        first = found[0] if found else {"field": "(the request)", "message": "not valid"}
        problem = {
            "type": "/problems/invalid-parameter",
            "title": "A parameter is not valid",
            "status": 400,
            "detail": f"{first['field']}: {first['message']}",
            "field": first["field"],
            "errors": found,
        }
        return problem_response(problem)

    @app.exception_handler(InvalidQuery)
    async def invalid_query(_request: Request, error: InvalidQuery) -> Response:
        kind = "invalid-cursor" if isinstance(error, InvalidCursor) else "invalid-parameter"
        return problem_response(_problem(400, f"/problems/{kind}", "A parameter is not valid", str(error)))

    @app.exception_handler(Exception)
    async def failure(_request: Request, error: Exception) -> Response:
        return problem_response(failure_problem(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> Response:
        problem = http_problem(error.status_code, _reason(error.status_code), str(error.detail))
        return problem_response(problem, dict(error.headers or {}))


def failure_problem(error: Exception) -> dict[str, Any]:
    """A 503 for a store that cannot be used; a 500 (logged, with its traceback) for anything else."""
    from ledger.cli.edges import describe_failure  # noqa: PLC0415 (the one reading of store failures)

    described = describe_failure(error)
    if described is not None and not isinstance(error, ValidationError):
        return _problem(503, "/problems/store-unavailable", "The store could not be used", described)
    _failures.error("request failed", exc_info=error)
    return _problem(500, "about:blank", "Internal Server Error", "the service failed; its log has the details")


def _problem(status: int, kind: str, title: str, detail: str) -> dict[str, Any]:
    return {"type": kind, "title": title, "status": status, "detail": detail}


def _reason(status: int) -> str:
    from http import HTTPStatus  # noqa: PLC0415

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# The OpenAPI document: the commands' own schemas, and the problems.

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for status, description in {
        400: "Malformed request (RFC 9457 problem)",
        401: "No valid API key",
        403: "The key's role may not do this",
        409: "Idempotency key used for another command",
        413: "Body or batch too large",
        415: "The body is not declared as JSON",
        422: "A command is not valid (position and field named)",
    }.items()
}
_COMMANDS_DOC = {
    "security": [{"HTTPBearer": []}],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Command"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/Command"}, "maxItems": 1000},
                    ]
                }
            }
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "A single command's key (its 'key' may then be left out); a repeat with the same "
            "key and body returns the first result, marked 'Idempotent-Replayed: true'.",
            "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,128}$"},
        }
    ],
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    from ledger.api.problems import Problem  # noqa: PLC0415

    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes, openapi_version="3.1.0"
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    template = "#/components/schemas/{model}"
    command = TypeAdapter(Command).json_schema(ref_template=template)
    components.update(command.pop("$defs", {}))
    components["Command"] = command
    problem = Problem.model_json_schema(ref_template=template)
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    app.openapi_schema = schema
    return schema
