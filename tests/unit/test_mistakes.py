"""Mistyped names are answered with the one likely meant."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.commands import COMMAND_ADAPTER
from ledger.mistakes import command_problem, did_you_mean, first_mistakes, unknown_command_type


def test_a_close_name_is_suggested_and_a_far_one_is_not() -> None:
    assert did_you_mean("depositt", ["deposit", "withdraw"]) == ": did you mean 'deposit'?"
    assert did_you_mean("pay_bribe", ["deposit", "withdraw"]) == ""


def test_an_unknown_command_type_points_to_the_schema_not_to_a_list_of_every_type() -> None:
    message = unknown_command_type("depositt")
    assert message == "unknown command type 'depositt': did you mean 'deposit'? (ledger scenario schema lists them all)"


def problems(document: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationError) as error:
        COMMAND_ADAPTER.validate_python(document)
    return [command_problem(item) for item in first_mistakes(error.value)]


def test_an_unknown_field_comes_first_since_it_is_why_the_field_it_meant_is_missing() -> None:
    found = problems({"type": "deposit", "key": "k", "client_id": "a", "asset": "BYN", "amount": "1", "refrence": "r"})
    assert found == ["unknown field 'refrence' in deposit: did you mean 'reference'?", "reference: Field required"]


def test_an_unknown_field_of_a_nested_part_is_named_with_its_path() -> None:
    document = {"type": "initiate_settlement", "key": "k", "originator": {"nme": "X"}}
    found = problems(document)
    assert found[0] == "unknown field 'nme' in initiate_settlement.originator: did you mean 'name'?"


def test_an_unknown_field_with_no_close_name_lists_the_fields_the_command_takes() -> None:
    (found,) = problems({"type": "verify_kyc", "key": "k", "client_id": "a", "colour": "red"})
    assert found.startswith(
        "unknown field 'colour' in verify_kyc (verify_kyc takes key, ledger_time, metadata, client_id"
    )
