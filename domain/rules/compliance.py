"""Compliance: the blacklist, blocked jurisdictions, reference rates, thresholds, AML notices and the travel rule."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from domain import ivms101
from domain.aml import VALUE_UNIT, reaches, value_units
from domain.commands import (
    BlacklistAddress,
    BlockJurisdiction,
    InitiateSettlement,
    RemoveFromBlacklist,
    SetBackdatingWindow,
    SetComplianceSettings,
    SetReferenceRate,
    UnblockJurisdiction,
    VerifyWalletOwnership,
    Withdraw,
)
from domain.crossborder import AML_WINDOW_HOURS_DEFAULT, ComplianceSettings, cents_text, parse_rate, value_in_byn
from domain.errors import (
    AddressNotBlacklisted,
    AlreadyExists,
    BlacklistedAddress,
    BynRateFixed,
    InvalidRate,
    InvalidSetting,
    JurisdictionNotBlocked,
    MissingRate,
    RemovalNotAfterListing,
    SelfHostedWalletUnverified,
    TravelRuleIncomplete,
)
from domain.events import (
    BANK_STREAM,
    AddressBlacklisted,
    AddressRemovedFromBlacklist,
    AmlNotificationRecorded,
    BackdatingWindowSet,
    ComplianceSettingsSet,
    JurisdictionBlocked,
    JurisdictionUnblocked,
    LedgerEvent,
    ReferenceRateSet,
    WalletOwnershipVerified,
    stream_id,
)
from domain.money import Asset
from domain.parties import Client
from domain.rules.base import Deciders, Stamp, check_after_last_change, find_asset, find_client, head
from domain.state import LedgerState


def check_not_blacklisted(state: LedgerState, address: str | None, stamp: Stamp) -> None:
    """Refused from the ledger day after the address was listed until the
    day it was removed, as of the command's ledger time."""
    if address is None or address not in state.blacklist:
        return
    effective = state.blacklisted(address, state.day(stamp.ledger_time))
    if effective is not None:
        raise BlacklistedAddress(address=address, effective=effective.isoformat())


def aml(
    state: LedgerState, stamp: Stamp, client: Client, asset: Asset, amount_minor: int, operation: str
) -> list[LedgerEvent]:
    """An AML notification when the operation's BYN value is at or above the
    client's threshold, or when it and the client's operations not yet
    covered within the rolling window reach it together (domain.aml).
    Without a reference rate for the asset there is no value to compare, and
    no notification (BYN is always valued)."""
    rate = state.rate(asset.code, state.day(stamp.ledger_time))
    if rate is None:
        return []
    threshold = state.settings.aml_threshold_byn(client.kind)
    # In integers (10^-30 BYN): the hot path skips Fractions.
    value = value_units(amount_minor, asset.scale, rate)
    if not reaches(value, threshold):
        return _linked(state, stamp, client, asset, amount_minor, operation, threshold, value)
    total = Fraction(value, VALUE_UNIT)
    return [_notice(state, stamp, client, asset, amount_minor, operation, total, threshold, [stamp.command_key])]


def _linked(
    state: LedgerState,
    stamp: Stamp,
    client: Client,
    asset: Asset,
    amount_minor: int,
    operation: str,
    threshold: Fraction,
    value: int,
) -> list[LedgerEvent]:
    """A notice for linked operations: this one (worth `value`, in 10^-30
    BYN) below the threshold, with those of the window before it."""
    window = state.aml_windows.get(client.client_id)
    if window is None or not window.operations:
        return []
    if not reaches(window.total + value, threshold):
        return []  # not even with what has left the window since
    settings = state.settings
    stale, earlier = window.total_since(stamp.ledger_time - settings.aml_window)
    if not reaches(earlier + value, threshold):
        return []
    keys = [*window.keys_after(stale), stamp.command_key]
    total = Fraction(earlier + value, VALUE_UNIT)
    notice = _notice(state, stamp, client, asset, amount_minor, operation, total, threshold, keys)
    return [notice.model_copy(update={"window_hours": settings.aml_window_hours})]


def _notice(
    state: LedgerState,
    stamp: Stamp,
    client: Client,
    asset: Asset,
    amount_minor: int,
    operation: str,
    value: Fraction,
    threshold: Fraction,
    keys: list[str],
) -> AmlNotificationRecorded:
    stream = stream_id("aml", f"{stamp.command_key}:{client.client_id}")
    return AmlNotificationRecorded(
        **head(state, stream, stamp),
        client_id=client.client_id,
        operation=operation,
        asset_code=asset.code,
        amount_minor=amount_minor,
        value_byn=cents_text(value),
        threshold_byn=cents_text(threshold),
        operations=tuple(keys),
    )


