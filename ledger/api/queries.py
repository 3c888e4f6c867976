"""Reading back over HTTP: transactions and rejections, filtered and paged with an opaque cursor; the clients."""

# No `from __future__ import annotations`: FastAPI reads these routes' annotations,
# which name the `reads` dependency given to `mount`, when they are defined.

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import FastAPI, Query, Request

from ledger.api.problems import ProblemError
from ledger.views import TRANSACTIONS_PAGE_MAX, InvalidCursor, TransactionFilter

if TYPE_CHECKING:
    from ledger.api.app import Service

METADATA_FILTER = "metadata[NAME]=VALUE"


def mount(app: FastAPI, reads: Any, problems: dict[int | str, dict[str, Any]]) -> None:
    @app.get("/v1/transactions", tags=["reads"], responses=problems)
    def transactions(
        request: Request,
        _key: reads,
        client: Annotated[str | None, Query(description="A client the transaction concerns.")] = None,
        account: Annotated[str | None, Query(description="An account it posts to, like client:alesia.")] = None,
        asset: Annotated[str | None, Query()] = None,
        type: Annotated[str | None, Query(description="The command's type, like deposit.")] = None,
        status: Annotated[Literal["accepted", "rejected"] | None, Query()] = None,
        rule: Annotated[str | None, Query(description="The rule code of a rejection.")] = None,
        venue: Annotated[str | None, Query()] = None,
        since: Annotated[datetime | None, Query(description="Ledger time from (inclusive), RFC 3339.")] = None,
        until: Annotated[datetime | None, Query(description="Ledger time until (exclusive), RFC 3339.")] = None,
        limit: Annotated[int, Query(ge=1, le=TRANSACTIONS_PAGE_MAX)] = 50,
        cursor: Annotated[str | None, Query(description="next_cursor of the page before.")] = None,
    ) -> dict[str, Any]:
        """Recorded transactions and rejections, newest first. Filters combine;
        `metadata[NAME]=VALUE` (repeatable) matches the command's metadata.
        Pass `next_cursor` back as `cursor` for the next page: pages stay
        correct while new transactions arrive (they go before the first page)."""
        service: Service = request.app.state.service
        where = TransactionFilter(
            client=client,
            account=account,
            asset=asset,
            command_type=type,
            status=status,
            rule=rule,
            venue=venue,
            since=since,
            until=until,
            metadata=_metadata_filters(request),
        )
        try:
            page = service.reader.transactions(where, limit=limit, cursor=cursor)
        except InvalidCursor as error:
            raise ProblemError(400, "invalid-cursor", "The cursor is not valid", str(error), field="cursor") from None
        return {"items": [row.to_json() for row in page.items], "next_cursor": page.next_cursor}

    @app.get("/v1/clients", tags=["reads"], responses=problems)
    def clients(request: Request, _key: reads) -> dict[str, Any]:
        """Every client with its lifecycle: KYC status and expiry, frozen (and why), offboarded (and when)."""
        service: Service = request.app.state.service
        return {"items": [row.to_json() for row in service.reader.clients()]}

    @app.get("/v1/transactions/{key}", tags=["reads"], responses=problems)
    def transaction(request: Request, key: str, _key: reads) -> dict[str, Any]:
        """One transaction or rejection by its command's idempotency key."""
        service: Service = request.app.state.service
        row = service.reader.transaction(key)
        if row is None:
            raise ProblemError(404, "no-such-transaction", "No such transaction", f"no command with key {key!r}")
        result: dict[str, Any] = row.to_json()
        return result


def _metadata_filters(request: Request) -> tuple[tuple[str, str], ...]:
    pairs = []
    for name, value in request.query_params.multi_items():
        if name.startswith("metadata[") and name.endswith("]") and len(name) > len("metadata[]"):
            pairs.append((name[len("metadata[") : -1], value))
        elif name.startswith("metadata"):
            raise ProblemError(
                400, "invalid-parameter", "A parameter is not valid", f"{name!r}: write {METADATA_FILTER}", field=name
            )
    return tuple(pairs)
