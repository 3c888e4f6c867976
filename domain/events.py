"""Events: past-tense facts, the stored contract of the ledger.

Every event names its stream (`originator_id`) and its place in it
(`originator_version`), the wall-clock time it was recorded (`timestamp`), the
business time it happened (`ledger_time`), the idempotency key of the
command that caused it (`command_key`) and that command's `metadata` (empty
when it had none). Parties and assets each have a stream;
every business transaction, and every recorded rejection, is a stream of one
event whose id is derived from the command's key, so the store itself refuses
a second transaction under the same key.

Adding a field means `class_version = 2` and an `upcast_v1_v2` static method;
a class is never edited in place or moved without registering its old topic.
(`metadata` came later with a default, and needs no upcaster: an event stored
before it had none, which is what the default says. The mapper leaves it out
of the stored JSON when it is empty, so such events store as they did.
`late_by_seconds` came later the same way, and `FIELDS_LEFT_OUT_WHEN_EMPTY`
names every such field: left out of the stored JSON and of the audit leaf
when empty, so that an old event's leaf is the leaf it was.)
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.crossborder import ComplianceSettings, Direction, PartyInfo
from domain.ivms101 import IdentityPayload
from domain.money import Asset, MinorUnits
from domain.parties import ClientKind, Residency, TradingPolicy, Venue

# The namespace of every stream id the ledger derives (uuid5), fixed forever:
# changing it would give the same command a different stream on replay.
LEDGER_NAMESPACE = UUID("6f1c4b2e-8d0a-5c39-9b7e-3a2d1f0e4c58")
POSTINGS_PER_TRANSACTION_MAX = 16


_NAMESPACE_HASH = hashlib.sha1(LEDGER_NAMESPACE.bytes, usedforsecurity=False)
# RFC 4122 version 5 and variant bits, set on the hash as uuid5 does.
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_VERSION_5 = (5 << 76) | (0x8000 << 48)


def stream_id(kind: str, name: str) -> UUID:
    """`uuid5(LEDGER_NAMESPACE, f"{kind}:{name}")`, with the namespace hashed
    once: one of these is made for every transaction."""
    hasher = _NAMESPACE_HASH.copy()
    hasher.update(f"{kind}:{name}".encode())
    return UUID(int=(int.from_bytes(hasher.digest()[:16]) & _VERSION_MASK) | _VERSION_5)


BANK_STREAM = stream_id("bank", "bank")


class LedgerEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    class_version: ClassVar[int] = 1
    # True where every event of the class is the only one of its stream (a
    # stream derived from the command's key): the decision state need not
    # remember those streams' versions.
    single_event_stream: ClassVar[bool] = False

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    ledger_time: datetime
    command_key: str
    metadata: dict[str, str] = {}
    # How far the command's ledger time was behind the ledger's current time
    # (the latest ledger time recorded) when it was recorded, inside the
    # back-dating window; empty when it was not late.
    late_by_seconds: int | None = None


FIELDS_LEFT_OUT_WHEN_EMPTY = ("metadata", "late_by_seconds", "time_zone")
"""Fields added after events were first stored: an event without them (empty)
stores, and makes its audit leaf, exactly as it did before they existed."""


def event_classes(base: type[LedgerEvent] = LedgerEvent) -> list[type[LedgerEvent]]:
    """Every class derived from `base`, at any depth."""
    found: list[type[LedgerEvent]] = []
    for sub in base.__subclasses__():
        found += [sub, *event_classes(sub)]
    return found


class BankEstablished(LedgerEvent):
    """`time_zone` (an IANA name) defines the ledger day; empty in stores
    written before it was recorded, whose days stay UTC days."""

    name: str
    htp_resident: bool
    nbrb_register_entry: str
    time_zone: str | None = None


class IssuerRegistered(LedgerEvent):
    issuer_id: str
    name: str
    licensed: bool


class ClientOnboarded(LedgerEvent):
    client_id: str
    name: str
    residency: Residency
    kind: ClientKind


class ClientKycVerified(LedgerEvent):
    """`expires_on` is the first ledger day the verification no longer holds;
    empty when it does not expire (as for every verification recorded before
    verifications could expire)."""

    client_id: str
    expires_on: date | None = None


class ClientKycRevoked(LedgerEvent):
    """The client's KYC verification was withdrawn for `reason`."""

    client_id: str
    reason: str


