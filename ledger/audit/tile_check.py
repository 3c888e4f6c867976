"""A bundle's `tiles/` checked against its leaves as the verifier streams them.

Each full hash tile is compared when its 256th hash is known, each level's
partial tile at every checkpointed size, and the entry bundles byte for
byte (by their SHA-256, so memory stays bounded): a bundle whose tiles tell
another story than its leaves fails, whichever a client reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ledger.audit.files import FileProblem, Folder
from ledger.audit.merkle import root_of
from ledger.audit.tiles import ENTRY_BYTES_MAX, TILE_WIDTH, TileName

TILE_FILE_MAX = TILE_WIDTH * 32
CHECKPOINT_FILE_MAX = 1_000_000
ENTRY_BUNDLE_MAX = TILE_WIDTH * (ENTRY_BYTES_MAX + 2)


class TileCheck:
    def __init__(
        self, folder: Folder, sizes: set[int], tree_size: int, latest: str | None, fail: Callable[[str, str], None]
    ) -> None:
        """`sizes`: the bundle's checkpointed sizes; `latest`: the latest
        checkpoint's body (origin, size, root), which `tiles/checkpoint` must carry."""
        self.folder, self.sizes, self.tree_size, self.fail = folder, sizes, tree_size, fail
        self.pending: list[list[bytes]] = [[]]  # per tile level: the hashes of its unfinished tile
        self.entries = hashlib.sha256()
        self.entries_readable = True
        self.size = 0
        note = self._read("checkpoint", CHECKPOINT_FILE_MAX)
        if latest is not None and note is not None and not note.startswith(latest.encode() + b"\n"):
            self.fail("tiles/checkpoint", "is not the bundle's latest checkpoint")

    def add(self, leaf: bytes | None, digest: bytes) -> None:
        if leaf is None or len(leaf) > ENTRY_BYTES_MAX:
            self.entries_readable = False
        else:
            self.entries.update(len(leaf).to_bytes(2, "big") + leaf)
        self.size += 1
        self._push(0, digest)
        if self.size % TILE_WIDTH == 0:
            self._check_entries(TileName(0, self.size // TILE_WIDTH - 1, entries=True))
            self.entries, self.entries_readable = hashlib.sha256(), True
        if self.size in self.sizes:
            self._check_partials()

    def _push(self, level: int, digest: bytes) -> None:
        if level == len(self.pending):
            self.pending.append([])
        tile = self.pending[level]
        tile.append(digest)
        if len(tile) == TILE_WIDTH:
            index = (self.size >> (8 * (level + 1))) - 1
            self._compare(TileName(level, index).path(), b"".join(tile), "differs from the leaves' hashes")
            self.pending[level] = []
            self._push(level + 1, root_of(tile))

    def _check_partials(self) -> None:
        for level, tile in enumerate(self.pending):
            if tile:
                name = TileName(level, self.size >> (8 * (level + 1)), len(tile))
                self._compare(name.path(), b"".join(tile), "differs from the leaves' hashes")
        width = self.size % TILE_WIDTH
        if width and self.size // TILE_WIDTH == self.tree_size // TILE_WIDTH:  # the tail's partial bundle
            self._check_entries(TileName(0, self.size // TILE_WIDTH, width, entries=True))

    def _check_entries(self, name: TileName) -> None:
        if not self.entries_readable:
            return
        data = self._read(name.path(), ENTRY_BUNDLE_MAX)
        if data is not None and hashlib.sha256(data).digest() != self.entries.digest():
            self.fail(f"tiles/{name.path()}", "differs from the leaves in events.jsonl")

    def _compare(self, path: str, expected: bytes, why: str) -> None:
        data = self._read(path, max(len(expected), TILE_FILE_MAX))
        if data is not None and data != expected:
            self.fail(f"tiles/{path}", why)

    def _read(self, path: str, size_max: int) -> bytes | None:
        parts = path.split("/")
        folder = self.folder
        opened: list[Folder] = []
        try:
            for part in parts[:-1]:
                if folder.kind(part) != "folder":
                    self.fail(f"tiles/{path}", "missing")
                    return None
                folder = folder.folder(part)
                opened.append(folder)
            if folder.kind(parts[-1]) is None:
                self.fail(f"tiles/{path}", "missing")
                return None
            return folder.read(parts[-1], size_max)
        except FileProblem as error:
            self.fail(f"tiles/{path}", str(error))
            return None
        finally:
            for each in opened:
                each.close()
