"""The limits of assets and amounts, pinned by their literal values.

A limit checked only against itself (`parse(str(MAX))`) passes whatever MAX
is; these tests name each value, and check the behaviour exactly at the limit
and one past it.
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from domain.errors import (
    AmountNotDecimal,
    AmountNotPositive,
    AmountNotText,
    AmountTooLarge,
    AmountTooLong,
    AmountTooPrecise,
)
from domain.money import (
    AMOUNT_MINOR_MAX,
    AMOUNT_TEXT_LENGTH_MAX,
    ASSET_CODE_PATTERN,
    DECIMAL_PATTERN,
    DECIMAL_SCHEMA_PATTERN,
    SCALE_MAX,
    Asset,
    AssetKind,
    check_amount_minor,
    decimal_digits,
    format_amount,
    parse_amount,
)


def test_the_limits_have_their_documented_values() -> None:
    assert SCALE_MAX == 18
    assert AMOUNT_MINOR_MAX == 10**36
    assert AMOUNT_TEXT_LENGTH_MAX == 60
    assert ASSET_CODE_PATTERN == r"^[A-Z][A-Z0-9]{1,11}$"
    assert DECIMAL_PATTERN == r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?"
    assert DECIMAL_SCHEMA_PATTERN == r"^[0-9]+(?:\.[0-9]+)?$"


def test_ten_to_the_36_minor_units_is_accepted_and_one_more_is_refused() -> None:
    assert parse_amount("1" + "0" * 36, asset="BRZ", scale=0) == 10**36
    with pytest.raises(AmountTooLarge, match=r"'1000000000000000000\.000000000000000001' for ETH") as refused:
        parse_amount("1" + "0" * 18 + "." + "0" * 17 + "1", asset="ETH", scale=18)
    assert refused.value.context["reason"] == "exceeds the ledger's limit of " + "1" + "0" * 36 + " minor units"


def test_the_minor_unit_check_takes_one_and_the_limit_and_refuses_zero_and_past_it() -> None:
    check_amount_minor(1, asset="BYN", scale=2)
    check_amount_minor(10**36, asset="BYN", scale=2)
    with pytest.raises(AmountNotPositive, match=r"'0\.00' for BYN: must be greater than zero"):
        check_amount_minor(0, asset="BYN", scale=2)
    with pytest.raises(AmountNotPositive, match=r"'-0\.05' for BYN"):
        check_amount_minor(-5, asset="BYN", scale=2)
    with pytest.raises(AmountTooLarge):
        check_amount_minor(10**36 + 1, asset="BYN", scale=2)


def test_amount_text_of_sixty_characters_is_read_and_of_sixty_one_refused() -> None:
    assert parse_amount("0" * 59 + "7", asset="BRZ", scale=0) == 7
    with pytest.raises(AmountTooLong, match="too many digits") as refused:
        parse_amount("0" * 60 + "7", asset="BRZ", scale=0)
    assert refused.value.context["amount"] == "0" * 20 + "..."


def test_an_asset_of_eighteen_decimals_like_eth_is_accepted_and_of_nineteen_refused() -> None:
    eth = Asset(code="ETH", scale=18, kind=AssetKind.CRYPTO)
    assert eth.parse("0.000000000000000001") == 1
    assert eth.parse("1.5") == 15 * 10**17
    assert eth.format(1) == "0.000000000000000001"
    with pytest.raises(ValidationError, match="less than or equal to 18"):
        Asset(code="XYZ", scale=19, kind=AssetKind.CRYPTO)
    with pytest.raises(AmountTooPrecise, match="ETH has 18 decimal places, 19 given"):
        eth.parse("0.0000000000000000001")


def test_an_asset_of_no_decimals_is_accepted_and_a_negative_scale_refused() -> None:
    assert Asset(code="BRZ", scale=0, kind=AssetKind.TOKEN).parse("12") == 12
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Asset(code="BRZ", scale=-1, kind=AssetKind.TOKEN)


@pytest.mark.parametrize("code", ["BY", "BYN", "USDT", "X2", "ABCDEFGHIJKL"])
def test_asset_codes_of_two_to_twelve_capitals_and_digits_are_accepted(code: str) -> None:
    assert Asset(code=code, scale=2, kind=AssetKind.FIAT).code == code


@pytest.mark.parametrize("code", ["B", "ABCDEFGHIJKLM", "byn", "2BY", "BY N", "BYN\n", "ВYN", "", "B-N"])
def test_asset_codes_of_one_letter_or_too_many_or_other_characters_are_refused(code: str) -> None:
    with pytest.raises(ValidationError, match="String should match pattern"):
        Asset(code=code, scale=2, kind=AssetKind.FIAT)


@pytest.mark.parametrize("text", ["١٢.٥٠", "１２.５０", "12.٥", "߁", "١٢"])
def test_digits_of_other_scripts_are_refused_not_read_as_ascii(text: str) -> None:
    assert int("١٢") == 12  # what a reader without the ASCII rule would take
    assert decimal_digits(text) is None
    with pytest.raises(AmountNotDecimal, match="not a plain decimal number"):
        parse_amount(text, asset="BYN", scale=2)
    assert re.fullmatch(DECIMAL_SCHEMA_PATTERN, text, re.ASCII) is None


def test_decimal_digits_are_the_whole_and_the_fraction_or_none() -> None:
    assert decimal_digits("0012.500") == ("0012", "500")
    assert decimal_digits("7") == ("7", "")
    assert decimal_digits(7) is None
    assert decimal_digits(None) is None
    assert decimal_digits("1.2.3") is None
    assert decimal_digits("12.50\n") is None


@pytest.mark.parametrize(
    ("minor", "scale", "text"),
    [
        (0, 0, "0"),
        (-7, 0, "-7"),
        (5, 1, "0.5"),
        (-5, 3, "-0.005"),
        (123456, 3, "123.456"),
        (10**36, 18, "1" + "0" * 18 + "." + "0" * 18),
    ],
)
def test_amounts_format_with_their_sign_and_every_decimal_place(minor: int, scale: int, text: str) -> None:
    assert format_amount(minor, scale=scale) == text


def test_an_asset_parses_and_formats_at_its_own_scale() -> None:
    usdt = Asset(code="USDT", scale=6, kind=AssetKind.CRYPTO)
    assert usdt.parse("1.25") == 1_250_000
    assert usdt.format(1_250_000) == "1.250000"
    with pytest.raises(AmountTooPrecise, match=r"invalid amount '0\.0000001' for USDT: USDT has 6 decimal places, 7"):
        usdt.parse("0.0000001")


NINES_61 = "9" * 61


@pytest.mark.parametrize(
    ("text", "scale", "error", "context"),
    [
        (12.5, 2, AmountNotText, {"amount": 12.5, "reason": "amounts are decimal strings, like '12.50'"}),
        (NINES_61, 0, AmountTooLong, {"amount": "9" * 20 + "...", "reason": "too many digits"}),
        ("1e3", 2, AmountNotDecimal, {"amount": "1e3", "reason": "not a plain decimal number like '12.50'"}),
        ("0.001", 2, AmountTooPrecise, {"amount": "0.001", "reason": "BYN has 2 decimal places, 3 given"}),
        ("7.5", 0, AmountTooPrecise, {"amount": "7.5", "reason": "BYN has 0 decimal places, 1 given"}),
        ("0.00", 2, AmountNotPositive, {"amount": "0.00", "reason": "must be greater than zero"}),
        ("000", 0, AmountNotPositive, {"amount": "0", "reason": "must be greater than zero"}),
        (
            "1" + "0" * 35 + "1",
            0,
            AmountTooLarge,
            {"amount": "1" + "0" * 35 + "1", "reason": "exceeds the ledger's limit of 1" + "0" * 36 + " minor units"},
        ),
    ],
)
def test_each_refusal_of_an_amount_carries_exactly_its_context(
    text: object, scale: int, error: type[Exception], context: dict[str, object]
) -> None:
    with pytest.raises(error) as refused:
        parse_amount(text, asset="BYN", scale=scale)  # type: ignore[arg-type]
    assert type(refused.value) is error
    assert refused.value.context == {"asset": "BYN", **context}  # type: ignore[attr-defined]
    assert str(refused.value) == f"invalid amount {context['amount']!r} for BYN: {context['reason']}"