class ClientFrozen(LedgerEvent):
    """The client was frozen for `reason`: no value of theirs moves."""

    client_id: str
    reason: str


class ClientUnfrozen(LedgerEvent):
    """The client's freeze was lifted for `reason`."""

    client_id: str
    reason: str


class ClientOffboarded(LedgerEvent):
    """The bank ended its relationship with the client (every balance zero)."""

    client_id: str
    reason: str


class IssuerLicenceRevoked(LedgerEvent):
    """The issuer's licence was revoked: it issues no more, it may still redeem."""

    issuer_id: str
    reason: str


class AssetRegistered(LedgerEvent):
    """Fiat or external crypto: `asset.issuer_id` and the cap are empty."""

    asset: Asset


class TokenRegistered(LedgerEvent):
    asset: Asset


class Posting(BaseModel):
    """One leg of a transaction: `amount_minor` adds to the account's balance
    (negative takes away)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str
    asset: str
    amount_minor: MinorUnits


class LedgerTransaction(LedgerEvent):
    """A movement of value: postings that sum to zero per asset."""

    postings: Annotated[tuple[Posting, ...], Field(min_length=2, max_length=POSTINGS_PER_TRANSACTION_MAX)]

    @model_validator(mode="after")
    def _postings_balance(self) -> LedgerTransaction:
        if len(self.postings) == 2:  # most transactions: one asset from one account to another
            debit, credit = self.postings
            if debit.asset == credit.asset and debit.amount_minor + credit.amount_minor == 0:
                return self
        totals: dict[str, int] = defaultdict(int)
        for posting in self.postings:
            totals[posting.asset] += posting.amount_minor
        unbalanced = {asset: total for asset, total in totals.items() if total}
        if unbalanced:
            raise ValueError(f"postings do not balance: {unbalanced}")
        return self


class TokensIssued(LedgerTransaction):
    single_event_stream: ClassVar[bool] = True

    issuer_id: str
    client_id: str
    asset_code: str
    amount_minor: MinorUnits


class TokensRedeemed(LedgerTransaction):
    single_event_stream: ClassVar[bool] = True

    issuer_id: str
    client_id: str
    asset_code: str
    amount_minor: MinorUnits


class FundsDeposited(LedgerTransaction):
    """`wallet_address` is empty for fiat."""

    single_event_stream: ClassVar[bool] = True

    client_id: str
    asset_code: str
    amount_minor: MinorUnits
    reference: str
    wallet_address: str | None = None


class FundsWithdrawn(LedgerTransaction):
    """`wallet_address` is empty for fiat; `ivms101` the travel-rule data the
    withdrawal carried (empty when it carried none, and in events stored
    before crypto transfers had it)."""

    single_event_stream: ClassVar[bool] = True

    client_id: str
    asset_code: str
    amount_minor: MinorUnits
    reference: str
    wallet_address: str | None = None
    ivms101: IdentityPayload | None = None


class TreasuryFunded(LedgerTransaction):
    """The bank put value of its own into its treasury from outside;
    `wallet_address` is empty for fiat."""

    single_event_stream: ClassVar[bool] = True

    asset_code: str
    amount_minor: MinorUnits
    reference: str
    wallet_address: str | None = None


class FundsTransferred(LedgerTransaction):
    single_event_stream: ClassVar[bool] = True

    source_client_id: str
    target_client_id: str
    asset_code: str
    amount_minor: MinorUnits


class TradeExecuted(LedgerTransaction):
    """`venue_id` is empty for a trade with the bank; an empty client side is
    the bank (no venue) or the venue's outside counterparty."""

    single_event_stream: ClassVar[bool] = True

    venue_id: str | None
    buyer_client_id: str | None
    seller_client_id: str | None
    base_asset: str
    base_amount_minor: MinorUnits
    quote_asset: str
    quote_amount_minor: MinorUnits
    fee_minor: MinorUnits


class TransactionReversed(LedgerTransaction):
    """A correction beside an original transaction (which stays as it was):
    the exact opposite of its postings. `original_key` and `original_type`
    name it, `original_ledger_time` is when it happened; `reason` and
    `reference` (a ticket) are the correction's. For a reversed trade,
    `volume_asset`, `volume_minor` and `volume_client_ids` are what is taken
    off the volume counted for the original's ledger day (empty otherwise)."""

    single_event_stream: ClassVar[bool] = True

    original_key: str
    original_type: str
    original_ledger_time: datetime
    reason: str
    reference: str
    volume_asset: str | None = None
    volume_minor: MinorUnits = 0
    volume_client_ids: tuple[str, ...] = ()


