"""Commands: what a bank system asks the ledger to do, validated at the boundary.

Every command carries `key`, an idempotency key its sender chooses: sending the
same command again with the same key returns the first result and writes
nothing; the same key with a different payload is refused. `ledger_time` is the
business time of the command; when empty, the ledger's clock supplies it.
`metadata` is the sender's own string pairs (an order id, a customer
reference), stored with the command's events and filterable, within named
limits (Stripe's are alike: 50 keys, 40-character keys, 500-character values).
Amounts are decimal strings ("12.50"), checked against the asset's scale.

Text from outside is checked here, field by field, before anything is
decided: identifiers are printable ASCII (their patterns), and names,
reasons and references are one line of Unicode text (`LineText`: no control
characters, C0, DEL or C1, no line or paragraph separators, no lone
surrogates). Metadata values are free text (`FreeText`: the same, but a
paragraph separator may stand in one). Format characters (RTL marks, joiners)
are allowed: names in Arabic or Hebrew need them, and every reader escapes.
A NUL in particular must never reach the store: PostgreSQL text cannot hold
one, and an append-only log could never lose it again.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    TypeAdapter,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.addresses import AddressError, canonical_address, normalise_address
from domain.crossborder import (
    AML_WINDOW_HOURS_MAX,
    BACKDATING_WINDOW_DAYS_MAX,
    DEADLINE_DAYS_MAX,
    Country,
    Direction,
    PartyInfo,
    RateText,
)
from domain.ivms101 import IdentityPayload
from domain.money import (
    AMOUNT_TEXT_LENGTH_MAX,
    ASSET_CODE_PATTERN,
    DECIMAL_SCHEMA_PATTERN,
    SCALE_MAX,
    AssetKind,
    decimal_digits,
)
from domain.parties import ClientKind, PartyId, Residency, VenueKind
from domain.parties import PartyName as _AnyPartyName

IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
REFERENCE_LENGTH_MAX = 128
REGISTER_ENTRY_LENGTH_MAX = 64
WALLET_ADDRESS_LENGTH_MAX = 90  # bech32's longest; EVM is 42, Base58Check 25 to 35
# For the schema (OpenAPI) only: the validator checks each network's format and checksum.
WALLET_ADDRESS_PATTERN = r"^(0[xX][0-9a-fA-F]{40}|[bBtT][cCbB]1[0-9A-Za-z]{6,87}|[13T][1-9A-HJ-NP-Za-km-z]{24,34})$"

# Control characters (Unicode category Cc: C0, DEL, C1) and lone surrogates
# (which no UTF-8 encoder takes) are never text; line and paragraph
# separators end a line, so one-line fields refuse them too.
_NOT_FREE_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_LINE_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")


def _refuse(found: re.Match[str] | None) -> None:
    if found is not None:
        code = ord(found.group())
        kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "the control character"
        if code in (0x2028, 0x2029):
            kind = "a line break"
        raise PydanticCustomError(
            "forbidden_character",
            "{kind} U+{code} at character {index} is not allowed here",
            {"kind": kind, "code": f"{code:04X}", "index": found.start() + 1},
        )


def line_text(value: str) -> str:
    """One line of text: no control characters, line breaks or lone surrogates."""
    if not value.isascii() or not value.isprintable():
        _refuse(_NOT_LINE_TEXT.search(value))
    return value


def free_text(value: str) -> str:
    """Text that may hold a paragraph separator, but no control character or lone surrogate."""
    if not value.isascii() or not value.isprintable():
        _refuse(_NOT_FREE_TEXT.search(value))
    return value


def wallet_address(value: str) -> str:
    """A wallet address of a network the ledger knows, in its canonical spelling
    (`domain.addresses`): one wallet is one string wherever it is compared."""
    try:
        return normalise_address(value)[1]
    except AddressError as error:
        raise PydanticCustomError("wallet_address", "{reason}", {"reason": str(error)}) from None


def plain_decimal(value: str) -> str:
    """The whole string is ASCII digits with at most one point between them."""
    if decimal_digits(value) is None:
        raise PydanticCustomError(
            "plain_decimal", "not a plain decimal number like '12.50' (ASCII digits and one point, nothing else)"
        )
    return value


LineText = Annotated[StrictStr, AfterValidator(line_text)]
FreeText = Annotated[StrictStr, AfterValidator(free_text)]
PartyName = Annotated[_AnyPartyName, AfterValidator(line_text)]
IdempotencyKey = Annotated[str, Field(pattern=IDEMPOTENCY_KEY_PATTERN)]
AssetCode = Annotated[str, Field(pattern=ASSET_CODE_PATTERN)]
DecimalText = Annotated[
    StrictStr,
    Field(min_length=1, max_length=AMOUNT_TEXT_LENGTH_MAX, json_schema_extra={"pattern": DECIMAL_SCHEMA_PATTERN}),
    AfterValidator(plain_decimal),
]
Reference = Annotated[LineText, Field(min_length=1, max_length=REFERENCE_LENGTH_MAX)]
WalletAddress = Annotated[
    StrictStr,
    Field(min_length=1, max_length=WALLET_ADDRESS_LENGTH_MAX, json_schema_extra={"pattern": WALLET_ADDRESS_PATTERN}),
    AfterValidator(wallet_address),
]
WalletProofMethod = Literal["signed_message", "satoshi_test", "other"]
VENUE_ASSETS_MAX = 200
METADATA_ENTRIES_MAX = 20
METADATA_KEY_PATTERN = r"^[A-Za-z0-9_.:-]{1,40}$"
METADATA_VALUE_LENGTH_MAX = 500

MetadataKey = Annotated[str, Field(pattern=METADATA_KEY_PATTERN)]
MetadataValue = Annotated[FreeText, Field(max_length=METADATA_VALUE_LENGTH_MAX)]
_METADATA_KEY = re.compile(METADATA_KEY_PATTERN)

# Left out of the digest when empty, so that a command without metadata
# digests exactly as it did before commands had any: stores hold those digests.
_KEY_ONLY = {"key"}
_KEY_AND_METADATA = {"key", "metadata"}


class BaseCommand(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: IdempotencyKey
    ledger_time: AwareDatetime | None = None
    # The type's own limits are for the schema (OpenAPI); the validator
    # refuses first, with a message that names the key.
    metadata: Annotated[dict[MetadataKey, MetadataValue], Field(max_length=METADATA_ENTRIES_MAX)] = {}

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata_within_limits(cls, value: object) -> object:
        """Within the limits, in key order (so that the same pairs sent in
        another order are the same command)."""
        if not isinstance(value, dict):
            return value  # the field's own type check says what it should be
        if len(value) > METADATA_ENTRIES_MAX:
            raise ValueError(f"metadata holds at most {METADATA_ENTRIES_MAX} entries, {len(value)} given")
        for name, text in value.items():
            if not isinstance(name, str) or not _METADATA_KEY.fullmatch(name):
                raise ValueError(f"metadata key {name!r} must be 1 to 40 of the characters A-Z a-z 0-9 _ . : -")
            if not isinstance(text, str):
                raise ValueError(f"metadata value of {name!r} must be a string, not {type(text).__name__}")
            if len(text) > METADATA_VALUE_LENGTH_MAX:
                limit = METADATA_VALUE_LENGTH_MAX
                raise ValueError(f"metadata value of {name!r} holds at most {limit} characters, {len(text)} given")
        return dict(sorted(value.items()))

    # Fields added after commands of the class were stored: left out of the
    # digest when empty, so that such a command digests as it did before them.
    digest_omits_when_empty: ClassVar[tuple[str, ...]] = ()

    def digest(self) -> str:
        """SHA-256 of the payload as JSON, without the key: a repeat must match
        it. Field order is the class's, so equal commands give equal digests;
        metadata is in it only when there is some (see `_KEY_AND_METADATA`),
        and so are the fields of `digest_omits_when_empty`."""
        exclude = _KEY_ONLY if self.metadata else _KEY_AND_METADATA
        if self.digest_omits_when_empty:
            exclude = exclude | {name for name in self.digest_omits_when_empty if getattr(self, name) is None}
        payload = type(self).__pydantic_serializer__.to_json(self, exclude=exclude)
        return hashlib.sha256(payload).hexdigest()

    def at(self, default: datetime) -> datetime:
        return self.ledger_time or default

    @property
    def command_type(self) -> str:
        """The `type` each command class fixes, like 'deposit'."""
        value = getattr(self, "type", None)
        assert isinstance(value, str), type(self)
        return value


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/-]+$")]


class EstablishBank(BaseCommand):
    """`time_zone`: the IANA zone whose calendar days are the ledger's days."""

    type: Literal["establish_bank"] = "establish_bank"
    name: PartyName
    htp_resident: StrictBool
    nbrb_register_entry: Annotated[LineText, Field(min_length=1, max_length=REGISTER_ENTRY_LENGTH_MAX)]
    time_zone: TimeZoneName = "Europe/Minsk"


