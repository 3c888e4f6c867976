"""The verifier's fast canonical check agrees with RFC 8785 on every leaf it takes the fast path for."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.leaves import canonical_json
from ledger.audit.verify import _canonical, _parse_leaf

# ASCII text, control characters and DEL included, takes the fast path; other text the exact one.
texts = st.one_of(st.text(st.characters(max_codepoint=127), max_size=20), st.text(max_size=20))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    texts,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=1000)
@given(value=st.dictionaries(texts, values, max_size=6))
def test_the_fast_path_gives_the_rfc8785_bytes(value: dict[str, Any]) -> None:
    line = rfc8785.dumps(value)
    parsed, plain = _parse_leaf(line)
    assert _canonical(line, parsed, plain) == line
    spaced = json.dumps(value, ensure_ascii=False).encode()
    if spaced != line:
        reparsed, plain = _parse_leaf(spaced)
        assert _canonical(spaced, reparsed, plain) == line


@settings(max_examples=1000)
@given(value=st.dictionaries(texts, values, max_size=6))
def test_the_leaves_canonical_json_is_rfc8785(value: dict[str, Any]) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_the_leaves_canonical_json_takes_the_exact_path_for_floats_huge_integers_and_other_text() -> None:
    for value in ({"a": 1.5}, {"a": 1e300}, {"é": "ü", "😀": 1, "\ue000": 2}):
        assert canonical_json(value) == rfc8785.dumps(value)
    with pytest.raises(rfc8785.IntegerDomainError):
        canonical_json({"a": 2**53 + 1})


def test_the_delete_character_stays_unescaped_as_rfc8785_wants() -> None:
    line = rfc8785.dumps({"\x7f": None})
    assert _canonical(line, *_parse_leaf(line)) == line


def test_a_float_or_a_huge_integer_takes_the_exact_path() -> None:
    for line in (b'{"a":1.5}', b'{"a":1e2}', b'{"a":9007199254740993}'):
        assert not _parse_leaf(line)[1]
    assert _canonical(b'{"a":1e2}', *_parse_leaf(b'{"a":1e2}')) == b'{"a":100}'
