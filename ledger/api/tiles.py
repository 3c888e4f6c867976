"""The audit log over HTTP as C2SP tlog-tiles: the checkpoint, the tiles, the entry bundles.

Paths, content types and caching as the spec says: `/log/checkpoint` (text,
cached a few seconds at most), `/log/tile/<L>/<N>[.p/<W>]` and
`/log/tile/entries/<N>[.p/<W>]` (bytes, immutable). A tile is served only
within the latest signed checkpoint, a partial one only at a width some
signed checkpoint needs, so nothing unsigned leaks. The leaves are the
bank's clients' transactions: the routes need a supervisor's key.
"""

# No `from __future__ import annotations`: FastAPI reads these routes' annotations,
# which name the `audits` dependency given to `mount`, when they are defined.

import gzip
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from ledger.api.problems import ProblemError
from ledger.audit.log import AuditLog
from ledger.audit.tiles import (
    CHECKPOINT_MEDIA_TYPE,
    TILE_HEIGHT,
    TILE_MEDIA_TYPE,
    TILE_WIDTH,
    TileName,
    entry_bundle,
    parse_tile_path,
)
from ledger.audit.witnessing import with_cosignatures

if TYPE_CHECKING:
    from ledger.api.app import Service

CHECKPOINT_CACHE = "no-cache, max-age=2"
TILE_CACHE = "private, max-age=31536000, immutable"  # private: the routes need a key


def mount(app: FastAPI, audits: Any, problems: dict[int | str, dict[str, Any]]) -> None:
    @app.get("/log/checkpoint", tags=["audit"], responses=problems, response_class=Response)
    async def checkpoint(request: Request, _key: audits) -> Response:
        """The latest signed checkpoint (C2SP tlog-checkpoint)."""
        note = await run_in_threadpool(_latest_note, _audit_log(request))
        return Response(note, media_type=CHECKPOINT_MEDIA_TYPE, headers={"Cache-Control": CHECKPOINT_CACHE})

    @app.get("/log/tile/{path:path}", tags=["audit"], responses=problems, response_class=Response)
    async def tile(request: Request, path: str, _key: audits) -> Response:
        """A Merkle tree tile, or an entry bundle, of the signed tree (C2SP tlog-tiles)."""
        try:
            name = parse_tile_path(path)
        except ValueError as error:
            raise ProblemError(404, "no-such-tile", "No such tile", str(error)) from None
        body = await run_in_threadpool(_tile_bytes, _audit_log(request), name)
        headers = {"Cache-Control": TILE_CACHE}
        if name.entries and "gzip" in request.headers.get("accept-encoding", ""):
            body, headers["Content-Encoding"] = gzip.compress(body, mtime=0), "gzip"
        return Response(body, media_type=TILE_MEDIA_TYPE, headers=headers)


def _audit_log(request: Request) -> AuditLog:
    service: Service = request.app.state.service
    return service.audit_log()


def _latest_note(audit: AuditLog) -> str:
    latest = audit.latest_checkpoint()
    if latest is None:
        raise ProblemError(404, "no-checkpoint", "No checkpoint yet", "nothing has been signed yet")
    return with_cosignatures(audit, latest)


def _tile_bytes(audit: AuditLog, name: TileName) -> bytes:
    sizes = [checkpoint.size for checkpoint in audit.checkpoints()]
    if not sizes or not _signed(name, sizes):
        raise ProblemError(
            404, "no-such-tile", "No such tile", f"{name.path()} is not part of a signed checkpoint's tree"
        )
    start = name.index * TILE_WIDTH
    if name.entries:
        return entry_bundle(list(audit.leaves(start, start + name.width)))
    with audit.tiled() as tiled:
        return tiled.tile(name)


def _signed(name: TileName, sizes: list[int]) -> bool:
    """Whether a signed tree has this tile: a full one within the latest
    checkpoint; a partial one at exactly the width a checkpoint needs."""
    span = TILE_HEIGHT * (name.level + 1)  # a tile covers 256 ** (level + 1) leaves
    if not name.partial:
        return (name.index + 1) << span <= sizes[-1]
    return any(
        size >> span == name.index and (size >> (span - TILE_HEIGHT)) % TILE_WIDTH == name.width for size in sizes
    )
