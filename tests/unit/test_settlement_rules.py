"""Cross-border settlements: lifecycle, deadlines, travel rule, jurisdictions and AML."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from uuid import UUID

import pytest

from domain.commands import (
    BaseCommand,
    BlacklistAddress,
    BlockJurisdiction,
    CheckDeadlines,
    CloseSettlementByDelivery,
    Deposit,
    ExtendSettlementDeadline,
    FreezeClient,
    InitiateSettlement,
    OffboardClient,
    RegisterAsset,
    ReturnSettlementFunds,
    SetComplianceSettings,
    SetReferenceRate,
    Withdraw,
)
from domain.crossborder import ComplianceSettings, Direction, PartyInfo, SettlementStatus
from domain.errors import (
    AlreadyExists,
    DeadlineNotLater,
    DeliveryClosesImportsOnly,
    LedgerError,
    MissingRate,
    ReturnExceedsOutstanding,
    SettlementNotExtendable,
    SettlementNotOutstanding,
    UnknownSettlement,
)
from domain.events import (
    AmlNotificationRecorded,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
)
from domain.money import AssetKind
from domain.parties import ClientKind
from domain.state import LedgerState
from tests.unit.test_rules import assert_recorded_rejection, assert_refused
from tests.world import LEDGER_TIME, accept, apply, assert_moves, reject, trading_world

ORIGINATOR = PartyInfo(name="Nord Timber JSC", account="client:nord", customer_id="C-42", country="BY")
BENEFICIARY = PartyInfo(
    name="Baltic Wood GmbH", account="DE89370400440532013000", address="Hafen 1, Kiel", country="DE"
)
DAY = LEDGER_TIME.date()


@pytest.fixture
def state() -> LedgerState:
    state = trading_world()
    for command in (
        SetReferenceRate(key="r-usd", code="USD", byn_per_unit="3.2000", effective_on=DAY - timedelta(days=30)),
        SetReferenceRate(key="r-usdt", code="USDT", byn_per_unit="3.2500", effective_on=DAY - timedelta(days=30)),
        SetReferenceRate(key="r-eur", code="EUR", byn_per_unit="3.5000", effective_on=DAY - timedelta(days=30)),
        Deposit(key="fund-nord-big", client_id="nord", asset="BYN", amount="50000", reference="in-9"),
    ):
        assert apply(state, command).violation is None
    return state


def settle(
    settlement_id: str = "s1",
    amount: str = "3000.00",
    direction: Direction = Direction.EXPORT,
    client: str = "nord",
    country: str = "DE",
    **changes: object,
) -> InitiateSettlement:
    command = InitiateSettlement(
        key=f"init-{settlement_id}",
        settlement_id=settlement_id,
        client_id=client,
        direction=direction,
        counterparty="Baltic Wood GmbH",
        country=country,
        contract_reference="EXP-2026-7",
        asset="BYN",
        amount=amount,
        originator=ORIGINATOR,
        beneficiary=BENEFICIARY,
    )
    return command.model_copy(update=changes)


def later(command: CheckDeadlines | ReturnSettlementFunds, days: int) -> CheckDeadlines | ReturnSettlementFunds:
    return command.model_copy(update={"ledger_time": LEDGER_TIME + timedelta(days=days)})


def test_an_export_sends_value_to_in_transit_with_a_180_day_deadline(state: LedgerState) -> None:
    (event,) = apply(state, settle()).events
    assert isinstance(event, SettlementInitiated)
    assert event.deadline == DAY + timedelta(days=180)
    assert event.travel_rule_complete
    assert event.value_byn == "3000.00"
    assert state.balance("system:in_transit", "BYN") == 300000
    assert state.settlements["s1"].status == SettlementStatus.OPEN


def test_an_import_has_a_90_day_deadline_unless_told_otherwise(state: LedgerState) -> None:
    accept(state, settle(direction=Direction.IMPORT))
    accept(state, settle("s2", direction=Direction.IMPORT, deadline_days=30, key="init-s2b"))
    assert state.settlements["s1"].deadline == DAY + timedelta(days=90)
    assert state.settlements["s2"].deadline == DAY + timedelta(days=30)


def test_funds_returned_in_parts_then_in_full_end_the_settlement(state: LedgerState) -> None:
    accept(state, settle())
    accept(state, ReturnSettlementFunds(key="r1", settlement_id="s1", amount="1000", reference="swift-1"))
    assert state.settlements["s1"].status == SettlementStatus.OPEN
    assert state.settlements["s1"].outstanding_minor == 200000
    accept(state, ReturnSettlementFunds(key="r2", settlement_id="s1", amount="2000", reference="swift-2"))
    assert state.settlements["s1"].status == SettlementStatus.RETURNED
    assert state.balance("system:in_transit", "BYN") == 0
    assert_refused(
        state,
        ReturnSettlementFunds(key="r3", settlement_id="s1", amount="1", reference="x"),
        SettlementNotOutstanding,
        "returned already",
    )


def test_more_cannot_come_back_than_is_outstanding(state: LedgerState) -> None:
    accept(state, settle())
    assert_refused(
        state,
        ReturnSettlementFunds(key="r", settlement_id="s1", amount="3000.01", reference="x"),
        ReturnExceedsOutstanding,
        "3000.00 BYN outstanding",
    )


def test_an_import_closes_by_delivery_and_an_export_cannot(state: LedgerState) -> None:
    accept(state, settle(direction=Direction.IMPORT))
    accept(state, ReturnSettlementFunds(key="r", settlement_id="s1", amount="500", reference="refund"))
    accept(state, CloseSettlementByDelivery(key="c", settlement_id="s1", delivery_reference="CMR-991"))
    settlement = state.settlements["s1"]
    assert settlement.status == SettlementStatus.CLOSED
    assert (settlement.returned_minor, settlement.delivered_minor, settlement.outstanding_minor) == (
        50000,
        250000,
        0,
    )
    accept(state, settle("s2", key="init-s2"))
    assert_refused(
        state,
        CloseSettlementByDelivery(key="c2", settlement_id="s2", delivery_reference="x"),
        DeliveryClosesImportsOnly,
        "only imports",
    )


def test_a_settlement_is_overdue_only_once_ledger_time_passes_its_deadline(state: LedgerState) -> None:
    accept(state, settle(deadline_days=10))
    assert apply(state, later(CheckDeadlines(key="d10"), 10)).events == []
    (event,) = apply(state, later(CheckDeadlines(key="d11"), 11)).events
    assert isinstance(event, SettlementOverdue)
    assert event.outstanding_minor == 300000
    assert state.settlements["s1"].status == SettlementStatus.OVERDUE
    assert apply(state, later(CheckDeadlines(key="d12"), 12)).events == []


def test_a_late_return_ends_an_overdue_settlement(state: LedgerState) -> None:
    accept(state, settle(deadline_days=10))
    accept(state, later(CheckDeadlines(key="d"), 11))
    accept(state, later(ReturnSettlementFunds(key="r", settlement_id="s1", amount="3000", reference="late"), 40))
    assert state.settlements["s1"].status == SettlementStatus.RETURNED


def test_returned_and_closed_settlements_are_never_overdue(state: LedgerState) -> None:
    accept(state, settle(deadline_days=5))
    accept(state, ReturnSettlementFunds(key="r", settlement_id="s1", amount="3000", reference="back"))
    assert apply(state, later(CheckDeadlines(key="d"), 30)).events == []


def test_a_permit_extends_the_deadline(state: LedgerState) -> None:
    accept(state, settle(deadline_days=10))
    accept(
        state,
        ExtendSettlementDeadline(
            key="x", settlement_id="s1", new_deadline=DAY + timedelta(days=60), permit_reference="NBRB-P-17"
        ),
    )
    assert apply(state, later(CheckDeadlines(key="d"), 30)).events == []
    assert_refused(
        state,
        ExtendSettlementDeadline(key="x2", settlement_id="s1", new_deadline=DAY, permit_reference="P"),
        DeadlineNotLater,
        "not after",
    )


def test_an_overdue_settlement_extended_under_a_permit_is_outstanding_again(state: LedgerState) -> None:
    accept(state, settle(deadline_days=10))
    accept(state, later(CheckDeadlines(key="d11"), 11))
    extend = ExtendSettlementDeadline(
        key="x", settlement_id="s1", new_deadline=DAY + timedelta(days=60), permit_reference="NBRB-P-17"
    )
    (event,) = apply(state, later(extend, 12)).events
    assert isinstance(event, SettlementDeadlineExtended)
    settlement = state.settlements["s1"]
    assert (settlement.status, settlement.deadline) == (SettlementStatus.OPEN, DAY + timedelta(days=60))
    assert apply(state, later(CheckDeadlines(key="d60"), 60)).events == []
    (overdue_again,) = apply(state, later(CheckDeadlines(key="d61"), 61)).events
    assert isinstance(overdue_again, SettlementOverdue)


def test_a_return_to_a_frozen_client_is_refused_and_recorded(state: LedgerState) -> None:
    accept(state, settle())
    accept(state, FreezeClient(key="freeze", client_id="nord", reason="AML investigation"))
    back = ReturnSettlementFunds(key="r", settlement_id="s1", amount="3000", reference="back")
    assert_recorded_rejection(state, back, "CLIENT_FROZEN")
    assert state.settlements["s1"].returned_minor == 0


def test_a_client_with_value_in_transit_is_not_offboarded(state: LedgerState) -> None:
    accept(state, settle())
    for command in (
        Withdraw(key="w-byn", client_id="nord", asset="BYN", amount="47050", reference="out"),
        # In two, each below the travel-rule threshold (a crypto withdrawal above it needs IVMS101 data).
        Withdraw(key="w-usdt-1", client_id="nord", asset="USDT", amount="500", reference="out"),
        Withdraw(key="w-usdt-2", client_id="nord", asset="USDT", amount="500", reference="out"),
    ):
        assert apply(state, command).violation is None
    event = assert_recorded_rejection(
        state, OffboardClient(key="off", client_id="nord", reason="x"), "BALANCE_NOT_ZERO"
    )
    assert event.details["balances"] == "3000.00 BYN in transit (s1)"


def test_offboarding_names_each_settlement_still_in_transit_in_id_order_and_no_settled_one(
    state: LedgerState,
) -> None:
    accept(state, settle("s2", amount="1000.00"))
    accept(state, settle("s1", amount="2000.00"))
    accept(state, settle("s3", amount="500.00"))
    accept(state, ReturnSettlementFunds(key="back-s3", settlement_id="s3", amount="500.00", reference="swift"))
    for command in (
        Withdraw(key="w-byn", client_id="nord", asset="BYN", amount="47050", reference="out"),
        Withdraw(key="w-usdt-1", client_id="nord", asset="USDT", amount="500", reference="out"),
        Withdraw(key="w-usdt-2", client_id="nord", asset="USDT", amount="500", reference="out"),
    ):
        accept(state, command)
    event = assert_recorded_rejection(
        state, OffboardClient(key="off", client_id="nord", reason="x"), "BALANCE_NOT_ZERO"
    )
    assert event.details["balances"] == "2000.00 BYN in transit (s1), 1000.00 BYN in transit (s2)"


def test_travel_rule_data_must_be_complete_at_or_above_the_threshold(state: LedgerState) -> None:
    # 3200.00 BYN is exactly 1000 USD at 3.20.
    incomplete = PartyInfo(name="Baltic Wood GmbH", country="DE")
    event = assert_recorded_rejection(state, settle(amount="3200.00", beneficiary=incomplete), "TRAVEL_RULE_INCOMPLETE")
    assert "beneficiary account" in event.details["missing"]
    assert event.details["value_usd"] == "1000.00"


def test_below_the_threshold_incomplete_data_passes_and_is_marked(state: LedgerState) -> None:
    (event,) = apply(state, settle(amount="3199.99", beneficiary=PartyInfo(name="B"))).events
    assert isinstance(event, SettlementInitiated)
    assert not event.travel_rule_complete


def test_a_zero_threshold_requires_travel_rule_data_always(state: LedgerState) -> None:
    accept(state, SetComplianceSettings(key="eu-tfr", travel_rule_threshold_usd="0"))
    assert_recorded_rejection(state, settle(amount="0.01", beneficiary=PartyInfo(name="B")), "TRAVEL_RULE_INCOMPLETE")


def test_without_a_rate_an_incomplete_settlement_cannot_be_valued(state: LedgerState) -> None:
    accept(state, RegisterAsset(key="asset-btc", code="BTC", scale=8, kind=AssetKind.CRYPTO))
    accept(state, Deposit(key="btc", client_id="nord", asset="BTC", amount="5", reference="r"))
    command = settle(asset="BTC", amount="1", beneficiary=PartyInfo(name="B"))
    assert_refused(state, command, MissingRate, "no reference rate for BTC")


def test_a_blocked_jurisdiction_is_refused(state: LedgerState) -> None:
    accept(state, BlockJurisdiction(key="b", country="KP", reason="FATF call for action"))
    assert_recorded_rejection(state, settle(country="KP"), "BLOCKED_JURISDICTION")


def test_individuals_do_not_settle_abroad_by_default(state: LedgerState) -> None:
    event = assert_recorded_rejection(state, settle(client="alesia", amount="10"), "SETTLEMENT_NOT_PERMITTED")
    assert event.client_id == "alesia"


def test_a_blacklisted_beneficiary_wallet_is_refused(state: LedgerState) -> None:
    wallet = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"
    accept(state, BlacklistAddress(key="bl", address=wallet, listed_on=DAY - timedelta(days=1), reason="mixer"))
    assert_recorded_rejection(state, settle(beneficiary_wallet=wallet), "BLACKLISTED_ADDRESS")


def test_unknown_settlements_are_refused(state: LedgerState) -> None:
    assert_refused(
        state,
        ReturnSettlementFunds(key="r", settlement_id="nope", amount="1", reference="x"),
        UnknownSettlement,
    )


@pytest.mark.parametrize(
    ("client", "amount", "notified"),
    [
        ("alesia", "90000.00", True),
        ("alesia", "89999.99", False),
        ("nord", "90000.00", False),
        ("nord", "900000.00", True),
    ],
)
def test_aml_notifications_at_the_clients_threshold(
    state: LedgerState, client: str, amount: str, notified: bool
) -> None:
    # A day after the world's deposits, so that none is linked with this one (see test_linked_aml).
    later = LEDGER_TIME + timedelta(days=1)
    deposit = Deposit(key="big", client_id=client, asset="BYN", amount=amount, reference="r", ledger_time=later)
    notices = [e for e in apply(state, deposit).events if isinstance(e, AmlNotificationRecorded)]
    assert bool(notices) == notified
    if notices:
        kind = state.clients[client].kind
        assert notices[0].threshold_byn == ("900000.00" if kind == ClientKind.COMPANY else "90000.00")


def test_aml_values_crypto_at_the_reference_rate(state: LedgerState) -> None:
    # 27,693 USDT at 3.25 is 90,002.25 BYN: over an individual's 90,000.
    events = apply(state, Deposit(key="u", client_id="jan", asset="USDT", amount="27693", reference="r")).events
    (notice,) = [e for e in events if isinstance(e, AmlNotificationRecorded)]
    assert notice.value_byn == "90002.25"


def test_settings_are_recorded_and_applied(state: LedgerState) -> None:
    accept(state, SetComplianceSettings(key="s", export_deadline_days=120, settling_kinds=[ClientKind.COMPANY]))
    accept(state, settle())
    assert state.settlements["s1"].deadline == date.fromordinal(DAY.toordinal() + 120)
    assert_recorded_rejection(state, settle("s2", client="ivan", amount="1", key="init-s2"), "SETTLEMENT_NOT_PERMITTED")


def test_an_aml_threshold_follows_the_base_unit_even_in_a_copy_of_the_settings() -> None:
    settings = ComplianceSettings()
    before = settings.aml_threshold_byn(ClientKind.INDIVIDUAL)
    raised = settings.model_copy(update={"base_unit_byn": settings.base_unit_byn * 2})
    assert raised.aml_threshold_byn(ClientKind.INDIVIDUAL) == 2 * before
    assert settings.aml_threshold_byn(ClientKind.INDIVIDUAL) == before


NORD, IN_TRANSIT, EXTERNAL = "client:nord", "system:in_transit", "system:external"


def test_a_settlement_its_return_and_its_delivery_move_exactly_the_client_in_transit_and_external(
    state: LedgerState,
) -> None:
    assert_moves(state, settle(), {(NORD, "BYN"): -300000, (IN_TRANSIT, "BYN"): 300000})
    back = ReturnSettlementFunds(key="r1", settlement_id="s1", amount="1000.00", reference="x")
    assert_moves(state, back, {(NORD, "BYN"): 100000, (IN_TRANSIT, "BYN"): -100000})
    assert_moves(state, settle("s2", direction=Direction.IMPORT), {(NORD, "BYN"): -300000, (IN_TRANSIT, "BYN"): 300000})
    delivered = CloseSettlementByDelivery(key="c2", settlement_id="s2", delivery_reference="CMR-1")
    assert_moves(state, delivered, {(IN_TRANSIT, "BYN"): -300000, (EXTERNAL, "BYN"): 300000})
    assert state.settlements["s1"].outstanding_minor == 200000
    assert state.settlements["s2"].outstanding_minor == 0


def test_gaps_in_the_originators_travel_rule_data_are_refused_at_the_threshold(state: LedgerState) -> None:
    originator = PartyInfo(name="Nord Timber JSC", country="BY")
    event = reject(state, settle(amount="3200.00", originator=originator), "TRAVEL_RULE_INCOMPLETE")
    assert event.details == {
        "value_usd": "1000.00",
        "threshold_usd": "1000.00",
        "missing": "originator account; originator address, national_id, customer_id or birth_date and birth_place",
    }


def test_gaps_on_both_sides_are_all_named_originator_first(state: LedgerState) -> None:
    command = settle(amount="3200.00", originator=PartyInfo(name="N", account="a"), beneficiary=PartyInfo(name="B"))
    event = reject(state, command, "TRAVEL_RULE_INCOMPLETE")
    assert event.details["missing"] == (
        "originator country; originator address, national_id, customer_id or birth_date and birth_place; "
        "beneficiary account; beneficiary country; "
        "beneficiary address, national_id, customer_id or birth_date and birth_place"
    )


def test_incomplete_data_one_cent_below_the_threshold_is_accepted_and_marked_incomplete(state: LedgerState) -> None:
    (event,) = assert_moves(
        state,
        settle(amount="3199.99", originator=PartyInfo(name="N")),
        {(NORD, "BYN"): -319999, (IN_TRANSIT, "BYN"): 319999},
    )
    assert isinstance(event, SettlementInitiated)
    assert not event.travel_rule_complete


def test_a_reference_rate_taking_effect_today_values_todays_operations(state: LedgerState) -> None:
    accept(state, SetReferenceRate(key="r-usd-today", code="USD", byn_per_unit="3.2100", effective_on=DAY))
    # 3200.00 BYN was exactly 1000 USD at 3.20; at 3.21 it is below the threshold.
    accept(state, settle(amount="3200.00", beneficiary=PartyInfo(name="B")))
    event = reject(state, settle("s2", amount="3210.00", beneficiary=PartyInfo(name="B")), "TRAVEL_RULE_INCOMPLETE")
    assert event.details["value_usd"] == "1000.00"


def test_a_new_rate_keeps_the_assets_earlier_rates(state: LedgerState) -> None:
    accept(state, SetReferenceRate(key="r-usdt-2", code="USDT", byn_per_unit="3.3000", effective_on=DAY))
    accept(state, SetReferenceRate(key="r-usdt-3", code="USDT", byn_per_unit="3.4000", effective_on=DAY + timedelta(1)))
    assert state.rate("USDT", DAY - timedelta(days=30)) == Fraction(13, 4)
    assert state.rate("USDT", DAY - timedelta(days=1)) == Fraction(13, 4)
    assert state.rate("USDT", DAY) == Fraction(33, 10)
    assert state.rate("USDT", DAY + timedelta(days=5)) == Fraction(34, 10)
    assert state.rate("USDT", DAY - timedelta(days=31)) is None
    assert state.rate("BYN", DAY) == 1


def test_every_compliance_setting_is_changed_by_the_command(state: LedgerState) -> None:
    command = SetComplianceSettings(
        key="s",
        travel_rule_threshold_usd="1500.5",
        aml_individual_base_units="2100",
        aml_company_base_units="21000",
        base_unit_byn="42",
        export_deadline_days=120,
        import_deadline_days=60,
        aml_window_hours=48,
        self_hosted_proof_threshold_eur="700",
        settling_kinds=[ClientKind.SELF_EMPLOYED, ClientKind.INDIVIDUAL],
    )
    accept(state, command)
    assert state.settings == ComplianceSettings(
        travel_rule_threshold_usd=Fraction(3001, 2),
        aml_individual_base_units=Fraction(2100),
        aml_company_base_units=Fraction(21000),
        base_unit_byn=Fraction(42),
        export_deadline_days=120,
        import_deadline_days=60,
        aml_window_hours=48,
        self_hosted_proof_threshold_eur=Fraction(700),
        settling_kinds=(ClientKind.INDIVIDUAL, ClientKind.SELF_EMPLOYED),
    )
    assert state.settings.aml_threshold_byn(ClientKind.INDIVIDUAL) == 2100 * 42
    assert state.settings.aml_threshold_byn(ClientKind.COMPANY) == 21000 * 42


def test_the_default_compliance_settings_have_their_documented_values() -> None:
    settings = ComplianceSettings()
    assert settings.travel_rule_threshold_usd == 1000
    assert (settings.aml_individual_base_units, settings.aml_company_base_units) == (2000, 20000)
    assert settings.base_unit_byn == 45
    assert (settings.export_deadline_days, settings.import_deadline_days) == (180, 90)
    assert settings.aml_window_hours == 24
    assert settings.self_hosted_proof_threshold_eur == 1000
    assert settings.settling_kinds == (ClientKind.COMPANY, ClientKind.SELF_EMPLOYED)
    assert settings.aml_threshold_byn(ClientKind.INDIVIDUAL) == 90000
    assert settings.aml_threshold_byn(ClientKind.COMPANY) == 900000


def test_a_compliance_command_leaving_out_the_newer_settings_keeps_their_defaults(state: LedgerState) -> None:
    accept(state, SetComplianceSettings(key="s", base_unit_byn="40"))
    assert state.settings.aml_window_hours == 24
    assert state.settings.self_hosted_proof_threshold_eur == 1000
    assert state.settings.base_unit_byn == 40


def refusal(state: LedgerState, command: BaseCommand, error: type[LedgerError]) -> dict[str, object]:
    """The context of the exact `error` refusing `command`, which changes nothing."""
    versions = dict(state.versions)
    with pytest.raises(error) as refused:
        accept(state, command)
    assert type(refused.value) is error
    assert state.versions == versions
    return refused.value.context


def test_refusals_of_a_settlement_move_name_the_settlement_and_what_was_wrong(state: LedgerState) -> None:
    accept(state, settle(deadline_days=10))
    too_much = ReturnSettlementFunds(key="r", settlement_id="s1", amount="3000.01", reference="x")
    assert refusal(state, too_much, ReturnExceedsOutstanding) == {
        "settlement": "s1",
        "outstanding": "3000.00",
        "asset": "BYN",
        "returned": "3000.01",
    }
    deliver = CloseSettlementByDelivery(key="c", settlement_id="s1", delivery_reference="x")
    assert refusal(state, deliver, DeliveryClosesImportsOnly) == {"settlement": "s1"}
    same_day = ExtendSettlementDeadline(
        key="x", settlement_id="s1", new_deadline=DAY + timedelta(days=10), permit_reference="P"
    )
    assert refusal(state, same_day, DeadlineNotLater) == {
        "new_deadline": DAY + timedelta(days=10),
        "deadline": DAY + timedelta(days=10),
    }
    accept(state, ReturnSettlementFunds(key="r-all", settlement_id="s1", amount="3000", reference="x"))
    again = ReturnSettlementFunds(key="r2", settlement_id="s1", amount="1", reference="x")
    assert refusal(state, again, SettlementNotOutstanding) == {"settlement": "s1", "status": "returned"}
    extend = same_day.model_copy(update={"new_deadline": DAY + timedelta(days=60)})
    assert refusal(state, extend, SettlementNotExtendable) == {"settlement": "s1", "status": "returned"}


S1_STREAM = UUID("9a313b79-bdfa-558f-b413-0b06cd64cc1c")  # stream_id("settlement", "s1"), pinned in test_stream_ids


def test_every_event_of_a_settlement_is_on_its_pinned_stream(state: LedgerState) -> None:
    accept(state, settle(direction=Direction.IMPORT, deadline_days=10))
    accept(state, later(CheckDeadlines(key="d11"), 11))
    extend = ExtendSettlementDeadline(
        key="x", settlement_id="s1", new_deadline=DAY + timedelta(days=60), permit_reference="P"
    )
    accept(state, later(extend, 12))
    accept(state, later(ReturnSettlementFunds(key="r", settlement_id="s1", amount="1000", reference="x"), 12))
    accept(state, later(CloseSettlementByDelivery(key="c", settlement_id="s1", delivery_reference="x"), 12))
    assert state.version(S1_STREAM) == 5


def test_with_no_kind_of_client_settling_abroad_the_refusal_says_nobody_may(state: LedgerState) -> None:
    accept(state, SetComplianceSettings(key="s", settling_kinds=[]))
    event = reject(state, settle(), "SETTLEMENT_NOT_PERMITTED")
    assert event.details == {"client": "nord", "kind": "company", "permitted": "nobody"}


# Exactly: the refusal of a repeated id, what the initiating event keeps, its AML notice, and the order of overdue ones.

S2_STREAM = UUID("a2b59923-c4ee-5b07-90b6-00404c122781")  # stream_id("settlement", "s2")
S1_AML_STREAM = UUID("2ca88c0e-7f00-5160-87ae-5a50f533bb9d")  # stream_id("aml", "init-s1:nord")
BENEFICIARY_WALLET = "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"


def test_a_settlement_id_used_again_is_refused_naming_the_settlement(state: LedgerState) -> None:
    accept(state, settle())
    again = settle(amount="1.00").model_copy(update={"key": "init-s1-again"})
    assert_refused(state, again, AlreadyExists, r"^settlement 's1' already exists$")


def test_a_crypto_settlement_is_valued_at_the_rate_in_force_on_its_day(state: LedgerState) -> None:
    later_rate = SetReferenceRate(
        key="r-usdt-later", code="USDT", byn_per_unit="4.0000", effective_on=DAY + timedelta(days=1)
    )
    accept(state, later_rate)
    moves = {("client:nord", "USDT"): -100_000_000, ("system:in_transit", "USDT"): 100_000_000}
    (event,) = assert_moves(state, settle(asset="USDT", amount="100"), moves)
    assert isinstance(event, SettlementInitiated)
    assert (event.asset_code, event.amount_minor, event.value_byn) == ("USDT", 100_000_000, "325.00")  # 100 at 3.25


def test_a_settlement_of_an_asset_without_a_rate_and_with_complete_data_is_accepted_unvalued(
    state: LedgerState,
) -> None:
    accept(state, RegisterAsset(key="asset-btc", code="BTC", scale=8, kind=AssetKind.CRYPTO))
    accept(state, Deposit(key="btc", client_id="nord", asset="BTC", amount="5", reference="r"))
    moves = {("client:nord", "BTC"): -100_000_000, ("system:in_transit", "BTC"): 100_000_000}
    (event,) = assert_moves(state, settle(asset="BTC", amount="1"), moves)
    assert isinstance(event, SettlementInitiated)
    assert (event.asset_code, event.travel_rule_complete, event.value_byn) == ("BTC", True, None)


def test_a_settlement_keeps_the_beneficiary_s_wallet(state: LedgerState) -> None:
    (event,) = accept(state, settle(beneficiary_wallet=BENEFICIARY_WALLET))
    assert isinstance(event, SettlementInitiated)
    assert (event.beneficiary_wallet, event.originator_id) == (BENEFICIARY_WALLET, S1_STREAM)


def test_a_settlement_at_the_company_threshold_raises_an_aml_notice_naming_the_settlement(state: LedgerState) -> None:
    accept(state, Deposit(key="fund-nord-huge", client_id="nord", asset="BYN", amount="900000.00", reference="in-10"))
    initiated, notice = accept(state, settle(amount="900000.00"))
    assert isinstance(initiated, SettlementInitiated)
    assert isinstance(notice, AmlNotificationRecorded)
    assert (notice.originator_id, notice.client_id, notice.operation) == (S1_AML_STREAM, "nord", "initiate_settlement")
    assert (notice.asset_code, notice.amount_minor) == ("BYN", 90_000_000)
    assert (notice.value_byn, notice.threshold_byn, notice.operations) == ("900000.00", "900000.00", ("init-s1",))


def test_settlements_past_their_deadline_are_flagged_in_id_order_not_in_the_order_they_began(
    state: LedgerState,
) -> None:
    accept(state, settle("s2", amount="20.00", deadline_days=10))
    accept(state, settle("s1", amount="10.00", deadline_days=10))
    events = accept(state, later(CheckDeadlines(key="d11"), 11))
    assert [type(event) for event in events] == [SettlementOverdue, SettlementOverdue]
    flagged = [
        (event.settlement_id, event.originator_id, event.deadline, event.outstanding_minor)
        for event in events
        if isinstance(event, SettlementOverdue)
    ]
    deadline = date(2026, 2, 12)  # 2026-02-02 and 10 days
    assert flagged == [("s1", S1_STREAM, deadline, 1000), ("s2", S2_STREAM, deadline, 2000)]
