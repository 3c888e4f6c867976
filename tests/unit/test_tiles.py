"""Tile names as C2SP tlog-tiles writes them, and which tiles a tree of each size has."""

from __future__ import annotations

import pytest

from ledger.audit.tiles import TileName, entry_bundle, index_path, parse_tile_path, partial_tiles_for, tiles_for


@pytest.mark.parametrize(
    ("index", "path"), [(0, "000"), (7, "007"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")]
)
def test_a_tile_index_is_zero_padded_groups_of_three_all_but_the_last_after_an_x(index: int, path: str) -> None:
    assert index_path(index) == path
    assert parse_tile_path(f"0/{path}") == TileName(0, index)


def test_paths_name_full_and_partial_tiles_and_entry_bundles() -> None:
    assert TileName(2, 1234067, 17).path() == "tile/2/x001/x234/067.p/17"
    assert TileName(0, 5, entries=True).path() == "tile/entries/005"
    assert parse_tile_path("entries/005.p/3") == TileName(0, 5, 3, entries=True)
    assert parse_tile_path("1/x001/000.p/255") == TileName(1, 1000, 255)


@pytest.mark.parametrize(
    "path",
    ["01/000", "64/000", "0/00", "0/0000", "0/x000/001", "0/001/002", "0/000.p/0", "0/000.p/256", "0/000.p/07",
     "0/000.p", "x/000", "0/+01", "0/٠٠١", "0", "entries/x01/000"],
)  # fmt: skip
def test_a_path_the_spec_does_not_write_names_no_tile(path: str) -> None:
    with pytest.raises(ValueError, match=r"^'"):
        parse_tile_path(path)


def test_the_specs_example_tree_of_70000_leaves_has_the_tiles_it_lists() -> None:
    tiles = list(tiles_for(70_000))
    full = [t for t in tiles if not t.partial]
    assert len([t for t in full if t.level == 0]) == 273
    assert [t for t in full if t.level == 1] == [TileName(1, 0)]
    assert partial_tiles_for(70_000) == [TileName(0, 273, 112), TileName(1, 1, 17), TileName(2, 0, 1)]


def test_a_tree_of_256_leaves_is_one_full_tile_and_a_partial_tile_of_width_1_above_it() -> None:
    assert list(tiles_for(256)) == [TileName(0, 0), TileName(1, 0, 1)]
    assert list(tiles_for(0)) == []


def test_an_entry_bundle_prefixes_each_entry_with_its_length_as_a_big_endian_uint16() -> None:
    assert entry_bundle([b"ab", b"", b"x" * 300]) == b"\x00\x02ab\x00\x00\x01\x2c" + b"x" * 300