def _rate_on(state: LedgerState, code: str, day: date) -> Fraction:
    rate = state.rate(code, day)
    if rate is None:
        raise MissingRate(code=code, day=day.isoformat())
    return rate


def check_travel_rule(
    state: LedgerState, command: InitiateSettlement, asset: Asset, amount_minor: int, day: date
) -> None:
    threshold = state.settings.travel_rule_threshold_usd
    missing = [f"originator {gap}" for gap in command.originator.missing()]
    missing += [f"beneficiary {gap}" for gap in command.beneficiary.missing()]
    if not missing:
        return
    value_usd = _value_usd(state, asset, amount_minor, day)
    if value_usd >= threshold:
        raise TravelRuleIncomplete(
            value_usd=cents_text(value_usd), threshold_usd=cents_text(threshold), missing="; ".join(missing)
        )


def _value_usd(state: LedgerState, asset: Asset, amount_minor: int, day: date) -> Fraction:
    return value_in_byn(amount_minor, asset, _rate_on(state, asset.code, day)) / _rate_on(state, "USD", day)


def check_crypto_travel_rule(state: LedgerState, command: Withdraw, asset: Asset, amount_minor: int, day: date) -> None:
    """A crypto withdrawal at or above the travel-rule threshold carries
    complete IVMS101 data (domain.ivms101), valued in USD as settlements are."""
    missing = ivms101.missing(command.ivms101, command.wallet_address)
    if not missing:
        return
    threshold = state.settings.travel_rule_threshold_usd
    value_usd = _value_usd(state, asset, amount_minor, day)
    if value_usd >= threshold:
        raise TravelRuleIncomplete(
            value_usd=cents_text(value_usd), threshold_usd=cents_text(threshold), missing="; ".join(missing)
        )


def check_self_hosted_wallet(
    state: LedgerState, command: Withdraw, client: Client, asset: Asset, amount_minor: int, day: date
) -> None:
    """A crypto withdrawal to a self-hosted wallet (no beneficiary VASP) above
    the threshold in EUR needs a recorded proof that the client controls it."""
    hosted = command.ivms101 is not None and command.ivms101.beneficiary_vasp is not None
    wallet = command.wallet_address
    if hosted or (wallet is not None and (client.client_id, wallet) in state.verified_wallets):
        return
    threshold = state.settings.self_hosted_proof_threshold_eur
    value_eur = value_in_byn(amount_minor, asset, _rate_on(state, asset.code, day)) / _rate_on(state, "EUR", day)
    if value_eur > threshold:
        raise SelfHostedWalletUnverified(
            value_eur=cents_text(value_eur),
            threshold_eur=cents_text(threshold),
            wallet=wallet or "(none given)",
            client=client.client_id,
        )


def verify_wallet_ownership(state: LedgerState, command: VerifyWalletOwnership, stamp: Stamp) -> list[LedgerEvent]:
    client = find_client(state, command.client_id)
    if (client.client_id, command.wallet_address) in state.verified_wallets:
        raise AlreadyExists(kind="wallet proof", key=f"{client.client_id}:{command.wallet_address}")
    stream = stream_id("wallet", f"{client.client_id}:{command.wallet_address}")
    return [
        WalletOwnershipVerified(
            **head(state, stream, stamp),
            client_id=client.client_id,
            wallet_address=command.wallet_address,
            method=command.method,
            reference=command.reference,
        )
    ]


def blacklist_address(state: LedgerState, command: BlacklistAddress, stamp: Stamp) -> list[LedgerEvent]:
    """Listed again after a removal, an address keeps its whole history."""
    if state.listed_on(command.address) is not None:
        raise AlreadyExists(kind="blacklisted address", key=command.address)
    refused_from = command.listed_on + timedelta(days=1)
    check_after_last_change(f"address {command.address!r}", state.blacklist.get(command.address, ()), refused_from)
    stream = stream_id("address", command.address)
    return [
        AddressBlacklisted(
            **head(state, stream, stamp), address=command.address, listed_on=command.listed_on, reason=command.reason
        )
    ]


