"""Command input refused exactly: the error's type, where it is, and its
whole message (the CLI and the HTTP service show all three), and the digest a
repeated command is compared by (a stored contract)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain.commands import COMMAND_ADAPTER, SetComplianceSettings

DEPOSIT = {"type": "deposit", "key": "d", "client_id": "c", "asset": "USDT", "amount": "1", "reference": "r"}
FORBIDDEN = "forbidden_character"
PLAIN_DECIMAL = "not a plain decimal number like '12.50' (ASCII digits and one point, nothing else)"


def refusal(command: dict[str, object]) -> tuple[str, tuple[int | str, ...], str]:
    with pytest.raises(ValidationError) as refused:
        COMMAND_ADAPTER.validate_python(command)
    (error,) = refused.value.errors()
    return error["type"], error["loc"], error["msg"]


@pytest.mark.parametrize(
    ("field", "value", "kind", "message"),
    [
        ("reference", "ab\ud800", "forbidden_character", "a lone surrogate U+D800 at character 3 is not allowed here"),
        ("reference", "\udfff", "forbidden_character", "a lone surrogate U+DFFF at character 1 is not allowed here"),
        ("reference", "a\u2029b", "forbidden_character", "a line break U+2029 at character 2 is not allowed here"),
        ("reference", "a\u2028b", "forbidden_character", "a line break U+2028 at character 2 is not allowed here"),
        ("reference", "a\x7fb", FORBIDDEN, "the control character U+007F at character 2 is not allowed here"),
        ("reference", "\x9f", "forbidden_character", "the control character U+009F at character 1 is not allowed here"),
        ("amount", "1,5", "plain_decimal", PLAIN_DECIMAL),
        ("wallet_address", "0x12", "wallet_address", "'0x12' is not an EVM address: 0x and 40 hexadecimal digits"),
    ],
)  # fmt: skip
def test_a_field_s_refusal_gives_its_type_its_place_and_its_whole_message(
    field: str, value: str, kind: str, message: str
) -> None:
    assert refusal({**DEPOSIT, field: value}) == (kind, ("deposit", field), message)


def test_a_private_use_character_is_text_like_any_other() -> None:
    command = COMMAND_ADAPTER.validate_python({**DEPOSIT, "reference": "\ue000"})
    assert command.reference == "\ue000"


def test_a_control_character_deep_in_travel_rule_data_is_refused_saying_where() -> None:
    name = {"primary_identifier": "No\x00vak"}
    withdrawal = {
        **DEPOSIT,
        "type": "withdraw",
        "ivms101": {"originator": {"originator_persons": [{"natural_person": {"name": name}}]}},
    }
    assert refusal(withdrawal) == (
        "forbidden_character",
        ("withdraw", "ivms101"),
        "ivms101.originator.originator_persons[0].natural_person.name.primary_identifier: "
        "the control character U+0000 at character 3 is not allowed here",
    )


def test_settings_left_empty_digest_as_they_did_before_those_fields_existed() -> None:
    assert SetComplianceSettings.digest_omits_when_empty == ("aml_window_hours", "self_hosted_proof_threshold_eur")
    assert SetComplianceSettings(key="s").digest() == "838877dafa6cfdf5a15cdd1f390d27eb2524a098c0aa8be1cd7a90618c757ce6"
    assert (
        SetComplianceSettings(key="other", aml_window_hours=48).digest()
        == "a3745865c4677f38aab1811b57dd7e66ffd0e8112d120bb74bf64dce7fcc41bf"
    )
