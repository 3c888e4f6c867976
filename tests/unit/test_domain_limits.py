"""Every limit of the domain, pinned by its literal value, and the commands
that carry one taken exactly at the limit and refused one past it."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError

from domain import aml, calendar, commands, crossborder, events, ivms101, parties, state
from domain.commands import COMMAND_ADAPTER
from domain.crossborder import parse_rate
from domain.rules import compliance


def test_the_limits_have_their_documented_values() -> None:
    assert aml.WINDOW_OPERATIONS_MAX == 1000
    assert calendar.TIME_ZONE_NAME_LENGTH_MAX == 64
    assert commands.REFERENCE_LENGTH_MAX == 128
    assert commands.REGISTER_ENTRY_LENGTH_MAX == 64
    assert commands.WALLET_ADDRESS_LENGTH_MAX == 90
    assert commands.VENUE_ASSETS_MAX == 200
    assert commands.METADATA_ENTRIES_MAX == 20
    assert commands.METADATA_VALUE_LENGTH_MAX == 500
    assert commands.CLOCK_ADVANCE_SECONDS_MAX == 316_224_000
    assert crossborder.RATE_DIGITS_MAX == 12
    assert crossborder.DEADLINE_DAYS_MAX == 3650
    assert crossborder.BACKDATING_WINDOW_DAYS_DEFAULT == 7
    assert crossborder.BACKDATING_WINDOW_DAYS_MAX == 366
    assert crossborder.AML_WINDOW_HOURS_DEFAULT == 24
    assert crossborder.AML_WINDOW_HOURS_MAX == 744
    assert events.POSTINGS_PER_TRANSACTION_MAX == 16
    assert (ivms101.PERSONS_MAX, ivms101.ACCOUNTS_MAX, ivms101.ADDRESSES_MAX) == (4, 4, 3)
    assert parties.NAME_LENGTH_MAX == 200


def test_the_input_patterns_have_their_documented_values() -> None:
    # Each is a stored and published contract: the OpenAPI schema and the JSON Schema of scenarios carry them.
    assert commands.IDEMPOTENCY_KEY_PATTERN == r"^[\x21-\x7e]{1,128}$"
    assert commands.METADATA_KEY_PATTERN == r"^[A-Za-z0-9_.:-]{1,40}$"
    assert commands.WALLET_ADDRESS_PATTERN == (
        r"^(0[xX][0-9a-fA-F]{40}|[bBtT][cCbB]1[0-9A-Za-z]{6,87}|[13T][1-9A-HJ-NP-Za-km-z]{24,34})$"
    )
    assert crossborder.COUNTRY_PATTERN == r"^[A-Z]{2}$"
    assert crossborder.RATE_SCHEMA_PATTERN == r"^[0-9]{1,12}(?:\.[0-9]{1,12})?$"
    assert parties.PARTY_ID_PATTERN == r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def test_the_defaults_have_their_documented_values() -> None:
    assert (calendar.DEFAULT_TIME_ZONE, calendar.UNRECORDED_TIME_ZONE) == ("Europe/Minsk", "UTC")
    assert state.BANK_SCOPE == ""
    assert state.BYN_RATE == 1
    assert compliance.OTHER_RATE_CODES == ("USD", "EUR")
    assert crossborder.SETTLEMENT_INITIAL_STATUS == crossborder.SettlementStatus.OPEN


DEPOSIT: dict[str, Any] = {"type": "deposit", "key": "d", "client_id": "a", "asset": "BYN", "amount": "1"}


def command_with(base: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**base, **fields}


@pytest.mark.parametrize(
    ("at_limit", "past_limit"),
    [
        (command_with(DEPOSIT, reference="r" * 128), command_with(DEPOSIT, reference="r" * 129)),
        (
            command_with(DEPOSIT, reference="r", metadata={f"k{i}": "v" for i in range(20)}),
            command_with(DEPOSIT, reference="r", metadata={f"k{i}": "v" for i in range(21)}),
        ),
        (
            command_with(DEPOSIT, reference="r", metadata={"k": "v" * 500}),
            command_with(DEPOSIT, reference="r", metadata={"k": "v" * 501}),
        ),
        (
            {"type": "set_compliance_settings", "key": "s", "export_deadline_days": 3650},
            {"type": "set_compliance_settings", "key": "s", "export_deadline_days": 3651},
        ),
        (
            {"type": "set_compliance_settings", "key": "s", "import_deadline_days": 3650},
            {"type": "set_compliance_settings", "key": "s", "import_deadline_days": 3651},
        ),
        (
            {"type": "set_compliance_settings", "key": "s", "aml_window_hours": 744},
            {"type": "set_compliance_settings", "key": "s", "aml_window_hours": 745},
        ),
        (
            {"type": "set_backdating_window", "key": "b", "days": 366},
            {"type": "set_backdating_window", "key": "b", "days": 367},
        ),
        (
            {"type": "set_sandbox_clock", "key": "c", "advance_seconds": 316_224_000},
            {"type": "set_sandbox_clock", "key": "c", "advance_seconds": 316_224_001},
        ),
        (
            {
                "type": "onboard_client",
                "key": "o",
                "client_id": "a",
                "name": "N" * 200,
                "residency": "resident",
                "kind": "individual",
            },
            {
                "type": "onboard_client",
                "key": "o",
                "client_id": "a",
                "name": "N" * 201,
                "residency": "resident",
                "kind": "individual",
            },
        ),
    ],
)
def test_a_command_at_a_limit_is_taken_and_one_past_it_refused(
    at_limit: dict[str, Any], past_limit: dict[str, Any]
) -> None:
    COMMAND_ADAPTER.validate_python(at_limit)
    with pytest.raises(ValidationError) as refused:
        COMMAND_ADAPTER.validate_python(past_limit)
    (error,) = refused.value.errors()
    (field,) = [name for name in past_limit if past_limit[name] != at_limit[name]]
    assert field in error["loc"], error


def test_the_smallest_settings_are_one_day_one_hour_and_no_back_dating() -> None:
    COMMAND_ADAPTER.validate_python({"type": "set_compliance_settings", "key": "s", "export_deadline_days": 1})
    COMMAND_ADAPTER.validate_python({"type": "set_compliance_settings", "key": "s", "aml_window_hours": 1})
    COMMAND_ADAPTER.validate_python({"type": "set_backdating_window", "key": "b", "days": 0})
    for refused in (
        {"type": "set_compliance_settings", "key": "s", "export_deadline_days": 0},
        {"type": "set_compliance_settings", "key": "s", "aml_window_hours": 0},
        {"type": "set_backdating_window", "key": "b", "days": -1},
    ):
        with pytest.raises(ValidationError):
            COMMAND_ADAPTER.validate_python(refused)


def test_a_rate_of_twelve_digits_each_side_is_read_and_of_thirteen_refused() -> None:
    assert parse_rate("9" * 12 + "." + "9" * 12) == Fraction(int("9" * 24), 10**12)
    with pytest.raises(ValueError, match=r"^rate '9999999999999' is not a plain decimal like '3\.2750'$"):
        parse_rate("9" * 13)
    with pytest.raises(ValueError, match=r"^rate '1\.1111111111111' is not a plain decimal"):
        parse_rate("1." + "1" * 13)
