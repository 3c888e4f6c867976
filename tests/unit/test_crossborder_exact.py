"""Cross-border helpers, exactly: reference rates read to the last digit, report
figures rounded half to even to the cent and to four places, the overdue
status, and what the travel rule still needs of a party."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from domain.crossborder import PartyInfo, SettlementStatus, cents_text, is_overdue, parse_rate, ratio_text

IDENTIFIED_BY = "address, national_id, customer_id or birth_date and birth_place"


@pytest.mark.parametrize("text", ["0", "0.0000", "000.000000000000"])
def test_a_zero_rate_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^rate '{text}' must be greater than zero$"):
        parse_rate(text)


def test_the_smallest_rate_is_one_in_the_last_place() -> None:
    assert parse_rate("0.000000000001") == Fraction(1, 10**12)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(0), "0.00"),
        (Fraction(1, 100), "0.01"),
        (Fraction(-1, 100), "-0.01"),
        (Fraction(-123456, 100), "-1234.56"),
        (Fraction(5, 1000), "0.00"),  # half to even: down to 0
        (Fraction(15, 1000), "0.02"),  # half to even: up to 2
        (Fraction(25, 1000), "0.02"),  # half to even: down to 2
        (Fraction(-25, 1000), "-0.02"),
        (Fraction(-4, 1000), "0.00"),  # rounds to zero: no sign
        (Fraction(-6, 1000), "-0.01"),
        (Fraction(1999, 10), "199.90"),
    ],
)
def test_a_value_is_shown_to_the_cent_half_to_even(value: Fraction, text: str) -> None:
    assert cents_text(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(0), "0.0000"),
        (Fraction(1), "1.0000"),
        (Fraction(3, 2), "1.5000"),
        (Fraction(1, 3), "0.3333"),
        (Fraction(2, 3), "0.6667"),
        (Fraction(1, 10000), "0.0001"),
        (Fraction(5, 100000), "0.0000"),  # half to even: down to 0
        (Fraction(15, 100000), "0.0002"),  # half to even: up to 2
        (Fraction(47265, 100000), "0.4726"),  # half to even: down to 6
        (Fraction(123456789, 10000), "12345.6789"),
    ],
)
def test_a_share_is_shown_to_four_places_half_to_even(value: Fraction, text: str) -> None:
    assert ratio_text(value) == text


def test_a_share_may_be_shown_to_other_places() -> None:
    assert (ratio_text(Fraction(1, 3), 2), ratio_text(Fraction(1, 8), 6)) == ("0.33", "0.125000")


def test_only_the_overdue_status_is_overdue() -> None:
    assert [status for status in SettlementStatus if is_overdue(status)] == [SettlementStatus.OVERDUE]
    assert (is_overdue("overdue"), is_overdue("open"), is_overdue("")) == (True, False, False)


@pytest.mark.parametrize(
    "party",
    [
        PartyInfo(name="Jan", account="client:jan", country="PL", birth_date=date(1990, 5, 17)),
        PartyInfo(name="Jan", account="client:jan", country="PL", birth_place="Gdansk"),
        PartyInfo(name="Jan", account="client:jan", country="PL"),
    ],
)
def test_a_date_or_a_place_of_birth_alone_does_not_identify_a_party(party: PartyInfo) -> None:
    assert party.missing() == [IDENTIFIED_BY]


def test_a_date_and_a_place_of_birth_together_identify_a_party() -> None:
    party = PartyInfo(
        name="Jan", account="client:jan", country="PL", birth_date=date(1990, 5, 17), birth_place="Gdansk"
    )
    assert party.missing() == []


def test_an_empty_party_misses_everything_the_travel_rule_needs() -> None:
    assert PartyInfo().missing() == ["name", "account", "country", IDENTIFIED_BY]
