"""`events.jsonl` checked in chunks of whole tiles, on every core.

The verifier's work is per leaf: hash it, check it is canonical JSON at its
index, and compare the level-0 tiles and entry bundles it makes. The file is
cut into chunks of `CHUNK_LEAVES` lines that end on tile boundaries
(`plan_chunks`: a count of newlines, at C speed), and each chunk is checked
by `check_chunk`, in worker processes for a large file (`checked_chunks`).
A chunk comes back as the roots of its full tiles (and the leaf hashes of
any part of a tile), so the verifier's own process only folds a few hashes
per 256 leaves into the tree, and memory stays flat: workers read their
chunk themselves, and a chunk too large to read at once is read line by line.

Workers open the very files the verifier opened, through /proc/<pid>/fd, so
a bundle cannot be swapped under them; where there is no /proc, and for a
small file, the chunks are checked in the verifier's own process.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import itertools
import os
import pickle
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ledger.audit.files import Folder
from ledger.audit.leaf_check import leaf_problems
from ledger.audit.merkle import leaf_hashes
from ledger.audit.tile_check import TileFolder, compare_entries, compare_tile, tile_root
from ledger.audit.tiles import ENTRY_BYTES_MAX, TILE_WIDTH, TileName

LEAF_LINE_MAX = 1 << 20  # bytes of one line of events.jsonl, its newline excluded
CHUNK_LEAVES = 64 * TILE_WIDTH  # lines in a chunk: some 9 MB of the ledger's leaves
CHUNK_BYTES_MAX = 64 << 20  # a chunk larger than this is read line by line
PARALLEL_BYTES_MIN = 24 << 20  # below this, starting workers costs more than they save
FINDINGS_MAX = 100  # findings one chunk reports
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Chunk:
    start: int  # byte offset of its first line
    end: int  # byte offset after its last line (and its newline)
    first_index: int  # leaf index of its first line
    first_line: int  # line number of its first line, from 1


@dataclass(frozen=True)
class ChunkJob:
    chunk: Chunk
    sizes: frozenset[int]  # checkpointed sizes the chunk's leaves reach
    tree_size: int
    tiles: bool  # whether the level-0 tiles and entry bundles are compared


@dataclass
class ChunkResult:
    """`parts`, in order: the root of each full tile (bytes), or the leaf hashes
    of a part of a tile (a list). `partials`: for each checkpointed size inside
    a full tile, the leaf hashes of that tile up to it."""

    count: int = 0
    parts: list[bytes | list[bytes]] = field(default_factory=list)
    partials: dict[int, list[bytes]] = field(default_factory=dict)
    findings: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, subject: str, reason: str) -> None:
        if len(self.findings) < FINDINGS_MAX:
            self.findings.append((subject, reason))


# Cutting the file.


def plan_chunks(handle: BinaryIO, size: int, first_index: int) -> Iterator[Chunk]:
    """Chunks of whole lines of the file's first `size` bytes, each but the
    last ending where a leaf index is a multiple of CHUNK_LEAVES."""
    start = position = 0
    index, first = first_index, first_index
    target = (first_index // CHUNK_LEAVES + 1) * CHUNK_LEAVES
    handle.seek(0)
    while position < size:
        block = handle.read(min(_BLOCK, size - position))
        if not block:
            break
        at = 0
        while (count := block.count(b"\n", at)) >= target - index:
            for _ in range(target - index):
                at = block.index(b"\n", at) + 1
            index = target
            yield Chunk(start, position + at, first, first - first_index + 1)
            start, first, target = position + at, index, target + CHUNK_LEAVES
        index += count
        position += len(block)
    if start < position:
        yield Chunk(start, position, first, first - first_index + 1)


# Checking a chunk.


def check_chunk(job: ChunkJob, opened: Opened) -> ChunkResult:
    """The findings and tree parts of one chunk of the open events file."""
    result = ChunkResult()
    tiles = TileFolder(opened.tiles) if job.tiles and opened.tiles is not None else None
    tiler = _Tiler(job, result, tiles)
    try:
        with _no_cycle_collection():
            for batch in _batches(opened.events, job.chunk, result):
                tiler.add(batch)
        tiler.finish()
    finally:
        if tiles is not None:
            tiles.close()
    return result


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The parsed leaves hold no cycles: collecting them as cycles would only
    walk the many objects they make (a sixth of the time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class _Batch:
    """Consecutive lines within one tile; `digests` their leaf hashes when
    known already; `unchecked` the offsets of lines too long to check (for a
    line read in pieces, its bytes here are empty)."""

    lines: list[bytes]
    digests: list[bytes] | None = None
    unchecked: frozenset[int] = frozenset()


def _batches(events: int, chunk: Chunk, result: ChunkResult) -> Iterator[_Batch]:
    """The chunk's lines in batches that end at tile boundaries."""
    if chunk.end - chunk.start > CHUNK_BYTES_MAX:
        yield from _streamed_batches(events, chunk, result)
        return
    lines = os.pread(events, chunk.end - chunk.start, chunk.start).split(b"\n")
    last = lines.pop()
    number_last = chunk.first_line + len(lines)
    if last:  # the file's last line, without its newline
        lines.append(last)
        if len(last) <= LEAF_LINE_MAX:
            result.fail(f"line {number_last}", "not newline-terminated")
    long: frozenset[int] = frozenset()
    if lines and max(map(len, lines)) > LEAF_LINE_MAX:
        long = frozenset(n for n, length in enumerate(map(len, lines)) if length > LEAF_LINE_MAX)
    for offset in sorted(long):
        result.fail(f"line {chunk.first_line + offset}", f"longer than the {LEAF_LINE_MAX} bytes a leaf may have")
    start = 0
    end = min(len(lines), TILE_WIDTH - chunk.first_index % TILE_WIDTH)
    while start < len(lines):
        unchecked = frozenset(n - start for n in long if start <= n < end) if long else frozenset()
        yield _Batch(lines[start:end], None, unchecked)
        start, end = end, min(len(lines), end + TILE_WIDTH)


