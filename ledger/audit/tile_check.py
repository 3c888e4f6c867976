"""A bundle's `tiles/` checked against its leaves as the verifier reads them.

Each full hash tile is compared when its 256th hash is known, each level's
partial tile at every checkpointed size, and the entry bundles byte for byte:
a bundle whose tiles tell another story than its leaves fails, whichever a
client reads. The leaf level (level 0 and the entry bundles) is checked with
the leaves, chunk by chunk (`ledger.audit.leaf_chunks`); `UpperTiles` checks
the levels above from the roots of the full level-0 tiles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ledger.audit.files import FileProblem, Folder
from ledger.audit.tiles import ENTRY_BYTES_MAX, TILE_WIDTH, TileName

TILE_FILE_MAX = TILE_WIDTH * 32
CHECKPOINT_FILE_MAX = 1_000_000
ENTRY_BUNDLE_MAX = TILE_WIDTH * (ENTRY_BYTES_MAX + 2)
DIFFERS = "differs from the leaves' hashes"
ENTRIES_DIFFER = "differs from the leaves in events.jsonl"

Fail = Callable[[str, str], None]


class TileFolder:
    """A bundle's `tiles/` to read from, its folders kept open while used:
    tiles are read in order, so a few open folders serve thousands of files."""

    OPEN_MAX = 16

    def __init__(self, root: Folder) -> None:
        self.root = root
        self._folders: dict[str, Folder] = {}

    def read(self, path: str, size_max: int, fail: Fail) -> bytes | None:
        """The file at `path`; None, with a finding, when it is missing or unreadable."""
        parent, _, name = path.rpartition("/")
        try:
            folder = self._folder(parent)
            if folder is None or folder.kind(name) is None:
                fail(f"tiles/{path}", "missing")
                return None
            return folder.read(name, size_max)
        except FileProblem as error:
            fail(f"tiles/{path}", str(error))
            return None

    def _folder(self, path: str) -> Folder | None:
        if not path:
            return self.root
        if path in self._folders:
            return self._folders[path]
        above, _, name = path.rpartition("/")
        parent = self._folder(above)
        if parent is None or parent.kind(name) != "folder":
            return None
        if len(self._folders) >= self.OPEN_MAX:
            self.close()
        folder = self._folders[path] = parent.folder(name)
        return folder

    def close(self) -> None:
        """Closes the folders below the root (the root is its opener's)."""
        for folder in self._folders.values():
            folder.close()
        self._folders.clear()


def compare_tile(tiles: TileFolder, name: TileName, expected: bytes, fail: Fail) -> None:
    data = tiles.read(name.path(), max(len(expected), TILE_FILE_MAX), fail)
    if data is not None and data != expected:
        fail(f"tiles/{name.path()}", DIFFERS)


def compare_entries(tiles: TileFolder, name: TileName, expected: bytes, fail: Fail) -> None:
    """The entry bundle `name` against what the leaves say it holds."""
    data = tiles.read(name.path(), ENTRY_BUNDLE_MAX, fail)
    if data is not None and data != expected:
        fail(f"tiles/{name.path()}", ENTRIES_DIFFER)


def tile_root(hashes: bytes) -> bytes:
    """The Merkle root of a full tile: its 256 hashes, concatenated, folded pairwise."""
    sha256 = hashlib.sha256
    while len(hashes) > 32:
        hashes = b"".join([sha256(b"\x01" + hashes[i : i + 64]).digest() for i in range(0, len(hashes), 64)])
    return hashes


class UpperTiles:
    """The tiles of levels 1 and up, fed the root of each full level-0 tile in order."""

    def __init__(self, folder: Folder, sizes: set[int], latest: str | None, fail: Fail) -> None:
        """`sizes`: the bundle's checkpointed sizes; `latest`: the latest
        checkpoint's body (origin, size, root), which `tiles/checkpoint` must carry."""
        self.folder, self.sizes, self.fail = folder, sizes, fail
        self.tiles = TileFolder(folder)
        self.pending: list[list[bytes]] = [[]]  # per level from 1: the hashes of its unfinished tile
        self.size = 0  # leaves under the roots fed so far
        note = self.tiles.read("checkpoint", CHECKPOINT_FILE_MAX, fail)
        if latest is not None and note is not None and not note.startswith(latest.encode() + b"\n"):
            fail("tiles/checkpoint", "is not the bundle's latest checkpoint")

    def add_tile(self, root: bytes) -> None:
        self.size += TILE_WIDTH
        self._push(1, root)

    def _push(self, level: int, digest: bytes) -> None:
        while level - 1 >= len(self.pending):
            self.pending.append([])
        tile = self.pending[level - 1]
        tile.append(digest)
        if len(tile) == TILE_WIDTH:
            index = (self.size >> (8 * (level + 1))) - 1
            hashes = b"".join(tile)
            compare_tile(self.tiles, TileName(level, index), hashes, self.fail)
            self.pending[level - 1] = []
            self._push(level + 1, tile_root(hashes))

    def close(self) -> None:
        self.tiles.close()
        self.folder.close()

    def at_size(self, size: int) -> None:
        """At a checkpointed size: the partial tiles of levels 1 and up."""
        for level, tile in enumerate(self.pending, start=1):
            if tile:
                name = TileName(level, size >> (8 * (level + 1)), len(tile))
                compare_tile(self.tiles, name, b"".join(tile), self.fail)