def remove_from_blacklist(state: LedgerState, command: RemoveFromBlacklist, stamp: Stamp) -> list[LedgerEvent]:
    listed_on = state.listed_on(command.address)
    if listed_on is None:
        raise AddressNotBlacklisted(address=command.address)
    if command.removed_on <= listed_on:
        raise RemovalNotAfterListing(
            address=command.address, listed_on=listed_on.isoformat(), removed_on=command.removed_on.isoformat()
        )
    # No check_after_last_change: the address's last change is its listing, in
    # force from the day after `listed_on`, and the removal is dated after it.
    stream = stream_id("address", command.address)
    return [
        AddressRemovedFromBlacklist(
            **head(state, stream, stamp), address=command.address, removed_on=command.removed_on, reason=command.reason
        )
    ]


def block_jurisdiction(state: LedgerState, command: BlockJurisdiction, stamp: Stamp) -> list[LedgerEvent]:
    if state.blocked_now(command.country) is not None:
        raise AlreadyExists(kind="blocked jurisdiction", key=command.country)
    check_after_last_change(
        f"jurisdiction {command.country}", state.blocked_countries.get(command.country, ()), stamp.ledger_time
    )
    stream = stream_id("jurisdiction", command.country)
    return [JurisdictionBlocked(**head(state, stream, stamp), country=command.country, reason=command.reason)]


def unblock_jurisdiction(state: LedgerState, command: UnblockJurisdiction, stamp: Stamp) -> list[LedgerEvent]:
    if state.blocked_now(command.country) is None:
        raise JurisdictionNotBlocked(country=command.country)
    check_after_last_change(
        f"jurisdiction {command.country}", state.blocked_countries[command.country], stamp.ledger_time
    )
    stream = stream_id("jurisdiction", command.country)
    return [JurisdictionUnblocked(**head(state, stream, stamp), country=command.country, reason=command.reason)]


def set_backdating_window(state: LedgerState, command: SetBackdatingWindow, stamp: Stamp) -> list[LedgerEvent]:
    return [BackdatingWindowSet(**head(state, BANK_STREAM, stamp), days=command.days)]


OTHER_RATE_CODES = ("USD", "EUR")  # rate keys that are no asset: the currencies thresholds are set in


def set_reference_rate(state: LedgerState, command: SetReferenceRate, stamp: Stamp) -> list[LedgerEvent]:
    if command.code == "BYN":
        raise BynRateFixed()
    if command.code not in OTHER_RATE_CODES:
        find_asset(state, command.code)
    try:
        parse_rate(command.byn_per_unit)
    except ValueError as error:
        raise InvalidRate(reason=str(error)) from None
    stream = stream_id("rate", command.code)
    return [
        ReferenceRateSet(
            **head(state, stream, stamp),
            code=command.code,
            byn_per_unit=command.byn_per_unit,
            effective_on=command.effective_on,
        )
    ]


def _setting(text: str, name: str) -> Fraction:
    if text.strip("0.") == "":
        return Fraction(0)
    try:
        return parse_rate(text)
    except ValueError:
        raise InvalidSetting(name=name, text=text) from None


def set_compliance_settings(state: LedgerState, command: SetComplianceSettings, stamp: Stamp) -> list[LedgerEvent]:
    settings = ComplianceSettings(
        travel_rule_threshold_usd=_setting(command.travel_rule_threshold_usd, "travel_rule_threshold_usd"),
        aml_individual_base_units=_setting(command.aml_individual_base_units, "aml_individual_base_units"),
        aml_company_base_units=_setting(command.aml_company_base_units, "aml_company_base_units"),
        base_unit_byn=_setting(command.base_unit_byn, "base_unit_byn"),
        export_deadline_days=command.export_deadline_days,
        import_deadline_days=command.import_deadline_days,
        aml_window_hours=command.aml_window_hours or AML_WINDOW_HOURS_DEFAULT,
        self_hosted_proof_threshold_eur=_setting(
            command.self_hosted_proof_threshold_eur or "1000", "self_hosted_proof_threshold_eur"
        ),
        settling_kinds=tuple(command.settling_kinds),
    )
    return [ComplianceSettingsSet(**head(state, BANK_STREAM, stamp), settings=settings)]


DECIDERS: Deciders = {
    BlacklistAddress: blacklist_address,
    VerifyWalletOwnership: verify_wallet_ownership,
    BlockJurisdiction: block_jurisdiction,
    RemoveFromBlacklist: remove_from_blacklist,
    UnblockJurisdiction: unblock_jurisdiction,
    SetBackdatingWindow: set_backdating_window,
    SetReferenceRate: set_reference_rate,
    SetComplianceSettings: set_compliance_settings,
}
