"""The audit tree as C2SP tlog-tiles: full tiles stored as the log grows, any hash in O(log n) reads.

A tile at level L holds up to 256 consecutive hashes of tree level 8L (level 0:
leaf hashes; above, each hash the Merkle root of a full tile of the level
below). A full tile never changes, so it is stored once, with its root, in the
transaction that appends the leaf that completes it (`store_full_tiles`); a
partial tile is read from what lies under it: the last leaf hashes, or the
roots of the last full tiles of the level below. Any Merkle hash the proofs
need is then the fold of at most 128 hashes of one tile (`TiledHashes`), so a
proof costs O(log n) reads whatever the log's length, and an export O(n).

Paths follow the spec: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`,
with N in zero-padded groups of three digits, all but the last prefixed `x`.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from ledger.audit.files import Folder
from ledger.audit.merkle import HASH_SIZE, ProofError, node_hash, perfect_root, root_of, split_point
from ledger.store.ports import ReadSession, WriteSession

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes
TILE_BYTES = TILE_WIDTH * HASH_SIZE
LEVEL_MAX = 63
ENTRY_BYTES_MAX = 0xFFFF  # an entry bundle prefixes each entry with its length as a big-endian uint16
TILE_MEDIA_TYPE = "application/octet-stream"
TILES_PER_QUERY = 256  # full tiles read at once by `TiledHashes.level_bytes`: 2 MB of hashes
CHECKPOINT_MEDIA_TYPE = "text/plain; charset=utf-8"

_INDEX_PART = re.compile(r"x[0-9]{3}")
_LAST_PART = re.compile(r"[0-9]{3}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class TileName:
    """A tile (or, with `entries`, an entry bundle) and its width: 256 for a full one."""

    level: int
    index: int
    width: int = TILE_WIDTH
    entries: bool = False

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        level = "entries" if self.entries else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{level}/{index_path(self.index)}{suffix}"


def index_path(index: int) -> str:
    """1234067 as `x001/x234/067`."""
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    return "/".join([*(f"x{group}" for group in reversed(groups[1:])), groups[0]])


def parse_tile_path(path: str) -> TileName:
    """The tile a path after `tile/` names, exactly as the spec writes it;
    `ValueError` for anything else (leading zeros, a width of 0 or 256...)."""
    parts = path.split("/")
    width = TILE_WIDTH
    if len(parts) >= 3 and parts[-2].endswith(".p"):
        if not _DECIMAL.fullmatch(parts[-1]) or not 1 <= int(parts[-1]) < TILE_WIDTH:
            raise ValueError(f"{path!r}: a partial tile's width is 1 to 255")
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2].removesuffix(".p")]
    if len(parts) < 2:
        raise ValueError(f"{path!r}: expected <L>/<N>[.p/<W>]")
    level_text, groups = parts[0], parts[1:]
    if not all(_INDEX_PART.fullmatch(group) for group in groups[:-1]) or not _LAST_PART.fullmatch(groups[-1]):
        raise ValueError(f"{path!r}: a tile index is groups of three digits, all but the last after an 'x'")
    if len(groups) > 1 and groups[0] == "x000":
        raise ValueError(f"{path!r}: a tile index has no leading zero groups")
    index = int("".join(group.removeprefix("x") for group in groups))
    if level_text == "entries":
        return TileName(0, index, width, entries=True)
    if not _DECIMAL.fullmatch(level_text) or int(level_text) > LEVEL_MAX:
        raise ValueError(f"{path!r}: a tile level is 0 to {LEVEL_MAX}, in plain decimal")
    return TileName(int(level_text), index, width)


def tiles_for(size: int) -> Iterator[TileName]:
    """Every tile of a tree of `size` leaves, full ones then each level's partial one."""
    level = 0
    while size >> (TILE_HEIGHT * level):
        count = size >> (TILE_HEIGHT * level)  # hashes at this tile level
        yield from (TileName(level, index) for index in range(count // TILE_WIDTH))
        if count % TILE_WIDTH:
            yield TileName(level, count // TILE_WIDTH, count % TILE_WIDTH)
        level += 1


def partial_tiles_for(size: int) -> list[TileName]:
    """The partial tiles a checkpoint of `size` leaves needs."""
    return [tile for tile in tiles_for(size) if tile.partial]


def entry_bundles_for(size: int) -> Iterator[TileName]:
    for index in range(size // TILE_WIDTH):
        yield TileName(0, index, entries=True)
    if size % TILE_WIDTH:
        yield TileName(0, size // TILE_WIDTH, size % TILE_WIDTH, entries=True)


def entry_bundle(leaves: list[bytes]) -> bytes:
    """Leaves as an entry bundle: each after its length, a big-endian uint16."""
    parts = []
    for leaf in leaves:
        if len(leaf) > ENTRY_BYTES_MAX:
            raise ProofError(f"a leaf of {len(leaf)} bytes does not fit an entry bundle (at most {ENTRY_BYTES_MAX})")
        parts += [len(leaf).to_bytes(2, "big"), leaf]
    return b"".join(parts)


# Storing full tiles as the log grows.


def store_full_tiles(session: WriteSession, size: int) -> None:
    """Stores every full tile of a tree of `size` leaves not stored yet, level
    by level (a tile above is made of the roots of the full tiles below);
    in a store made before tiles, the first call stores them all."""
    level = 0
    while (count := size >> (TILE_HEIGHT * (level + 1))) > 0:  # full tiles at this level
        stored = _stored_tiles(session, level)
        for index in range(stored, count):
            hashes = TiledHashes(session).below(level, index * TILE_WIDTH, (index + 1) * TILE_WIDTH)
            session.execute(
                "INSERT INTO audit_tiles VALUES (?, ?, ?, ?)",
                (level, index, b"".join(hashes).hex(), root_of(hashes).hex()),
            )
        level += 1


def _stored_tiles(session: ReadSession, level: int) -> int:
    rows = session.fetchall("SELECT max(tile_index) FROM audit_tiles WHERE tile_level = ?", (level,))
    return 0 if rows[0][0] is None else int(rows[0][0]) + 1


# Reading hashes back.


class TiledHashes:
    """Merkle hashes of the stored tree, read from its tiles."""

    def __init__(self, session: ReadSession) -> None:
        self.session = session
        # What this snapshot has read: full tiles (None: not stored), and the
        # hashes of partial tiles, packed; a proof folds the same ones again.
        self._tiles: dict[tuple[int, int], bytes | None] = {}
        self._partial: dict[tuple[int, int, int], bytes] = {}

    def level_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """The hashes [start, end) of tile level `level` (tree level 8 * level)."""
        return _unpacked(self.packed(level, start, end))

    def packed(self, level: int, start: int, end: int) -> bytes:
        """`level_hashes`, packed end to end in one string of bytes."""
        parts: list[bytes] = []
        position = start
        while position < end:
            index, offset = divmod(position, TILE_WIDTH)
            take = min(end - position, TILE_WIDTH - offset)
            tile = self._full(level, index)
            if tile is not None:
                parts.append(tile[offset * HASH_SIZE : (offset + take) * HASH_SIZE])
            else:
                key = (level, position, position + take)
                if key not in self._partial:
                    self._partial[key] = self._below_packed(level, position, position + take)
                parts.append(self._partial[key])
            position += take
        return b"".join(parts)

    def below(self, level: int, start: int, end: int) -> list[bytes]:
        """Hashes [start, end) of tile level `level` from what lies under them:
        leaf hashes at level 0, else the roots of full tiles one level down."""
        return _unpacked(self._below_packed(level, start, end))

    def _below_packed(self, level: int, start: int, end: int) -> bytes:
        if level == 0:
            rows = self.session.fetchall(
                "SELECT leaf_hash FROM audit_leaves WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
                (start, end),
            )
        else:
            rows = self.session.fetchall(
                "SELECT root FROM audit_tiles WHERE tile_level = ? AND tile_index >= ? AND tile_index < ? "
                "ORDER BY tile_index",
                (level - 1, start, end),
            )
        if len(rows) != end - start:
            raise ProofError(f"the stored tree lacks hashes {start} to {end} of tile level {level}")
        data = bytes.fromhex("".join([row[0] for row in rows]))
        if len(data) != (end - start) * HASH_SIZE:
            raise ProofError(f"the stored tree has a hash of the wrong length among {start} to {end} of level {level}")
        return data

    def _full(self, level: int, index: int) -> bytes | None:
        key = (level, index)
        if key not in self._tiles:
            rows = self.session.fetchall(
                "SELECT hashes FROM audit_tiles WHERE tile_level = ? AND tile_index = ?", (level, index)
            )
            self._tiles[key] = bytes.fromhex(rows[0][0]) if rows else None
        return self._tiles[key]

    def tile(self, name: TileName) -> bytes:
        """A tile's bytes: `width` hashes of its level, from `index * 256`."""
        start = name.index * TILE_WIDTH
        return self.level_bytes(name.level, start, start + name.width)

    def level_bytes(self, level: int, start: int, end: int) -> bytes:
        """The hashes [start, end) of tile level `level`, as one string of
        bytes, read a few hundred tiles a query and kept nowhere: what an
        export reads by the million (`level_hashes` keeps the tiles it reads,
        for proofs that fold the same tiles again)."""
        parts: list[bytes] = []
        position = start
        while position < end and position % TILE_WIDTH:
            take = min(end - position, TILE_WIDTH - position % TILE_WIDTH)
            parts.append(self._tile_part(level, position, take))
            position += take
        while end - position >= TILE_WIDTH:
            first = position // TILE_WIDTH
            last = min(end // TILE_WIDTH, first + TILES_PER_QUERY)
            rows = self.session.fetchall(
                "SELECT hashes FROM audit_tiles WHERE tile_level = ? AND tile_index >= ? AND tile_index < ? "
                "ORDER BY tile_index",
                (level, first, last),
            )
            if len(rows) < last - first:  # tiles not stored (yet): from what lies under them
                parts += (self._tile_part(level, index * TILE_WIDTH, TILE_WIDTH) for index in range(first, last))
            else:
                parts += (bytes.fromhex(row[0]) for row in rows)
            position = last * TILE_WIDTH
        if position < end:
            parts.append(self._tile_part(level, position, end - position))
        return b"".join(parts)

    def _tile_part(self, level: int, start: int, count: int) -> bytes:
        """`count` hashes of one tile, from `start`: from the tile if it is stored."""
        index, offset = divmod(start, TILE_WIDTH)
        rows = self.session.fetchall(
            "SELECT hashes FROM audit_tiles WHERE tile_level = ? AND tile_index = ?", (level, index)
        )
        if rows:
            return bytes.fromhex(rows[0][0])[offset * HASH_SIZE : (offset + count) * HASH_SIZE]
        return self._below_packed(level, start, start + count)

    def hash_range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]), as `ledger.audit.merkle.RangeHasher`: a perfect,
        aligned subtree is folded from one tile's hashes; any other range
        splits as RFC 9162 does."""
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            height = size.bit_length() - 1
            level, rest = divmod(height, TILE_HEIGHT)
            first = start >> (TILE_HEIGHT * level)
            return perfect_root(self.packed(level, first, first + (1 << rest)))
        k = split_point(size)
        return node_hash(self.hash_range(start, start + k), self.hash_range(start + k, end))


def _unpacked(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


# The tile tree of an exported bundle, as static files a tile client reads.


class TileFiles:
    """Files under a bundle's `tiles/` folder, made through `Folder` (never
    through a link), the folders of their paths made as they are needed.

    Files are made by a thread of their own, in the order given, while the
    export goes on reading and hashing (making a file is a few system calls,
    which let the export's thread run): a million leaves make some 8,000
    files. At most `QUEUED_MAX` wait; `finish` waits for them all and raises
    the first problem met, `close` (always) stops the thread."""

    QUEUED_MAX = 512

    def __init__(self, root: Folder) -> None:
        self._folders: dict[str, Folder] = {"": root}
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(self.QUEUED_MAX)
        self._problem: BaseException | None = None
        self._thread = threading.Thread(target=self._make_files, name="tile-files", daemon=True)
        self._thread.start()

    def write(self, path: str, data: bytes) -> None:
        if self._problem is not None:
            raise self._problem
        self._queue.put((path, data))

    def finish(self) -> None:
        """Waits until every file is made; raises the first problem."""
        self._stop()
        if self._problem is not None:
            raise self._problem

    def close(self) -> None:
        self._stop()
        for folder in self._folders.values():
            folder.close()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _make_files(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._problem is None:
                try:
                    path, data = item
                    parent, _, name = path.rpartition("/")
                    self._folder(parent).write_new(name, data)
                except BaseException as problem:  # raised again in the export's thread
                    self._problem = problem

    def _folder(self, path: str) -> Folder:
        if path not in self._folders:
            above, _, name = path.rpartition("/")
            folder = self._folder(above)
            self._folders[path] = folder.folder(name) if folder.kind(name) == "folder" else folder.make_folder(name)
        return self._folders[path]


class TileSource(Protocol):
    """Where write_tiles reads: a tile, and the hashes [start, end) of a level packed."""

    def tile(self, name: TileName) -> bytes: ...

    def level_bytes(self, level: int, start: int, end: int) -> bytes: ...


def write_tiles(files: TileFiles, tiled: TileSource, sizes: list[int], first: int = 0) -> int:
    """Writes the hash tiles of the tree of the last of `sizes` (checkpointed
    sizes, in order) that hold leaves from `first` on, and the partial tiles
    each of `sizes` needs; returns how many were written. Full tiles are read
    a few hundred at a time, as stored: nothing is hashed again."""
    written = 0
    level = 0
    while (full := sizes[-1] >> (TILE_HEIGHT * (level + 1))) > 0:  # full tiles at this level
        for start in range(first >> (TILE_HEIGHT * (level + 1)), full, TILES_PER_QUERY):
            end = min(full, start + TILES_PER_QUERY)
            data = tiled.level_bytes(level, start * TILE_WIDTH, end * TILE_WIDTH)
            for index in range(start, end):
                offset = (index - start) * TILE_BYTES
                files.write(TileName(level, index).path(), data[offset : offset + TILE_BYTES])
            written += end - start
        level += 1
    partial = {tile.path(): tile for size in sizes for tile in partial_tiles_for(size)}
    for path, tile in partial.items():
        files.write(path, tiled.tile(tile))
    return written + len(partial)


class EntryBundleWriter:
    """Entry bundles written as the leaves stream by (index `first` on): each
    full bundle when its 256th leaf comes, and at `close` the partial bundle
    of every checkpointed size past the last full one."""

    def __init__(self, files: TileFiles, first: int, sizes: list[int]) -> None:
        self.files, self.sizes = files, sizes
        self.index = first
        self._pending: list[bytes] = []
        self._start = first - first % TILE_WIDTH  # a bundle that starts before `first` is not written whole

    def add(self, leaf: bytes) -> None:
        self._pending.append(leaf)
        self.index += 1
        if self.index % TILE_WIDTH == 0:
            if self._start == self.index - TILE_WIDTH and len(self._pending) == TILE_WIDTH:
                self._write(TileName(0, self._start // TILE_WIDTH, entries=True), self._pending)
            self._start, self._pending = self.index, []

    def add_many(self, leaves: list[bytes]) -> None:
        """`add` for each of `leaves`, a bundle's worth at a time."""
        taken = 0
        while taken < len(leaves):
            room = TILE_WIDTH - self.index % TILE_WIDTH
            if not self._pending and room == TILE_WIDTH and len(leaves) - taken >= TILE_WIDTH:
                self._pending = leaves[taken : taken + TILE_WIDTH - 1]  # `add` completes the bundle
                self.index += TILE_WIDTH - 1
                self.add(leaves[taken + TILE_WIDTH - 1])
                taken += TILE_WIDTH
            else:
                self.add(leaves[taken])
                taken += 1

    def close(self) -> None:
        begin = self.index - len(self._pending)
        for size in self.sizes:
            width = size % TILE_WIDTH
            if width and size // TILE_WIDTH == self.index // TILE_WIDTH and begin <= size - width:
                offset = size - width - begin
                self._write(
                    TileName(0, size // TILE_WIDTH, width, entries=True), self._pending[offset : offset + width]
                )

    def _write(self, name: TileName, leaves: list[bytes]) -> None:
        self.files.write(name.path(), entry_bundle(leaves))
