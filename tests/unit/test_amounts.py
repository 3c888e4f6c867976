"""Amounts are integers in minor units inside and decimal strings at the boundary."""

from fractions import Fraction

import pytest
from pydantic import ValidationError

from domain.commands import COMMAND_ADAPTER
from domain.crossborder import parse_rate
from domain.errors import (
    AmountNotDecimal,
    AmountNotPositive,
    AmountNotText,
    AmountTooLarge,
    AmountTooLong,
    AmountTooPrecise,
    InvalidAmount,
)
from domain.money import AMOUNT_MINOR_MAX, decimal_digits, format_amount, parse_amount
from ledger.scenario import _minor as scenario_minor


@pytest.mark.parametrize(
    ("text", "scale", "minor"),
    [
        ("12.50", 2, 1250),
        ("12.5", 2, 1250),
        ("12", 2, 1200),
        ("0.01", 2, 1),
        ("7", 0, 7),
        ("1.000000000000000001", 18, 10**18 + 1),
        ("0.00000001", 8, 1),
    ],
)
def test_decimal_strings_become_exact_minor_units(text: str, scale: int, minor: int) -> None:
    assert parse_amount(text, asset="X", scale=scale) == minor


@pytest.mark.parametrize(
    ("text", "error", "reason"),
    [
        ("0", AmountNotPositive, "greater than zero"),
        ("0.00", AmountNotPositive, "greater than zero"),
        ("-1", AmountNotDecimal, "plain decimal"),
        ("NaN", AmountNotDecimal, "plain decimal"),
        ("Infinity", AmountNotDecimal, "plain decimal"),
        ("1e3", AmountNotDecimal, "plain decimal"),
        ("1,000.00", AmountNotDecimal, "plain decimal"),
        (" 1.00", AmountNotDecimal, "plain decimal"),
        ("1.", AmountNotDecimal, "plain decimal"),
        (".5", AmountNotDecimal, "plain decimal"),
        ("", AmountNotDecimal, "plain decimal"),
        ("1.005", AmountTooPrecise, "2 decimal places, 3 given"),
        ("9" * 59, AmountTooLarge, "exceeds the ledger's limit"),
        ("9" * 61, AmountTooLong, "too many digits"),
    ],
)
def test_bad_amount_text_is_refused_with_the_reason(text: str, error: type[InvalidAmount], reason: str) -> None:
    with pytest.raises(error, match=reason) as refused:
        parse_amount(text, asset="BYN", scale=2)
    assert type(refused.value) is error
    assert refused.value.context["asset"] == "BYN"


def test_more_decimals_than_the_scale_is_an_error_never_rounded() -> None:
    with pytest.raises(AmountTooPrecise, match="BYN has 2 decimal places, 3 given") as refused:
        parse_amount("0.001", asset="BYN", scale=2)
    assert refused.value.context == {"amount": "0.001", "asset": "BYN", "reason": "BYN has 2 decimal places, 3 given"}


def test_a_float_is_not_an_amount() -> None:
    with pytest.raises(AmountNotText, match="decimal strings"):
        parse_amount(12.5, asset="BYN", scale=2)  # type: ignore[arg-type]


def test_the_largest_amount_is_accepted_and_one_more_is_not() -> None:
    assert parse_amount(str(AMOUNT_MINOR_MAX), asset="BRZ", scale=0) == AMOUNT_MINOR_MAX
    with pytest.raises(AmountTooLarge, match=f"limit of {AMOUNT_MINOR_MAX} minor units"):
        parse_amount(str(AMOUNT_MINOR_MAX + 1), asset="BRZ", scale=0)


@pytest.mark.parametrize(
    ("minor", "scale", "text"),
    [
        (1250, 2, "12.50"),
        (1, 2, "0.01"),
        (-1, 2, "-0.01"),
        (0, 2, "0.00"),
        (7, 0, "7"),
        (10**18, 18, "1." + "0" * 18),
    ],
)
def test_minor_units_format_with_every_decimal_place(minor: int, scale: int, text: str) -> None:
    assert format_amount(minor, scale=scale) == text


def test_formatting_then_parsing_gives_back_the_amount() -> None:
    for minor in (1, 99, 100, 123456789, 10**30 + 7):
        assert parse_amount(format_amount(minor, scale=8), asset="BTC", scale=8) == minor


# Whitespace anywhere, read by every reader of decimal text alike.
NOT_PLAIN = ["10\n", " 10", "1 0", "10\t", "\n10", "10\r\n", "10 ", "1\u00a00", "10\u2028", "1.\n5", "\t"]


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_no_reader_of_decimal_text_takes_whitespace_or_a_line_break_anywhere(text: str) -> None:
    assert decimal_digits(text) is None
    with pytest.raises(AmountNotDecimal):
        parse_amount(text, asset="BYN", scale=2)
    with pytest.raises(ValueError, match="not a plain decimal"):
        parse_rate(text)
    assert scenario_minor(2, text) is None
    assert scenario_minor(2, "-" + text) is None
    commands: list[dict[str, object]] = [
        {"type": "deposit", "key": "d", "client_id": "a", "asset": "BYN", "amount": text, "reference": "r"},
        {"type": "fund_treasury", "key": "f", "asset": "BYN", "amount": text, "reference": "r"},
        {"type": "register_token", "key": "t", "code": "SVT", "scale": 2, "issuer_id": "i", "supply_cap": text},
        {"type": "set_reference_rate", "key": "r", "code": "USD", "byn_per_unit": text, "effective_on": "2026-01-01"},
        {"type": "set_compliance_settings", "key": "s", "base_unit_byn": text},
        {"type": "set_volume_cap", "key": "v", "asset": "BYN", "daily_cap": text},
    ]
    for command in commands:
        with pytest.raises(ValidationError):
            COMMAND_ADAPTER.validate_python(command)


def test_plain_decimals_are_read_the_same_by_every_reader() -> None:
    assert decimal_digits("12.50") == ("12", "50")
    assert decimal_digits("7") == ("7", "")
    assert parse_amount("12.50", asset="BYN", scale=2) == 1250
    assert parse_rate("3.2750") == Fraction(131, 40)
    assert scenario_minor(2, "-12.5") == -1250
    assert scenario_minor(2, "0") == 0