class RegisterIssuer(BaseCommand):
    type: Literal["register_issuer"] = "register_issuer"
    issuer_id: PartyId
    name: PartyName
    licensed: StrictBool


class OnboardClient(BaseCommand):
    type: Literal["onboard_client"] = "onboard_client"
    client_id: PartyId
    name: PartyName
    residency: Residency
    kind: ClientKind


class VerifyKyc(BaseCommand):
    """Verifies a client's KYC (again, after a revocation or an expiry);
    `expires_on` is the first ledger day it no longer holds (empty: none)."""

    type: Literal["verify_kyc"] = "verify_kyc"
    digest_omits_when_empty: ClassVar[tuple[str, ...]] = ("expires_on",)
    client_id: PartyId
    expires_on: date | None = None


class RevokeKyc(BaseCommand):
    """Withdraws a client's KYC verification: it moves nothing until verified again."""

    type: Literal["revoke_kyc"] = "revoke_kyc"
    client_id: PartyId
    reason: Reference


class FreezeClient(BaseCommand):
    """Freezes a client (a court order, an AML suspicion): no value of theirs moves until unfrozen."""

    type: Literal["freeze_client"] = "freeze_client"
    client_id: PartyId
    reason: Reference


class UnfreezeClient(BaseCommand):
    type: Literal["unfreeze_client"] = "unfreeze_client"
    client_id: PartyId
    reason: Reference