class VenueListed(LedgerEvent):
    venue: Venue


class VenueDelisted(LedgerEvent):
    venue_id: str
    reason: str


class TradingPolicySet(LedgerEvent):
    policy: TradingPolicy


class VolumeCapSet(LedgerEvent):
    """`client_id` is empty for the bank's own cap."""

    client_id: str | None
    asset_code: str
    daily_cap_minor: MinorUnits


class AddressBlacklisted(LedgerEvent):
    address: str
    listed_on: date
    reason: str


class AddressRemovedFromBlacklist(LedgerEvent):
    """A blacklisted wallet address is accepted again from `removed_on`;
    its listing stays in its history."""

    address: str
    removed_on: date
    reason: str


class WalletOwnershipVerified(LedgerEvent):
    """The client proved it controls a self-hosted wallet (EU TFR Art. 14(5)):
    `method` how, `reference` the evidence; `wallet_address` canonical."""

    client_id: str
    wallet_address: str
    method: str
    reference: str


REJECTION_CLIENT_FIELDS = ("client_id", "buyer_client_id", "seller_client_id", "source_client_id")


def rejection_subject(command: dict[str, object], details: dict[str, str]) -> tuple[str | None, str | None]:
    """Whom and where a refusal concerns: the client the rule names, else the
    first client the command names; the venue the command names."""
    client = details.get("client")
    if client is None:
        named = (command.get(field) for field in REJECTION_CLIENT_FIELDS)
        client = next((value for value in named if isinstance(value, str)), None)
    venue = command.get("venue_id")
    return client, venue if isinstance(venue, str) else None


class CommandRejected(LedgerEvent):
    """A refused command a supervisor should see: `rule` is the stable rule
    code, `details` the context of the refusal, `command` the payload as sent,
    `client_id` and `venue_id` whom and where it concerned (empty if nobody).

    Version 2 added `client_id` and `venue_id`; a version 1 event gets them
    from its own command and details, as version 2 would have recorded them.
    """

    single_event_stream: ClassVar[bool] = True
    class_version: ClassVar[int] = 2

    command_type: str
    rule: str
    reason: str
    details: dict[str, str]
    command: dict[str, object]
    client_id: str | None
    venue_id: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["client_id"], state["venue_id"] = rejection_subject(state["command"], state["details"])


class SettlementInitiated(LedgerTransaction):
    """Value sent abroad: the client's account to the in-transit account.
    `value_byn` is the BYN equivalent at the day's reference rate (for
    reports), empty when the asset has no rate; `travel_rule_complete` whether
    both parties' data were complete, whatever the threshold."""

    settlement_id: str
    client_id: str
    direction: Direction
    counterparty: str
    country: str
    contract_reference: str
    asset_code: str
    amount_minor: MinorUnits
    deadline: date
    originator: PartyInfo
    beneficiary: PartyInfo
    beneficiary_wallet: str | None
    travel_rule_complete: bool
    value_byn: str | None


class FundsReturned(LedgerTransaction):
    """Value of a settlement back from abroad: in-transit to the client."""

    settlement_id: str
    amount_minor: MinorUnits
    reference: str


class SettlementClosedByDelivery(LedgerTransaction):
    """An import settled by the goods: in-transit to the outside world."""

    settlement_id: str
    amount_minor: MinorUnits
    delivery_reference: str


class SettlementDeadlineExtended(LedgerEvent):
    settlement_id: str
    new_deadline: date
    permit_reference: str


class SettlementOverdue(LedgerEvent):
    settlement_id: str
    deadline: date
    outstanding_minor: MinorUnits


class ReferenceRateSet(LedgerEvent):
    code: str
    byn_per_unit: str
    effective_on: date


class ComplianceSettingsSet(LedgerEvent):
    settings: ComplianceSettings


class JurisdictionBlocked(LedgerEvent):
    country: str
    reason: str


class JurisdictionUnblocked(LedgerEvent):
    """Settlements to `country` are allowed again from this event's ledger
    time; the blocking stays in its history."""

    country: str
    reason: str


class BackdatingWindowSet(LedgerEvent):
    """Commands may be dated up to `days` before the ledger's current time
    (before any is recorded: `BACKDATING_WINDOW_DAYS_DEFAULT`)."""

    days: int


