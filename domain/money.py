"""Assets and amounts: integer minor units inside, decimal strings at the boundary."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from domain.errors import (
    AmountNotDecimal,
    AmountNotPositive,
    AmountNotText,
    AmountTooLarge,
    AmountTooLong,
    AmountTooPrecise,
)

SCALE_MAX = 18
# The largest amount the ledger accepts, in minor units: 10**36 is 10**18 whole
# units of an 18-decimal asset, far beyond any real supply, and keeps sums of
# many postings well inside what every store and JSON reader handles as text.
AMOUNT_MINOR_MAX = 10**36
AMOUNT_TEXT_LENGTH_MAX = 60

# Minor units travel as JSON strings (RFC 8785 numbers are doubles: 2**53 would
# silently lose precision), and are plain ints in Python.
MinorUnits = Annotated[int, PlainSerializer(str, return_type=str, when_used="json")]

ASSET_CODE_PATTERN = r"^[A-Z][A-Z0-9]{1,11}$"
# A plain decimal is ASCII digits with at most one point between digits, and
# nothing else: no sign, exponent, grouping, whitespace or line break, and no
# other script's digits (`int` would read '١٢' as 12). Matched whole (fullmatch:
# a `$` would let a trailing newline through).
DECIMAL_PATTERN = r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?"
# The same, in the regex dialect of JSON Schema (for OpenAPI: no named groups).
DECIMAL_SCHEMA_PATTERN = r"^[0-9]+(?:\.[0-9]+)?$"
_DECIMAL = re.compile(DECIMAL_PATTERN, re.ASCII)


def decimal_digits(text: object) -> tuple[str, str] | None:
    """The whole and fraction digits of a plain decimal ('12.50' -> ('12', '50'),
    '7' -> ('7', '')), or None for anything else: the one reader of decimal
    text, for amounts, rates, settings and scenarios alike, so that no reader
    lets through what another refuses (whitespace or a line break anywhere, a
    sign, an exponent, another script's digits)."""
    if not isinstance(text, str):
        return None
    match = _DECIMAL.fullmatch(text)
    if match is None:
        return None
    return match["whole"], match["fraction"] or ""


class AssetKind(StrEnum):
    FIAT = "fiat"
    CRYPTO = "crypto"
    TOKEN = "token"  # noqa: S105 (an asset kind, not a secret)


class Asset(BaseModel):
    """An asset the ledger holds; `issuer_id` and `supply_cap_minor` are None
    for fiat and external crypto, which the bank holds but does not mint."""

    model_config = ConfigDict(frozen=True)

    code: Annotated[str, Field(pattern=ASSET_CODE_PATTERN)]
    scale: Annotated[int, Field(ge=0, le=SCALE_MAX)]
    kind: AssetKind
    issuer_id: str | None = None
    supply_cap_minor: MinorUnits | None = None

    def parse(self, text: str) -> int:
        return parse_amount(text, asset=self.code, scale=self.scale)

    def format(self, amount_minor: int) -> str:
        return format_amount(amount_minor, scale=self.scale)


def parse_amount(text: str, *, asset: str, scale: int) -> int:
    """A positive decimal string to minor units; never rounds, never floats."""
    if not isinstance(text, str):
        raise AmountNotText(amount=text, asset=asset, reason="amounts are decimal strings, like '12.50'")
    if len(text) > AMOUNT_TEXT_LENGTH_MAX:
        raise AmountTooLong(amount=text[:20] + "...", asset=asset, reason="too many digits")
    digits = decimal_digits(text)
    if digits is None:
        raise AmountNotDecimal(amount=text, asset=asset, reason="not a plain decimal number like '12.50'")
    whole, fraction = digits
    if len(fraction) > scale:
        raise AmountTooPrecise(
            amount=text,
            asset=asset,
            reason=f"{asset} has {scale} decimal places, {len(fraction)} given",
        )
    amount_minor = int(whole + fraction.ljust(scale, "0"))
    check_amount_minor(amount_minor, asset=asset, scale=scale)
    return amount_minor


def check_amount_minor(amount_minor: int, *, asset: str, scale: int) -> None:
    if amount_minor <= 0:
        raise AmountNotPositive(
            amount=format_amount(amount_minor, scale=scale),
            asset=asset,
            reason="must be greater than zero",
        )
    if amount_minor > AMOUNT_MINOR_MAX:
        raise AmountTooLarge(
            amount=format_amount(amount_minor, scale=scale),
            asset=asset,
            reason=f"exceeds the ledger's limit of {AMOUNT_MINOR_MAX} minor units",
        )


def format_amount(amount_minor: int, *, scale: int) -> str:
    sign = "-" if amount_minor < 0 else ""
    digits = str(abs(amount_minor)).rjust(scale + 1, "0")
    if scale == 0:
        return sign + digits
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"
