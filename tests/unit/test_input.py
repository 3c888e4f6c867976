"""Reading JSON from outside: strict, bounded, and saying where; and what each command field's text may hold."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from domain.commands import COMMAND_ADAPTER
from domain.errors import AmountNotDecimal
from domain.money import parse_amount
from ledger.input import (
    JSON_DEPTH_MAX,
    JSON_STRING_LENGTH_MAX,
    InputError,
    decode_line,
    decode_utf8,
    read_json,
    split_lines,
)

DEPOSIT = {"type": "deposit", "key": "d-1", "client_id": "ales", "asset": "BYN", "amount": "1.00", "reference": "r"}


def refusal(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read_json(text)
    return caught.value


def test_a_key_given_twice_is_refused_by_name_even_when_it_is_the_type() -> None:
    error = refusal('{"type": "deposit", "key": "k", "type": "withdraw"}')
    assert error.message == "duplicate key 'type'"


def test_a_key_given_twice_deep_inside_is_refused_with_where_it_is() -> None:
    error = refusal('[{"metadata": {"a": "1", "a": "2"}}]')
    assert (error.message, error.where()) == ("duplicate key 'a'", "[0].metadata")


def test_json_nested_beyond_the_limit_is_refused_however_deep() -> None:
    assert "nested deeper" in refusal("[" * (JSON_DEPTH_MAX + 1) + "]" * (JSON_DEPTH_MAX + 1)).message
    assert "nested deeper" in refusal("[" * 200_000).message
    assert read_json("[" * JSON_DEPTH_MAX + "]" * JSON_DEPTH_MAX) is not None


def test_strings_and_keys_beyond_the_limit_are_refused() -> None:
    long = "x" * (JSON_STRING_LENGTH_MAX + 1)
    assert "longer than" in refusal(f'{{"a": "{long}"}}').message
    assert "longer than" in refusal(f'{{"{long}": 1}}').message


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": ' + "9" * 5000 + "}"])
def test_numbers_json_does_not_have_or_python_will_not_read_are_refused(text: str) -> None:
    assert refusal(text).message.startswith("Invalid JSON")


@pytest.mark.parametrize("text", ['{"a": "\\ud800"}', '{"\\udfff": 1}'])
def test_a_lone_surrogate_is_not_text(text: str) -> None:
    assert "lone surrogate" in refusal(text).message


def test_a_raw_line_separator_inside_a_string_does_not_end_the_line() -> None:
    data = '{"metadata": {"note": "one\u2028two\u0085three"}}\n{"b": 1}\n'.encode()
    lines = split_lines(data)
    assert [number for number, _ in lines] == [1, 2, 3]
    assert read_json(decode_line(lines[0][1])) == {"metadata": {"note": "one\u2028two\u0085three"}}


def test_a_crlf_line_reads_as_its_json_and_a_leading_byte_order_mark_is_ignored() -> None:
    lines = split_lines(b'\xef\xbb\xbf{"a": 1}\r\n{"b": 2}\r\n')
    assert [read_json(decode_line(line)) for _, line in lines[:2]] == [{"a": 1}, {"b": 2}]


def test_undecodable_bytes_name_the_line_and_the_byte() -> None:
    with pytest.raises(InputError, match=r"not UTF-8: byte 0xff at byte 7 of the line"):
        decode_line(b'{"a": \xff}')
    with pytest.raises(InputError, match=r"line 2: not UTF-8: byte 0xc3 at byte 3 of the line"):
        decode_utf8(b'{"a":\n  \xc3(\n}')


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reference", "BYN\x00IN", "control character U+0000 at character 4"),
        ("reference", "a\u2028b", "line break U+2028"),
        ("reference", "a\tb", "control character U+0009"),
        ("reference", "a\x85b", "control character U+0085"),
        ("metadata", {"note": "a\x1bb"}, "control character U+001B"),
        ("amount", "10\n", "not a plain decimal"),
        ("amount", "\u0661\u0662.\u0665\u0660", "not a plain decimal"),
        ("amount", "\uff11", "not a plain decimal"),
        ("amount", " 1", "not a plain decimal"),
    ],
)
def test_command_text_refuses_what_its_field_does_not_need(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        COMMAND_ADAPTER.validate_python({**DEPOSIT, field: value})


def test_a_name_in_the_travel_rule_data_refuses_a_nul_and_says_which() -> None:
    settlement = {
        "type": "initiate_settlement", "key": "s", "settlement_id": "s", "client_id": "c", "direction": "export",
        "counterparty": "X", "country": "DE", "contract_reference": "c", "asset": "BYN", "amount": "1",
        "beneficiary": {"name": "Baltic\x00Wood"},
    }  # fmt: skip
    with pytest.raises(ValidationError, match=r"beneficiary\n.*name: the control character U\+0000"):
        COMMAND_ADAPTER.validate_python(settlement)


def test_awkward_but_valid_text_is_accepted_whole() -> None:
    name = "\u05e9\u05dc\u05d5\u05dd\u200f e\u0301 \U0001f600 \U00020000 \"'<script>"
    command = COMMAND_ADAPTER.validate_python({**DEPOSIT, "reference": name, "metadata": {"n": "a\u2028b"}})
    assert (command.reference, command.metadata) == (name, {"n": "a\u2028b"})


@pytest.mark.parametrize("text", ["10\n", "1\n0", "\u0661", "12.5\u0660", "1 "])
def test_the_domain_parses_only_a_whole_plain_ascii_decimal(text: str) -> None:
    with pytest.raises(AmountNotDecimal, match="not a plain decimal number"):
        parse_amount(text, asset="BYN", scale=2)