def _streamed_batches(events: int, chunk: Chunk, result: ChunkResult) -> Iterator[_Batch]:
    """As `_batches`, reading one line at a time, a line too long in bounded
    pieces, and a batch ended early rather than held beyond CHUNK_BYTES_MAX."""
    batch, held, index = _Batch([], []), 0, chunk.first_index
    for line, digest, checked in _streamed_lines(events, chunk, result):
        assert batch.digests is not None
        if not checked:
            batch.unchecked = batch.unchecked | {len(batch.lines)}
        batch.lines.append(line)
        batch.digests.append(digest)
        held += len(line)
        index += 1
        if index % TILE_WIDTH == 0 or held > CHUNK_BYTES_MAX:
            yield batch
            batch, held = _Batch([], []), 0
    if batch.lines:
        yield batch


def _streamed_lines(events: int, chunk: Chunk, result: ChunkResult) -> Iterator[tuple[bytes, bytes, bool]]:
    """(line, leaf hash, whether it can be checked) of each line, read one at a time."""
    with io.BufferedReader(_Positioned(events, chunk.start), _BLOCK) as handle:
        position, number = chunk.start, chunk.first_line
        while position < chunk.end:
            piece = handle.readline(min(LEAF_LINE_MAX + 1, chunk.end - position))
            if not piece:
                return
            position += len(piece)
            if piece.endswith(b"\n"):
                yield piece[:-1], hashlib.sha256(b"\x00" + piece[:-1]).digest(), True
            elif len(piece) <= LEAF_LINE_MAX:
                result.fail(f"line {number}", "not newline-terminated")
                yield piece, hashlib.sha256(b"\x00" + piece).digest(), True
            else:
                result.fail(f"line {number}", f"longer than the {LEAF_LINE_MAX} bytes a leaf may have")
                digest, position = _long_leaf_hash(piece, handle, position, chunk.end)
                yield b"", digest, False
            number += 1


class _Positioned(io.RawIOBase):
    """The open file read from `position` on with pread: the descriptor's own
    offset, which the verifier's process reads with too, is left alone."""

    def __init__(self, descriptor: int, position: int) -> None:
        super().__init__()
        self.descriptor, self.position = descriptor, position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = os.pread(self.descriptor, len(buffer), self.position)
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def _long_leaf_hash(start: bytes, handle: BinaryIO, position: int, end: int) -> tuple[bytes, int]:
    """The leaf hash of a line too long to check, read on to its end in bounded pieces; and where it ends."""
    digest = hashlib.sha256(b"\x00" + start)
    while position < end:
        piece = handle.readline(min(LEAF_LINE_MAX, end - position))
        if not piece:
            break
        position += len(piece)
        if piece.endswith(b"\n"):
            digest.update(piece[:-1])
            break
        digest.update(piece)
    return digest.digest(), position


