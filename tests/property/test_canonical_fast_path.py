"""The fast canonical check (orjson, sorted keys) agrees with RFC 8785, `rfc8785` the oracle.

Whatever the fast check takes, it takes rightly: a line it shows canonical is
the bytes `rfc8785` writes for its value, and a value the writer encodes
fast is encoded as `rfc8785` encodes it. Every leaf the ledger can write
takes the fast path.
"""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.canonical import canonical_json, parse_canonical
from ledger.audit.leaf_check import LEAF_DEPTH_MAX, exact_canonical, leaf_problems, parse_leaf

# ASCII text, control characters and DEL included, takes the fast path; other text the exact one.
texts = st.one_of(st.text(st.characters(max_codepoint=127), max_size=20), st.text(max_size=20))
floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, -0.0, 0.0, 1e-6, 1.5e-6, 9.99e-6, 1e-7, 1e16, 1e20, 1e21, 123.0, 0.1, 5e-324]),
)
integers = st.one_of(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.sampled_from([2**53 - 1, -(2**53) + 1, 2**53, -(2**53), 2**63, 0]),
)
scalars = st.one_of(st.none(), st.booleans(), integers, floats, texts)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
objects = st.dictionaries(texts, values, max_size=6)


def _rfc8785(value: Any) -> bytes | None:
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return None


@settings(max_examples=2000)
@given(value=objects)
def test_a_line_the_fast_check_takes_is_the_rfc8785_bytes_of_its_value(value: dict[str, Any]) -> None:
    for line in {orjson.dumps(value, option=orjson.OPT_SORT_KEYS), json.dumps(value).encode()}:
        parsed = parse_canonical([line], LEAF_DEPTH_MAX)
        if parsed is not None:
            assert _rfc8785(parsed[0]) == line


@settings(max_examples=2000)
@given(value=objects)
def test_the_rfc8785_bytes_of_a_value_pass_the_fast_check_or_the_exact_one(value: dict[str, Any]) -> None:
    line = _rfc8785(value)
    if line is None:
        return
    if parse_canonical([line], LEAF_DEPTH_MAX) is not None:
        return
    exact, plain = parse_leaf(line)
    # A float of 2**53 or more, written as digits, reads back as an integer beyond 53 bits: refused.
    with contextlib.suppress(rfc8785.IntegerDomainError):
        assert exact_canonical(line, exact, plain) == line


@settings(max_examples=2000)
@given(value=objects)
def test_the_writers_canonical_json_is_rfc8785(value: dict[str, Any]) -> None:
    expected = _rfc8785(value)
    if expected is None:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


@settings(max_examples=300)
@given(value=st.lists(objects, min_size=1, max_size=8))
def test_lines_checked_together_are_checked_as_each_alone(value: list[dict[str, Any]]) -> None:
    lines = [orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in value]
    together = parse_canonical(lines, LEAF_DEPTH_MAX)
    alone = [parse_canonical([line], LEAF_DEPTH_MAX) for line in lines]
    if together is not None:
        assert all(each is not None for each in alone)
        assert together == [each[0] for each in alone if each is not None]


def test_floats_orjson_writes_otherwise_than_ecmascript_take_the_exact_path() -> None:
    for number in (1.0, -0.0, 7.0, 1e-6, 3.5e-6, 1e16, 2.5e20):
        line = orjson.dumps({"a": number})
        assert line != rfc8785.dumps({"a": number})
        assert parse_canonical([line], LEAF_DEPTH_MAX) is None
        assert canonical_json({"a": number}) == rfc8785.dumps({"a": number})


def test_floats_both_write_alike_may_take_the_fast_path() -> None:
    for number in (1.5, 0.1, 1e-7, 123.456):
        line = rfc8785.dumps({"a": number})
        assert parse_canonical([line], LEAF_DEPTH_MAX) == [{"a": number}]


def test_lines_that_would_merge_in_one_array_are_not_taken_together() -> None:
    lines = [b'{"a":[1', b"2]}", b"{},{}"]
    assert parse_canonical(lines, LEAF_DEPTH_MAX) is None


def test_nesting_beyond_the_leaf_limit_is_refused_by_the_fast_check() -> None:
    def nested(depth: int) -> bytes:
        return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)

    assert parse_canonical([nested(LEAF_DEPTH_MAX)], LEAF_DEPTH_MAX) is not None
    assert parse_canonical([nested(LEAF_DEPTH_MAX + 1)], LEAF_DEPTH_MAX) is None


def test_integers_beyond_53_bits_take_the_exact_path() -> None:
    for number in (2**53, -(2**53), 2**63):
        assert parse_canonical([b'{"a":%d}' % number], LEAF_DEPTH_MAX) is None
    assert parse_canonical([b'{"a":%d}' % (2**53 - 1)], LEAF_DEPTH_MAX) == [{"a": 2**53 - 1}]


def test_the_delete_character_stays_unescaped_as_rfc8785_wants() -> None:
    line = rfc8785.dumps({"\x7f": None})
    assert parse_canonical([line], LEAF_DEPTH_MAX) == [{"\x7f": None}]


def test_a_leaf_with_a_float_in_canonical_form_is_no_finding_and_one_outside_it_is() -> None:
    leaf = {"index": 0, "stream": "s", "version": 1, "type": "T", "recorded_at": "t", "data": {"x": 1.5}}
    assert list(leaf_problems([rfc8785.dumps(leaf)], 0)) == []
    written = orjson.dumps({**leaf, "data": {"x": 2.0}}, option=orjson.OPT_SORT_KEYS)
    assert list(leaf_problems([written], 0)) == [(0, "not in canonical RFC 8785 form")]
    assert math.isfinite(leaf["data"]["x"])
