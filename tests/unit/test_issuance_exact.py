"""Issuance, exactly: the whole message of each refusal, and the streams a
token's registration, an issuance and a redemption are stored on (a stored
contract, pinned by literal ids)."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.commands import IssueTokens, RedeemTokens, RegisterAsset, RegisterToken, RevokeIssuerLicence
from domain.errors import AlreadyExists
from domain.events import TokenRegistered, TokensIssued, TokensRedeemed
from domain.money import AssetKind
from domain.state import LedgerState
from tests.unit.test_rules import assert_refused
from tests.world import accept, assert_moves, built_world, reject

NEW_TOKEN_STREAM = UUID("fd2cabb0-6682-5b5c-95ab-658dd88a6420")  # stream_id("asset", "NEW")
MINT_STREAM = UUID("d9590b7a-46e9-58cf-8bff-fb55f8a68389")  # command_stream("mint")
BURN_STREAM = UUID("1367a3db-f7a2-5b0b-a610-9aa9c00108bf")  # command_stream("burn")


@pytest.fixture
def state() -> LedgerState:
    return built_world()


def new_token(key: str = "token-new", code: str = "NEW", issuer: str = "svislach") -> RegisterToken:
    return RegisterToken(key=key, code=code, scale=2, issuer_id=issuer, supply_cap="500.00")


def test_an_asset_registered_again_is_refused_naming_its_code(state: LedgerState) -> None:
    again = RegisterAsset(key="asset-usdt-again", code="USDT", scale=6, kind=AssetKind.CRYPTO)
    assert_refused(state, again, AlreadyExists, r"^asset 'USDT' already exists$")


def test_a_token_registered_again_is_refused_naming_its_code(state: LedgerState) -> None:
    assert_refused(state, new_token(key="svt-again", code="SVT"), AlreadyExists, r"^asset 'SVT' already exists$")


def test_a_token_taking_the_code_of_a_fiat_asset_is_refused_naming_the_code(state: LedgerState) -> None:
    assert_refused(state, new_token(key="byn-token", code="BYN"), AlreadyExists, r"^asset 'BYN' already exists$")


def test_an_issuer_whose_licence_was_revoked_registers_no_new_token_and_the_refusal_names_it(
    state: LedgerState,
) -> None:
    accept(state, RevokeIssuerLicence(key="revoke", issuer_id="svislach", reason="NBRB order"))
    rejection = reject(state, new_token(), "ISSUER_LICENCE_REVOKED")
    assert rejection.reason == (
        "issuer 'svislach' had its licence revoked: it issues no more NEW (redemption is still allowed)"
    )
    assert rejection.details == {"issuer": "svislach", "asset": "NEW"}
    assert "NEW" not in state.assets


def test_a_token_is_registered_on_its_asset_s_pinned_stream(state: LedgerState) -> None:
    (event,) = accept(state, new_token())
    assert isinstance(event, TokenRegistered)
    assert (event.originator_id, event.originator_version) == (NEW_TOKEN_STREAM, 1)
    assert (event.asset.code, event.asset.issuer_id, event.asset.supply_cap_minor) == ("NEW", "svislach", 50000)
    assert state.version(NEW_TOKEN_STREAM) == 1


def test_an_issuance_is_stored_on_its_command_s_stream_and_moves_issuance_to_the_client(state: LedgerState) -> None:
    mint = IssueTokens(key="mint", issuer_id="svislach", asset="SVT", client_id="nord", amount="2.50")
    (event,) = assert_moves(state, mint, {("system:issuance", "SVT"): -250, ("client:nord", "SVT"): 250})
    assert isinstance(event, TokensIssued)
    assert (event.originator_id, event.originator_version) == (MINT_STREAM, 1)


def test_a_redemption_is_stored_on_its_command_s_stream_and_moves_the_client_to_issuance(state: LedgerState) -> None:
    burn = RedeemTokens(key="burn", issuer_id="svislach", asset="SVT", client_id="alesia", amount="1.25")
    (event,) = assert_moves(state, burn, {("client:alesia", "SVT"): -125, ("system:issuance", "SVT"): 125})
    assert isinstance(event, TokensRedeemed)
    assert (event.originator_id, event.originator_version) == (BURN_STREAM, 1)