class _Tiler:
    """Checks the leaves of a chunk batch by batch, and gathers their hashes into tiles."""

    def __init__(self, job: ChunkJob, result: ChunkResult, tiles: TileFolder | None) -> None:
        self.job, self.result, self.tiles = job, result, tiles
        self.index = job.chunk.first_index
        self.number = job.chunk.first_line
        self.aligned = self.index % TILE_WIDTH == 0  # whether the hashes gathered start a tile
        self.hashes: list[bytes] = []
        self.entries: list[bytes] = []  # the entry bundle of the tile so far, in pieces
        self.entries_readable = True
        self.sizes = sorted(size for size in job.sizes if size > self.index)

    def add(self, batch: _Batch) -> None:
        self._check(batch)
        digests = batch.digests
        if digests is None:
            digests = leaf_hashes(batch.lines)
        end = self.index + len(digests)
        while self.sizes and self.sizes[0] <= end:
            size = self.sizes.pop(0)
            if size % TILE_WIDTH:  # at a tile boundary, the tile is full
                self._at_size(size, digests[: size - self.index], batch.lines[: size - self.index])
        if self.tiles is not None:
            self._gather_entries(batch)
        self.hashes.extend(digests)
        self.index, self.number = end, self.number + len(digests)
        if end % TILE_WIDTH == 0:
            self._end_tile()

    def finish(self) -> None:
        self.result.count = self.index - self.job.chunk.first_index
        if self.hashes:
            self.result.parts.append(self.hashes)

    def _check(self, batch: _Batch) -> None:
        if not batch.unchecked:
            self._report(leaf_problems(batch.lines, self.index), 0)
            return
        for offset, line in enumerate(batch.lines):
            if offset not in batch.unchecked:
                self._report(leaf_problems([line], self.index + offset), offset)

    def _report(self, problems: Iterable[tuple[int, str]], shift: int) -> None:
        for offset, problem in problems:
            at = shift + offset
            self.result.fail(f"leaf {self.index + at} (line {self.number + at})", problem)

    def _gather_entries(self, batch: _Batch) -> None:
        if batch.unchecked or not self.entries_readable or max(map(len, batch.lines)) > ENTRY_BYTES_MAX:
            self.entries_readable = False
            return
        self.entries.append(_entry_bytes(batch.lines))

    def _end_tile(self) -> None:
        tile = self.index // TILE_WIDTH - 1
        if not self.aligned:
            self.result.parts.append(self.hashes)
        else:
            joined = b"".join(self.hashes)
            if self.tiles is not None:
                compare_tile(self.tiles, TileName(0, tile), joined, self.result.fail)
                if self.entries_readable:
                    name = TileName(0, tile, entries=True)
                    compare_entries(self.tiles, name, b"".join(self.entries), self.result.fail)
            self.result.parts.append(tile_root(joined))
        self.hashes, self.entries, self.entries_readable, self.aligned = [], [], True, True

    def _at_size(self, size: int, digests: list[bytes], lines: list[bytes]) -> None:
        """At a checkpointed size inside a tile (`digests` and `lines`: those of
        the batch before it): its partial tile, and the tail's partial entry bundle."""
        if not self.aligned:
            return  # a chunk that starts inside a tile: an incremental bundle, whose tiles are not checked
        hashes = self.hashes + digests
        self.result.partials[size] = hashes
        if self.tiles is None:
            return
        tile, width = size // TILE_WIDTH, size % TILE_WIDTH
        compare_tile(self.tiles, TileName(0, tile, width), b"".join(hashes), self.result.fail)
        readable = self.entries_readable and all(len(line) <= ENTRY_BYTES_MAX for line in lines)
        if readable and tile == self.job.tree_size // TILE_WIDTH:
            name = TileName(0, tile, width, entries=True)
            compare_entries(self.tiles, name, b"".join(self.entries) + _entry_bytes(lines), self.result.fail)