class OffboardClient(BaseCommand):
    """Ends the relationship with a client whose every balance is zero; nothing of theirs happens afterwards."""

    type: Literal["offboard_client"] = "offboard_client"
    client_id: PartyId
    reason: Reference


class RevokeIssuerLicence(BaseCommand):
    """The issuer's HTP licence was revoked: no new issuance; redemption still allowed."""

    type: Literal["revoke_issuer_licence"] = "revoke_issuer_licence"
    issuer_id: PartyId
    reason: Reference


class ReverseTransaction(BaseCommand):
    """Corrects a transaction beside it: records the exact opposite postings of
    the transaction of `original_key`, which stays as it was. `reference` is
    the correction's own (a ticket number)."""

    type: Literal["reverse_transaction"] = "reverse_transaction"
    original_key: IdempotencyKey
    reason: Reference
    reference: Reference


class RegisterAsset(BaseCommand):
    """Fiat or external crypto that clients deposit and withdraw."""

    type: Literal["register_asset"] = "register_asset"
    code: AssetCode
    scale: Annotated[int, Field(strict=True, ge=0, le=SCALE_MAX)]
    kind: Literal[AssetKind.FIAT, AssetKind.CRYPTO]


class RegisterToken(BaseCommand):
    """A token minted by a licensed issuer, up to `supply_cap`."""

    type: Literal["register_token"] = "register_token"
    code: AssetCode
    scale: Annotated[int, Field(strict=True, ge=0, le=SCALE_MAX)]
    issuer_id: PartyId
    supply_cap: DecimalText


class IssueTokens(BaseCommand):
    type: Literal["issue_tokens"] = "issue_tokens"
    issuer_id: PartyId
    asset: AssetCode
    client_id: PartyId
    amount: DecimalText