class AmlNotificationRecorded(LedgerEvent):
    """An operation at or above the client's AML threshold, or linked
    operations that reached it together within the rolling window, for the
    supervisor: `operation` the command type of the operation that raised it
    (`asset_code` and `amount_minor` are that operation's), `value_byn` (of
    every operation covered) and `threshold_byn` decimal BYN. `operations`
    are the command keys of the operations it covers, oldest first (empty in
    a notice stored before linked operations: it covers its own command);
    `window_hours` the window that linked them, empty for one operation
    alone."""

    single_event_stream: ClassVar[bool] = True

    client_id: str
    operation: str
    asset_code: str
    amount_minor: MinorUnits
    value_byn: str
    threshold_byn: str
    operations: tuple[str, ...] = ()
    window_hours: int | None = None

    @property
    def covered(self) -> tuple[str, ...]:
        """The command keys of the operations this notice covers."""
        return self.operations or (self.command_key,)


# The transactions that change balances and nothing else (no party, asset,
# venue or settlement; alone in their streams): a reader of the log may apply
# their postings alone, without building the event. The views rely on it,
# and the decision state too but for `AML_OPERATIONS`; tests hold each to it.
PLAIN_TRANSACTIONS: tuple[type[LedgerTransaction], ...] = (
    TokensIssued,
    TokensRedeemed,
    FundsDeposited,
    FundsWithdrawn,
    FundsTransferred,
    TreasuryFunded,
)
# The plain transactions that are also a client's operation for AML: the
# views apply them by their postings alone, but the decision state notes
# each in the client's window of linked operations (domain.aml), so it
# decodes them whole.
AML_OPERATIONS: tuple[type[LedgerTransaction], ...] = (FundsDeposited, FundsWithdrawn, FundsTransferred)


class SandboxClockSet(LedgerEvent):
    """The sandbox's test clock was frozen at `frozen_at` (its `ledger_time`
    too), or released to real time (`frozen_at` empty)."""

    frozen_at: datetime | None


CLOCK_STREAM = stream_id("sandbox", "clock")


# The command whose decider records each class of event first (an AML notice
# follows the event of its operation, a rejection names its command itself):
# how a reader of the log names the command behind a run of events.
COMMAND_TYPE_OF_FIRST_EVENT: dict[type[LedgerEvent], str] = {
    BankEstablished: "establish_bank",
    IssuerRegistered: "register_issuer",
    ClientOnboarded: "onboard_client",
    ClientKycVerified: "verify_kyc",
    ClientKycRevoked: "revoke_kyc",
    ClientFrozen: "freeze_client",
    ClientUnfrozen: "unfreeze_client",
    ClientOffboarded: "offboard_client",
    IssuerLicenceRevoked: "revoke_issuer_licence",
    TransactionReversed: "reverse_transaction",
    AssetRegistered: "register_asset",
    TokenRegistered: "register_token",
    TokensIssued: "issue_tokens",
    TokensRedeemed: "redeem_tokens",
    FundsDeposited: "deposit",
    FundsWithdrawn: "withdraw",
    FundsTransferred: "transfer",
    TreasuryFunded: "fund_treasury",
    VenueListed: "list_venue",
    VenueDelisted: "delist_venue",
    TradingPolicySet: "set_trading_policy",
    VolumeCapSet: "set_volume_cap",
    AddressBlacklisted: "blacklist_address",
    WalletOwnershipVerified: "verify_wallet_ownership",
    TradeExecuted: "execute_trade",
    SettlementInitiated: "initiate_settlement",
    FundsReturned: "return_settlement_funds",
    SettlementClosedByDelivery: "close_settlement_by_delivery",
    SettlementDeadlineExtended: "extend_settlement_deadline",
    SettlementOverdue: "check_deadlines",
    ReferenceRateSet: "set_reference_rate",
    ComplianceSettingsSet: "set_compliance_settings",
    JurisdictionBlocked: "block_jurisdiction",
    AddressRemovedFromBlacklist: "remove_from_blacklist",
    JurisdictionUnblocked: "unblock_jurisdiction",
    BackdatingWindowSet: "set_backdating_window",
    SandboxClockSet: "set_sandbox_clock",
}
NEVER_FIRST_EVENTS: tuple[type[LedgerEvent], ...] = (AmlNotificationRecorded,)
