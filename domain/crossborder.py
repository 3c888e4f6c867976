"""Cross-border settlements, travel-rule data, reference rates and compliance settings.

A settlement sends a client's value abroad under a foreign contract: it waits
in the in-transit account until it comes back (returned, in full or in
parts), or the goods it paid for arrive (an import closed by delivery). When
ledger time passes the deadline with value outstanding, it is overdue.
Currency control expects export proceeds within 180 days and import
deliveries within 90: defaults of the bank's settings, not law.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain.money import Asset, MinorUnits, decimal_digits
from domain.parties import ClientKind

COUNTRY_PATTERN = r"^[A-Z]{2}$"
RATE_DIGITS_MAX = 12  # on each side of the point
# For the schema (OpenAPI) and pydantic's first look; `parse_rate` reads the text.
RATE_SCHEMA_PATTERN = rf"^[0-9]{{1,{RATE_DIGITS_MAX}}}(?:\.[0-9]{{1,{RATE_DIGITS_MAX}}})?$"
DEADLINE_DAYS_MAX = 3650
BYN = "BYN"
USD = "USD"  # a rate key only: dollars need not be an asset of the ledger

Country = Annotated[str, Field(pattern=COUNTRY_PATTERN)]


def _rate_digits(text: str) -> tuple[str, str]:
    digits = decimal_digits(text)
    if digits is None or len(digits[0]) > RATE_DIGITS_MAX or len(digits[1]) > RATE_DIGITS_MAX:
        raise ValueError(f"rate {text!r} is not a plain decimal like '3.2750'")
    return digits


def _rate_text(text: str) -> str:
    _rate_digits(text)  # a ValueError is pydantic's to report, as a field's; a zero rate is the decider's
    return text


RateText = Annotated[str, Field(pattern=RATE_SCHEMA_PATTERN), AfterValidator(_rate_text)]


class Direction(StrEnum):
    EXPORT = "export"
    IMPORT = "import"


class SettlementStatus(StrEnum):
    OPEN = "open"
    RETURNED = "returned"
    CLOSED = "closed"
    OVERDUE = "overdue"


class SettlementMove(StrEnum):
    """What can happen to a settlement once initiated: one event each
    (`FundsReturned`, `SettlementClosedByDelivery`, `SettlementDeadlineExtended`,
    `SettlementOverdue`)."""

    RETURN = "return"
    DELIVERY = "delivery"
    EXTENSION = "extension"
    DEADLINE_PASSED = "deadline_passed"


# The one settlement status machine: the decider asks it what may happen, and
# the decision state, the views and the reports all take statuses from it.
# A return leaves the status as it was until nothing is outstanding.
SETTLEMENT_TRANSITIONS: Mapping[SettlementMove, Mapping[SettlementStatus, SettlementStatus]] = {
    SettlementMove.RETURN: {
        SettlementStatus.OPEN: SettlementStatus.RETURNED,
        SettlementStatus.OVERDUE: SettlementStatus.RETURNED,
    },
    SettlementMove.DELIVERY: {
        SettlementStatus.OPEN: SettlementStatus.CLOSED,
        SettlementStatus.OVERDUE: SettlementStatus.CLOSED,
    },
    # An overdue settlement is extended only under a permit (every extension
    # names one); it is outstanding again, its overdue history in the events.
    SettlementMove.EXTENSION: {
        SettlementStatus.OPEN: SettlementStatus.OPEN,
        SettlementStatus.OVERDUE: SettlementStatus.OPEN,
    },
    SettlementMove.DEADLINE_PASSED: {SettlementStatus.OPEN: SettlementStatus.OVERDUE},
}
SETTLEMENT_INITIAL_STATUS = SettlementStatus.OPEN
OUTSTANDING_STATUSES = frozenset({SettlementStatus.OPEN, SettlementStatus.OVERDUE})
"""Statuses with value still abroad: returns and deliveries may follow."""


def settlement_may(status: SettlementStatus, move: SettlementMove) -> bool:
    """Whether a settlement in `status` may take `move`."""
    return status in SETTLEMENT_TRANSITIONS[move]


def settlement_status(status: SettlementStatus, move: SettlementMove, outstanding_minor: int) -> SettlementStatus:
    """The status after `move`, given what is outstanding after it."""
    assert settlement_may(status, move), (status, move)
    if move == SettlementMove.RETURN and outstanding_minor:
        return status  # returned in part
    return SETTLEMENT_TRANSITIONS[move][status]


def is_overdue(status: str) -> bool:
    return status == SettlementStatus.OVERDUE


def settlement_outstanding_minor(sent_minor: int, returned_minor: int, delivered_minor: int) -> int:
    """What of a settlement is still abroad: sent, less returned and delivered."""
    return sent_minor - returned_minor - delivered_minor


class PartyInfo(BaseModel):
    """FATF travel-rule data about the originator or the beneficiary. Any
    field may be empty; `missing()` says which the rule still needs: a name,
    an account or wallet, a country, and one of address, national id,
    customer id, or date and place of birth."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    account: str | None = Field(default=None, max_length=128)
    address: str | None = Field(default=None, max_length=300)
    national_id: str | None = Field(default=None, max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    birth_date: date | None = None
    birth_place: str | None = Field(default=None, max_length=200)
    country: Country | None = None

    def missing(self) -> list[str]:
        gaps = [name for name in ("name", "account", "country") if not getattr(self, name)]
        identified = self.address or self.national_id or self.customer_id or (self.birth_date and self.birth_place)
        if not identified:
            gaps.append("address, national_id, customer_id or birth_date and birth_place")
        return gaps


BACKDATING_WINDOW_DAYS_DEFAULT = 7
BACKDATING_WINDOW_DAYS_MAX = 366


@functools.lru_cache(maxsize=64)
def _hours(hours: int) -> timedelta:
    """Made once per length: the write path asks for the AML window per operation."""
    return timedelta(hours=hours)


AML_WINDOW_HOURS_DEFAULT = 24  # one ledger day back from the operation
AML_WINDOW_HOURS_MAX = 31 * 24


class ComplianceSettings(BaseModel):
    """Thresholds and deadlines; each is recorded as an event when changed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    travel_rule_threshold_usd: Fraction = Fraction(1000)
    aml_individual_base_units: Fraction = Fraction(2000)
    aml_company_base_units: Fraction = Fraction(20000)
    base_unit_byn: Fraction = Fraction(45)
    export_deadline_days: int = Field(default=180, ge=1, le=DEADLINE_DAYS_MAX)
    import_deadline_days: int = Field(default=90, ge=1, le=DEADLINE_DAYS_MAX)
    # New since the first settings: an event stored before them has none, which is the default.
    aml_window_hours: int = Field(default=AML_WINDOW_HOURS_DEFAULT, ge=1, le=AML_WINDOW_HOURS_MAX)
    self_hosted_proof_threshold_eur: Fraction = Fraction(1000)
    # Sorted, never a set, so that the event's bytes are the same every run.
    settling_kinds: Annotated[tuple[ClientKind, ...], AfterValidator(lambda kinds: tuple(sorted(set(kinds))))] = (
        ClientKind.COMPANY,
        ClientKind.SELF_EMPLOYED,
    )

    def aml_threshold_byn(self, kind: ClientKind) -> Fraction:
        # Not cached on the instance: model_copy would carry a cached value
        # over to a copy with another base unit.
        units = self.aml_company_base_units if kind == ClientKind.COMPANY else self.aml_individual_base_units
        return units * self.base_unit_byn

    @property
    def aml_window(self) -> timedelta:
        return _hours(self.aml_window_hours)

    def deadline_days(self, direction: Direction) -> int:
        return self.export_deadline_days if direction == Direction.EXPORT else self.import_deadline_days


class Settlement(BaseModel):
    """One outbound settlement. `returned_minor` came back; `delivered_minor`
    was settled by the delivery of goods; the rest is outstanding."""

    model_config = ConfigDict(frozen=True)

    settlement_id: str
    client_id: str
    direction: Direction
    counterparty: str
    country: str
    contract_reference: str
    asset: str
    sent_minor: MinorUnits
    returned_minor: MinorUnits = 0
    delivered_minor: MinorUnits = 0
    initiated_on: date
    deadline: date
    status: SettlementStatus = SETTLEMENT_INITIAL_STATUS

    @property
    def outstanding_minor(self) -> int:
        return settlement_outstanding_minor(self.sent_minor, self.returned_minor, self.delivered_minor)


def parse_rate(text: str) -> Fraction:
    """A positive decimal rate, exactly: '3.2750' BYN per unit."""
    whole, fraction = _rate_digits(text)
    value = Fraction(int(whole + fraction), 10 ** len(fraction))
    if value <= 0:
        raise ValueError(f"rate {text!r} must be greater than zero")
    return value


def value_in_byn(amount_minor: int, asset: Asset, rate_byn: Fraction) -> Fraction:
    """The exact BYN value of an amount at a rate of BYN per whole unit."""
    return Fraction(amount_minor, 10**asset.scale) * rate_byn


def cents_text(value: Fraction) -> str:
    """A BYN or USD value for reports, to the cent, half to even (reporting only:
    balances are never rounded)."""
    kopecks = round(value * 100)
    sign = "-" if kopecks < 0 else ""
    whole, part = divmod(abs(kopecks), 100)
    return f"{sign}{whole}.{part:02d}"


def ratio_text(value: Fraction, places: int = 4) -> str:
    """A share like 0.4727, half to even, without floats."""
    scaled = round(value * 10**places)
    whole, part = divmod(scaled, 10**places)
    return f"{whole}.{part:0{places}d}"
