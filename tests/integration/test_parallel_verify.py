"""The verifier reads a bundle in chunks, in worker processes or in its own, and finds the same either way."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import rfc8785

from ledger import ManualClock, Sandbox
from ledger.audit import leaf_chunks
from ledger.audit.bundle import export_bundle
from ledger.audit.canonical import parse_canonical
from ledger.audit.leaf_check import LEAF_DEPTH_MAX
from ledger.audit.tiles import TILE_WIDTH, TileName
from ledger.audit.verify import Finding, Reading, verify_bundle
from ledger.simulate import SIM_START, SimulationConfig, simulate

ESTABLISHED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A bundle of a simulated bank, with its tiles: more than three tiles of leaves."""
    home = tmp_path_factory.mktemp("home")
    sandbox = Sandbox.at(home)
    clock = ManualClock(ESTABLISHED)
    sandbox.init(allow_unencrypted_key=True, clock=clock, ledger_clock=clock)
    with sandbox.open(clock=ManualClock(SIM_START), ledger_clock=ManualClock(SIM_START)) as ledger:
        simulate(ledger, SimulationConfig(seed=5, clients=25, days=25, operations_per_day=40))
        ledger.audit.checkpoint(sandbox.signer(), SIM_START)
    directory = tmp_path_factory.mktemp("bundle") / "bundle"
    with sandbox.open(auto_checkpoint=False) as ledger:
        export_bundle(ledger.audit, sandbox.signer(), directory, SIM_START)
    assert (directory / "events.jsonl").read_bytes().count(b"\n") > 3 * TILE_WIDTH
    return directory, sandbox.verifier_key()


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of one tile, so that even a small bundle is read in many."""
    monkeypatch.setattr(leaf_chunks, "CHUNK_LEAVES", TILE_WIDTH)


def lines_of(bundle: Path) -> list[bytes]:
    return (bundle / "events.jsonl").read_bytes().split(b"\n")[:-1]


def test_every_leaf_of_a_simulated_bank_takes_the_fast_path_and_is_rfc8785(simulated: tuple[Path, str]) -> None:
    lines = lines_of(simulated[0])
    assert parse_canonical(lines, LEAF_DEPTH_MAX) is not None
    for line in lines:
        assert rfc8785.dumps(orjson.loads(line)) == line


def edit_a_leaf(bundle: Path) -> None:
    lines = lines_of(bundle)
    lines[TILE_WIDTH + 7] = lines[TILE_WIDTH + 7].replace(b'"version":1', b'"version":2', 1)
    (bundle / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def drop_the_last_newline(bundle: Path) -> None:
    events = bundle / "events.jsonl"
    events.write_bytes(events.read_bytes()[:-1])


def write_a_float(bundle: Path) -> None:
    lines = lines_of(bundle)
    lines[2 * TILE_WIDTH + 1] = lines[2 * TILE_WIDTH + 1].replace(b'"version":1', b'"version":1.0', 1)
    (bundle / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def write_a_line_too_long(bundle: Path) -> None:
    lines = lines_of(bundle)
    lines[TILE_WIDTH] = b"x" * (leaf_chunks.LEAF_LINE_MAX + 5)
    (bundle / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def corrupt(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[40] ^= 1
    path.write_bytes(bytes(data))


def corrupt_a_tile(bundle: Path) -> None:
    corrupt(bundle / "tiles" / TileName(0, 1).path())


def corrupt_an_entry_bundle(bundle: Path) -> None:
    corrupt(bundle / "tiles" / TileName(0, 2, entries=True).path())


def leave_it(bundle: Path) -> None:
    pass


TAMPERINGS: list[Callable[[Path], None]] = [
    leave_it,
    edit_a_leaf,
    drop_the_last_newline,
    write_a_float,
    write_a_line_too_long,
    corrupt_a_tile,
    corrupt_an_entry_bundle,
]


def findings(bundle: Path, key: str, workers: int) -> list[Finding]:
    return verify_bundle(bundle, key, reading=Reading(workers=workers))


@pytest.mark.slow
@pytest.mark.usefixtures("small_chunks")
@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda tamper: tamper.__name__)
def test_worker_processes_find_what_the_verifiers_own_process_finds(
    simulated: tuple[Path, str], tmp_path: Path, tamper: Callable[[Path], None]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(simulated[0], bundle)
    tamper(bundle)
    here = findings(bundle, simulated[1], workers=0)
    assert (here == []) == (tamper is leave_it)
    assert findings(bundle, simulated[1], workers=2) == here


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda tamper: tamper.__name__)
def test_a_chunk_read_line_by_line_finds_what_one_read_at_once_finds(
    simulated: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tamper: Callable[[Path], None]
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(simulated[0], bundle)
    tamper(bundle)
    at_once = findings(bundle, simulated[1], workers=0)
    monkeypatch.setattr(leaf_chunks, "CHUNK_BYTES_MAX", 2000)
    assert findings(bundle, simulated[1], workers=0) == at_once


def test_the_verifier_names_each_problem_where_it_is(simulated: tuple[Path, str], tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(simulated[0], bundle)
    write_a_float(bundle)
    corrupt_a_tile(bundle)
    subjects = [finding.subject for finding in findings(bundle, simulated[1], workers=0)]
    index = 2 * TILE_WIDTH + 1
    assert f"leaf {index} (line {index + 1})" in subjects
    assert f"tiles/{TileName(0, 1).path()}" in subjects


def test_chunks_end_on_their_boundaries_and_cover_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leaf_chunks, "CHUNK_LEAVES", 4)
    data = b"".join(b"%d\n" % n for n in range(11)) + b"tail"
    path = tmp_path / "events"
    path.write_bytes(data)
    with path.open("rb") as handle:
        chunks = list(leaf_chunks.plan_chunks(handle, len(data), first_index=2))
    assert [chunk.first_index for chunk in chunks] == [2, 4, 8, 12]
    assert [chunk.first_line for chunk in chunks] == [1, 3, 7, 11]
    assert [data[chunk.start : chunk.end].count(b"\n") for chunk in chunks] == [2, 4, 4, 1]
    assert chunks[0].start == 0
    assert all(one.end == two.start for one, two in itertools.pairwise(chunks))
    assert chunks[-1].end == len(data)
