"""The snapshot as a value: its format number and rate text are a stored
contract, pinned by literal value; it is read strictly and never changes."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from pydantic import ValidationError

from domain.snapshot import FORMAT, StateSnapshot, rate_of, rate_text
from domain.state import LedgerState

# Only the fields without a default: what a snapshot of format 1 had to hold.
REQUIRED: dict[str, Any] = {
    "position": 3,
    "counters": {},
    "bank": None,
    "issuers": {},
    "clients": {},
    "assets": {},
    "balances": [],
    "versions": {},
    "venues": {},
    "venue_history": {},
    "policy_history": [],
    "settings": None,
    "volume_caps": [],
    "volumes": [],
    "blacklist": {},
    "settlements": {},
    "rates": {},
    "blocked_countries": {},
}


def test_the_snapshot_format_is_two_and_a_new_snapshot_is_of_it() -> None:
    assert FORMAT == 2
    assert StateSnapshot.model_validate(REQUIRED).format == 2
    assert LedgerState().snapshot().format == 2


def test_a_snapshot_without_the_later_fields_reads_them_as_none_or_empty() -> None:
    snapshot = StateSnapshot.model_validate(REQUIRED)
    assert snapshot.reversals == {}
    assert (snapshot.sandbox_clock, snapshot.clock_high_water, snapshot.current_time) == (None, None, None)
    assert snapshot.backdating_window_days is None
    assert snapshot.aml_windows == {}
    assert snapshot.verified_wallets == []


def test_a_snapshot_with_a_field_it_does_not_know_is_refused() -> None:
    with pytest.raises(ValidationError, match="surprise"):
        StateSnapshot.model_validate({**REQUIRED, "surprise": 1})


def test_a_snapshot_cannot_be_changed_once_made() -> None:
    snapshot = StateSnapshot.model_validate(REQUIRED)
    with pytest.raises(ValidationError, match="frozen"):
        snapshot.position = 4  # type: ignore[misc]
    assert snapshot.position == 3


def test_a_rate_is_written_as_numerator_slash_denominator_and_read_back_exactly() -> None:
    assert rate_text(Fraction(13, 4)) == "13/4"
    assert rate_text(Fraction(3)) == "3/1"
    assert rate_of("13/4") == Fraction(13, 4)
    assert rate_of("33/10") == Fraction(33, 10)
    assert rate_of("7/1") == 7


def test_a_rate_text_not_of_two_parts_is_not_read() -> None:
    with pytest.raises(ValueError, match="not enough values to unpack"):
        rate_of("13")
    with pytest.raises(ValueError, match="too many values to unpack"):
        rate_of("1/2/3")