_ENTRY_LENGTHS = [length.to_bytes(2, "big") for length in range(ENTRY_BYTES_MAX + 1)]


def _entry_bytes(lines: list[bytes]) -> bytes:
    """The lines as an entry bundle holds them: each after its length, a big-endian uint16."""
    parts: list[bytes] = [b""] * (2 * len(lines))
    parts[0::2] = map(_ENTRY_LENGTHS.__getitem__, map(len, lines))
    parts[1::2] = lines
    return b"".join(parts)


# Running the chunks.


def worker_count(size: int) -> int:
    """How many worker processes check a file of `size` bytes: one per core
    this process may use, or none for a small file."""
    if size < PARALLEL_BYTES_MIN:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores if cores > 1 else 0


def checked_chunks(jobs: Iterable[ChunkJob], events: int, tiles: Folder | None, workers: int) -> Iterator[ChunkResult]:
    """The result of each job, in order: checked by `workers` processes, or here when 0."""
    opened = Opened(events, tiles)
    if workers == 0:
        for job in jobs:
            yield check_chunk(job, opened)
        return
    with _Workers(workers, opened) as pool:
        yield from pool.map(jobs)


class _Workers:
    """Worker processes (`ledger.audit.leaf_worker`), each handed the open
    files by descriptor, and fed jobs in turn: job k goes to worker k mod n,
    whose results come back in the order of its jobs, so reading them in turn
    keeps the order. Each has at most IN_FLIGHT jobs waiting, so a write to
    it never blocks; a result is pickled builtins."""

    IN_FLIGHT = 2

    def __init__(self, count: int, opened: Opened) -> None:
        descriptors = [opened.events] + ([opened.tiles.descriptor] if opened.tiles else [])
        tiles = [str(opened.tiles.descriptor), str(opened.tiles.path)] if opened.tiles else []
        command = [sys.executable, "-m", "ledger.audit.leaf_worker", str(opened.events), *tiles]
        self.processes = [
            subprocess.Popen(  # noqa: S603
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=descriptors, env=_worker_environment()
            )
            for _ in range(count)
        ]

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *_: object) -> None:
        for process in self.processes:
            if process.stdin is not None:
                process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()

    def map(self, jobs: Iterable[ChunkJob]) -> Iterator[ChunkResult]:
        waiting: deque[subprocess.Popen[bytes]] = deque()
        work = iter(jobs)
        count = len(self.processes)
        for turn, job in enumerate(itertools.islice(work, count * self.IN_FLIGHT)):
            waiting.append(self._send(self.processes[turn % count], job))
        turn = len(waiting)
        while waiting:
            process = waiting.popleft()
            yield self._receive(process)
            following = next(work, None)
            if following is not None:
                waiting.append(self._send(self.processes[turn % count], following))
                turn += 1

    @staticmethod
    def _send(process: subprocess.Popen[bytes], job: ChunkJob) -> subprocess.Popen[bytes]:
        assert process.stdin is not None
        pickle.dump(job, process.stdin)
        process.stdin.flush()
        return process

    @staticmethod
    def _receive(process: subprocess.Popen[bytes]) -> ChunkResult:
        assert process.stdout is not None
        try:
            answer = pickle.load(process.stdout)  # noqa: S301 -- from our own worker process
        except EOFError:
            raise OSError(f"a worker process checking the leaves stopped (exit status {process.wait()})") from None
        if isinstance(answer, BaseException):
            raise answer
        assert isinstance(answer, ChunkResult)
        return answer


def _worker_environment() -> dict[str, str]:
    """This environment, with the folder this package was imported from first
    on PYTHONPATH: a worker imports the same `ledger`, however this process found it."""
    root = str(Path(__file__).resolve().parents[2])
    paths = [root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


@dataclass
class Opened:
    events: int  # a file descriptor
    tiles: Folder | None


def serve_jobs(opened: Opened, jobs: BinaryIO, results: BinaryIO) -> None:
    """A worker's loop: each job read is answered with its result, or the
    exception that stopped it, until the jobs end."""
    while True:
        try:
            job = pickle.load(jobs)  # noqa: S301 -- from the verifier that started this process
        except EOFError:
            return
        try:
            answer: ChunkResult | BaseException = check_chunk(job, opened)
        except Exception as error:
            answer = error
        pickle.dump(answer, results)
        results.flush()