class RedeemTokens(BaseCommand):
    type: Literal["redeem_tokens"] = "redeem_tokens"
    issuer_id: PartyId
    asset: AssetCode
    client_id: PartyId
    amount: DecimalText


class Deposit(BaseCommand):
    """Fiat or crypto arriving from outside the bank (`reference`: the bank
    transfer or blockchain transaction that brought it; `wallet_address`: the
    sending wallet, empty for fiat)."""

    type: Literal["deposit"] = "deposit"
    client_id: PartyId
    asset: AssetCode
    amount: DecimalText
    reference: Reference
    wallet_address: WalletAddress | None = None


class Withdraw(BaseCommand):
    """Fiat or crypto leaving the bank; `wallet_address` the receiving wallet
    (empty for fiat). `ivms101` is the travel-rule data of a crypto transfer
    (domain.ivms101), needed at or above the travel-rule threshold; its
    `beneficiary_vasp` empty means a self-hosted wallet."""

    digest_omits_when_empty: ClassVar[tuple[str, ...]] = ("ivms101",)

    type: Literal["withdraw"] = "withdraw"
    client_id: PartyId
    asset: AssetCode
    amount: DecimalText
    reference: Reference
    wallet_address: WalletAddress | None = None
    ivms101: IdentityPayload | None = None

    @field_validator("ivms101")
    @classmethod
    def _ivms101_text(cls, payload: IdentityPayload | None) -> IdentityPayload | None:
        """One line of text in every field, and wallet addresses among the
        account numbers in their canonical spelling (as `wallet_address` is)."""
        if payload is None:
            return None
        _check_lines(payload.model_dump(), "ivms101")
        if payload.beneficiary is None:
            return payload
        accounts = [canonical_address(number) for number in payload.beneficiary.account_number]
        beneficiary = payload.beneficiary.model_copy(update={"account_number": accounts})
        return payload.model_copy(update={"beneficiary": beneficiary})


