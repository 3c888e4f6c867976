"""Whom and where a refusal concerns (the supervisor's filters by client and venue read it)."""

from __future__ import annotations

import pytest

from domain.events import REJECTION_CLIENT_FIELDS, rejection_subject


def test_the_client_fields_are_read_in_their_fixed_order() -> None:
    assert REJECTION_CLIENT_FIELDS == ("client_id", "buyer_client_id", "seller_client_id", "source_client_id")


def test_the_client_the_rule_names_comes_before_the_clients_the_command_names() -> None:
    command = {"buyer_client_id": "alesia", "seller_client_id": "jan", "venue_id": "minsk-htp"}
    assert rejection_subject(command, {"client": "nord"}) == ("nord", "minsk-htp")


@pytest.mark.parametrize(
    ("command", "client"),
    [
        ({"client_id": "jan", "source_client_id": "ivan"}, "jan"),
        ({"buyer_client_id": "alesia", "seller_client_id": "nord"}, "alesia"),
        ({"buyer_client_id": None, "seller_client_id": "nord"}, "nord"),
        ({"source_client_id": "ivan", "target_client_id": "jan"}, "ivan"),
        ({"target_client_id": "jan"}, None),
        ({"client_id": 7, "seller_client_id": "nord"}, "nord"),
        ({}, None),
    ],
)
def test_without_a_client_named_by_the_rule_the_first_client_the_command_names_is_the_subject(
    command: dict[str, object], client: str | None
) -> None:
    assert rejection_subject(command, {"asset": "USDT"}) == (client, None)


@pytest.mark.parametrize(("venue", "expected"), [("binance", "binance"), (None, None), (7, None), (["x"], None)])
def test_only_a_venue_named_as_text_is_the_refusal_s_venue(venue: object, expected: str | None) -> None:
    assert rejection_subject({"venue_id": venue}, {}) == (None, expected)