def _check_lines(value: object, where: str) -> None:
    if isinstance(value, str):
        try:
            line_text(value)
        except PydanticCustomError as error:
            raise PydanticCustomError("forbidden_character", f"{where}: {error.message()}") from None
    elif isinstance(value, dict):
        for name, item in value.items():
            _check_lines(item, f"{where}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_lines(item, f"{where}[{index}]")


class FundTreasury(BaseCommand):
    """Fiat or crypto the bank puts into its own treasury from outside (its
    capital, or crypto it bought outside the ledger): the treasury sells only
    what it holds. `reference` and `wallet_address` as for a deposit."""

    type: Literal["fund_treasury"] = "fund_treasury"
    asset: AssetCode
    amount: DecimalText
    reference: Reference
    wallet_address: WalletAddress | None = None


class Transfer(BaseCommand):
    type: Literal["transfer"] = "transfer"
    source_client_id: PartyId
    target_client_id: PartyId
    asset: AssetCode
    amount: DecimalText


class ListVenue(BaseCommand):
    """Lists a venue, or lists again one that was delisted, with the assets it trades."""

    type: Literal["list_venue"] = "list_venue"
    venue_id: PartyId
    name: PartyName
    kind: VenueKind
    assets: Annotated[list[AssetCode], Field(min_length=1, max_length=VENUE_ASSETS_MAX)]


class DelistVenue(BaseCommand):
    type: Literal["delist_venue"] = "delist_venue"
    venue_id: PartyId
    reason: Reference


class SetTradingPolicy(BaseCommand):
    """Whether non-residents and resident companies may trade on foreign venues."""

    type: Literal["set_trading_policy"] = "set_trading_policy"
    non_residents_on_foreign_venues: StrictBool
    resident_companies_on_foreign_venues: StrictBool


class SetVolumeCap(BaseCommand):
    """A daily cap on traded volume, counted in the quote asset: the bank's
    (`client_id` empty; the NBRB's cap) or one client's."""

    type: Literal["set_volume_cap"] = "set_volume_cap"
    client_id: PartyId | None = None
    asset: AssetCode
    daily_cap: DecimalText


class VerifyWalletOwnership(BaseCommand):
    """A recorded proof that a client controls a self-hosted wallet (EU TFR
    Art. 14(5)): how it was shown (`method`) and the evidence's `reference`
    (the signed message's hash, the test transfer's transaction id)."""

    type: Literal["verify_wallet_ownership"] = "verify_wallet_ownership"
    client_id: PartyId
    wallet_address: WalletAddress
    method: WalletProofMethod
    reference: Reference


class BlacklistAddress(BaseCommand):
    """A wallet address refused from the ledger day after `listed_on`."""

    type: Literal["blacklist_address"] = "blacklist_address"
    address: WalletAddress
    listed_on: date
    reason: Reference


class RemoveFromBlacklist(BaseCommand):
    """A blacklisted wallet address accepted again from the ledger day
    `removed_on` (refused before it, from its listing on)."""

    type: Literal["remove_from_blacklist"] = "remove_from_blacklist"
    address: WalletAddress
    removed_on: date
    reason: Reference


class ExecuteTrade(BaseCommand):
    """Delivery versus payment: the buyer receives `base_amount` of the base
    asset and pays `quote_amount` of the quote asset, plus `fee` (in the quote
    asset) to the bank. An empty side is the bank itself when `venue_id` is
    empty, and the venue's outside counterparty otherwise."""

    type: Literal["execute_trade"] = "execute_trade"
    venue_id: PartyId | None = None
    buyer_client_id: PartyId | None = None
    seller_client_id: PartyId | None = None
    base_asset: AssetCode
    base_amount: DecimalText
    quote_asset: AssetCode
    quote_amount: DecimalText
    fee: DecimalText = "0"


class InitiateSettlement(BaseCommand):
    """Sends a client's value abroad under a foreign contract. The deadline is
    `deadline_days` after the ledger day, or the settings' default for the
    direction; `originator` and `beneficiary` carry the travel-rule data."""

    type: Literal["initiate_settlement"] = "initiate_settlement"
    settlement_id: PartyId
    client_id: PartyId
    direction: Direction
    counterparty: PartyName
    country: Country
    contract_reference: Reference
    asset: AssetCode
    amount: DecimalText
    deadline_days: Annotated[int, Field(strict=True, ge=1, le=DEADLINE_DAYS_MAX)] | None = None
    originator: PartyInfo = PartyInfo()
    beneficiary: PartyInfo = PartyInfo()
    beneficiary_wallet: WalletAddress | None = None

    @field_validator("originator", "beneficiary")
    @classmethod
    def _travel_rule_text(cls, party: PartyInfo) -> PartyInfo:
        """The travel-rule data is text of one line, as names and references are."""
        for name, value in party:
            if isinstance(value, str):
                try:
                    line_text(value)
                except PydanticCustomError as error:
                    raise PydanticCustomError("forbidden_character", f"{name}: {error.message()}") from None
        return party


class ReturnSettlementFunds(BaseCommand):
    """Value of a settlement coming back, in full or in part."""

    type: Literal["return_settlement_funds"] = "return_settlement_funds"
    settlement_id: PartyId
    amount: DecimalText
    reference: Reference


class CloseSettlementByDelivery(BaseCommand):
    """An import whose goods arrived: what is outstanding is settled."""

    type: Literal["close_settlement_by_delivery"] = "close_settlement_by_delivery"
    settlement_id: PartyId
    delivery_reference: Reference


class ExtendSettlementDeadline(BaseCommand):
    type: Literal["extend_settlement_deadline"] = "extend_settlement_deadline"
    settlement_id: PartyId
    new_deadline: date
    permit_reference: Reference


class CheckDeadlines(BaseCommand):
    """Flags every open settlement whose deadline the ledger time has passed."""

    type: Literal["check_deadlines"] = "check_deadlines"


class SetReferenceRate(BaseCommand):
    """BYN per whole unit of `code` (an asset, or USD or EUR) from `effective_on`."""

    type: Literal["set_reference_rate"] = "set_reference_rate"
    code: AssetCode
    byn_per_unit: RateText
    effective_on: date


class SetComplianceSettings(BaseCommand):
    """Thresholds (decimal strings) and deadlines; a field left out keeps its default."""

    digest_omits_when_empty: ClassVar[tuple[str, ...]] = ("aml_window_hours", "self_hosted_proof_threshold_eur")

    type: Literal["set_compliance_settings"] = "set_compliance_settings"
    travel_rule_threshold_usd: DecimalText = "1000"
    aml_individual_base_units: DecimalText = "2000"
    aml_company_base_units: DecimalText = "20000"
    base_unit_byn: DecimalText = "45"
    export_deadline_days: Annotated[int, Field(strict=True, ge=1, le=DEADLINE_DAYS_MAX)] = 180
    import_deadline_days: Annotated[int, Field(strict=True, ge=1, le=DEADLINE_DAYS_MAX)] = 90
    # Empty takes the default (24 hours; EUR 1,000), as for a command sent before these settings.
    aml_window_hours: Annotated[int, Field(strict=True, ge=1, le=AML_WINDOW_HOURS_MAX)] | None = None
    self_hosted_proof_threshold_eur: DecimalText | None = None
    settling_kinds: Annotated[list[ClientKind], Field(max_length=3)] = [
        ClientKind.COMPANY,
        ClientKind.SELF_EMPLOYED,
    ]


class BlockJurisdiction(BaseCommand):
    type: Literal["block_jurisdiction"] = "block_jurisdiction"
    country: Country
    reason: Reference


class UnblockJurisdiction(BaseCommand):
    """Settlements to `country` allowed again from the command's ledger time."""

    type: Literal["unblock_jurisdiction"] = "unblock_jurisdiction"
    country: Country
    reason: Reference


class SetBackdatingWindow(BaseCommand):
    """How many days before the ledger's current time (the latest ledger time
    it has recorded) a command may be dated; 0 allows no back-dating."""

    type: Literal["set_backdating_window"] = "set_backdating_window"
    days: Annotated[int, Field(strict=True, ge=0, le=BACKDATING_WINDOW_DAYS_MAX)]


CLOCK_ADVANCE_SECONDS_MAX = 10 * 366 * 24 * 3600  # ten years


class SetSandboxClock(BaseCommand):
    """A test clock: freeze the ledger's clock at `frozen_at`, move a frozen
    (or the running) clock on by `advance_seconds`, or `release` it to run
    with real time again. Exactly one of the three. While it is frozen,
    commands without a `ledger_time` happen at its time, so deadlines and
    daily caps can be tested without waiting; moving it on flags the
    settlements whose deadline it passed, as `check_deadlines` would. It
    moves forward only."""

    type: Literal["set_sandbox_clock"] = "set_sandbox_clock"
    frozen_at: AwareDatetime | None = None
    advance_seconds: Annotated[int, Field(strict=True, ge=1, le=CLOCK_ADVANCE_SECONDS_MAX)] | None = None
    release: StrictBool = False

    @model_validator(mode="after")
    def _one_change(self) -> SetSandboxClock:
        chosen = [self.frozen_at is not None, self.advance_seconds is not None, self.release]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of frozen_at, advance_seconds or release")
        return self


Command = Annotated[
    EstablishBank
    | RegisterIssuer
    | OnboardClient
    | VerifyKyc
    | RevokeKyc
    | FreezeClient
    | UnfreezeClient
    | OffboardClient
    | RevokeIssuerLicence
    | ReverseTransaction
    | RegisterAsset
    | RegisterToken
    | IssueTokens
    | RedeemTokens
    | Deposit
    | Withdraw
    | Transfer
    | FundTreasury
    | ListVenue
    | DelistVenue
    | SetTradingPolicy
    | SetVolumeCap
    | BlacklistAddress
    | RemoveFromBlacklist
    | VerifyWalletOwnership
    | ExecuteTrade
    | InitiateSettlement
    | ReturnSettlementFunds
    | CloseSettlementByDelivery
    | ExtendSettlementDeadline
    | CheckDeadlines
    | SetReferenceRate
    | SetComplianceSettings
    | BlockJurisdiction
    | UnblockJurisdiction
    | SetBackdatingWindow
    | SetSandboxClock,
    Field(discriminator="type"),
]

COMMAND_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
