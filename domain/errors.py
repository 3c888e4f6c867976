"""Expected rejections of ledger commands, with keyword-only context.

The tree::

    LedgerError                      anything the ledger refuses on purpose; `code` names its kind
    ├── InvalidCommand               malformed or inconsistent input: nothing is written
    │   ├── InvalidAmount            an amount that is not a positive plain decimal within limits
    │   │   ├── AmountNotText, AmountTooLong, AmountNotDecimal,
    │   │   └── AmountTooPrecise, AmountNotPositive, AmountTooLarge
    │   ├── UnknownAsset, UnknownClient, UnknownIssuer, UnknownVenue, UnknownSettlement
    │   ├── MissingRate              no reference rate to value an amount with
    │   ├── AlreadyExists            a party or asset registered twice
    │   ├── BankNotEstablished       a command that needs the bank before it exists
    │   ├── IdempotencyConflict      a key reused with a different payload
    │   ├── KycAlreadyVerified, KycAlreadyExpired, KycNotRevocable,
    │   │   ClientAlreadyFrozen,
    │   │   ClientNotFrozen                                      (onboarding)
    │   ├── LicenceNotRevocable                                  (issuance)
    │   ├── UnknownTransaction                                   (corrections)
    │   ├── NotAToken                                            (issuance)
    │   ├── TokenOutsideIssuance, SameClientOnBothSides          (funding, trading, settlements)
    │   ├── TradeWithoutClient, SameAssetOnBothSides,
    │   │   VenueAlreadyDelisted                                 (trading)
    │   ├── SettlementNotOutstanding, ReturnExceedsOutstanding,
    │   │   DeliveryClosesImportsOnly, SettlementNotExtendable,
    │   │   DeadlineNotLater, ClockMovesForwardOnly              (settlements)
    │   ├── BynRateFixed, InvalidRate, InvalidSetting,
    │   │   AddressNotBlacklisted, RemovalNotAfterListing,
    │   │   JurisdictionNotBlocked                               (compliance)
    │   ├── UnknownTimeZone          a time zone name the zone database does not hold
    │   ├── BackdatedBeyondWindow    a command dated before the ledger's time minus the window
    │   ├── ChangedBeforeLastChange  a dated fact changed at a time before its latest change
    │   └── BatchTooLarge, OutOfRange                            (the write path)
    ├── RuleViolation                a business rule a supervisor should see: the
    │   │                            rejection is recorded as an event with a rule code
    │   ├── IssuerNotLicensed
    │   ├── SupplyCapExceeded
    │   ├── KycNotVerified
    │   ├── KycRevoked               the verification was withdrawn
    │   ├── KycExpired               the verification's expiry day has come
    │   ├── FrozenClient             no value of a frozen client moves
    │   ├── OffboardedClient         nothing happens to a client who has left
    │   ├── BalanceNotZero           offboarding a client who still holds value
    │   ├── LicenceRevoked           issuance by an issuer whose licence was revoked
    │   ├── AlreadyReversed          a transaction reversed a second time
    │   ├── NotReversible            a rejection, a command without postings, or a kind
    │   │                            that is corrected otherwise (settlements, reversals)
    │   ├── InsufficientFunds        a client's or the bank's treasury's balance would go below zero
    │   ├── TokenOutsideLedger       a token traded with a venue's outside counterparty
    │   ├── NotIssuersToken
    │   ├── VenueNotListed
    │   ├── ForeignVenueForbidden    the domestic-only rule (Decree No. 367)
    │   ├── AssetNotListedOnVenue
    │   ├── ClientVolumeCapExceeded
    │   ├── BankVolumeCapExceeded    the NBRB's cap on the bank's operations
    │   ├── BlacklistedAddress
    │   ├── TravelRuleIncomplete     originator or beneficiary data missing
    │   ├── SelfHostedWalletUnverified  no proof the client controls a self-hosted wallet
    │   ├── BlockedJurisdiction
    │   └── SettlementNotPermitted   a kind of client the bank does not settle abroad for
    └── BatchRejected                a batch that wrote nothing, naming the position
                                     of the command that was refused and why

`InvalidCommand` means the batch is refused whole and the store is untouched.
`RuleViolation` means the command's outcome is a recorded rejection: the batch
commits, with a rejection event in place of the command's effects.

Every kind has a stable `code` (a rule violation's is its rule code), shown
wherever a refusal is (the CLI, the HTTP service's problems, scenarios), so
that callers match a code, never a message's words. `InvalidCommand` itself
(code INVALID_COMMAND) is the base: the ledger raises only its named kinds.
"""

from __future__ import annotations

from typing import ClassVar

INVALID_INPUT = "INVALID_INPUT"
"""The code shown for a command whose fields fail validation (no `LedgerError`: pydantic's)."""


class LedgerError(Exception):
    """Base of every expected rejection; `context` holds the keyword details."""

    template: ClassVar[str] = "ledger error"
    code: ClassVar[str] = "LEDGER_ERROR"

    def __init__(self, **context: object) -> None:
        self.context = context
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template.format(**self.context)


class InvalidCommand(LedgerError):
    code = "INVALID_COMMAND"
    template = "invalid command: {reason}"


class InvalidAmount(InvalidCommand):
    code = "INVALID_AMOUNT"
    template = "invalid amount {amount!r} for {asset}: {reason}"


class AmountNotText(InvalidAmount):
    code = "AMOUNT_NOT_TEXT"


class AmountTooLong(InvalidAmount):
    code = "AMOUNT_TOO_LONG"


class AmountNotDecimal(InvalidAmount):
    code = "AMOUNT_NOT_DECIMAL"


class AmountTooPrecise(InvalidAmount):
    """More decimals than the asset's scale: never rounded."""

    code = "AMOUNT_TOO_PRECISE"


class AmountNotPositive(InvalidAmount):
    code = "AMOUNT_NOT_POSITIVE"


class AmountTooLarge(InvalidAmount):
    code = "AMOUNT_TOO_LARGE"


class UnknownAsset(InvalidCommand):
    code = "UNKNOWN_ASSET"
    template = "unknown asset {asset!r}"


class UnknownClient(InvalidCommand):
    code = "UNKNOWN_CLIENT"
    template = "unknown client {client!r}"


class UnknownIssuer(InvalidCommand):
    code = "UNKNOWN_ISSUER"
    template = "unknown issuer {issuer!r}"


class UnknownVenue(InvalidCommand):
    code = "UNKNOWN_VENUE"
    template = "unknown venue {venue!r}"


class UnknownSettlement(InvalidCommand):
    code = "UNKNOWN_SETTLEMENT"
    template = "unknown settlement {settlement!r}"


class MissingRate(InvalidCommand):
    code = "MISSING_RATE"
    template = (
        "no reference rate for {code} on {day}: record one with set_reference_rate "
        "before valuing {code} against a threshold"
    )


class AlreadyExists(InvalidCommand):
    code = "ALREADY_EXISTS"
    template = "{kind} {key!r} already exists"


class BankNotEstablished(InvalidCommand):
    code = "BANK_NOT_ESTABLISHED"
    template = "the bank is not established yet: run 'ledger init' first"


class IdempotencyConflict(InvalidCommand):
    code = "IDEMPOTENCY_CONFLICT"
    template = (
        "idempotency key {key!r} was already used for a different command "
        "(first digest {first_digest}, this one {digest})"
    )


# Onboarding.


class KycAlreadyVerified(InvalidCommand):
    code = "KYC_ALREADY_VERIFIED"
    template = "invalid command: client {client!r} is already KYC-verified"


class KycAlreadyExpired(InvalidCommand):
    code = "KYC_ALREADY_EXPIRED"
    template = "invalid command: a verification of {client!r} expiring on {expires_on} has expired already"


class KycNotRevocable(InvalidCommand):
    code = "KYC_NOT_REVOCABLE"
    template = "invalid command: client {client!r} has KYC status {kyc}: only a verification is revoked"


class ClientAlreadyFrozen(InvalidCommand):
    code = "CLIENT_ALREADY_FROZEN"
    template = "invalid command: client {client!r} is frozen already ({reason})"


class ClientNotFrozen(InvalidCommand):
    code = "CLIENT_NOT_FROZEN"
    template = "invalid command: client {client!r} is not frozen"


# Issuance.


class LicenceNotRevocable(InvalidCommand):
    code = "LICENCE_NOT_REVOCABLE"
    template = "invalid command: issuer {issuer!r} holds no licence to revoke ({status})"


# Corrections.


class UnknownTransaction(InvalidCommand):
    code = "UNKNOWN_TRANSACTION"
    template = "unknown transaction {original!r}: no command was recorded under that key"


class NotAToken(InvalidCommand):
    code = "NOT_A_TOKEN"
    template = "invalid command: {asset} is {kind}, not a token"


# Funding and trading.


class TokenOutsideIssuance(InvalidCommand):
    code = "TOKEN_OUTSIDE_ISSUANCE"
    template = (
        "invalid command: {asset} is a token: tokens enter the ledger only by issuance and leave it only by redemption"
    )


class SameClientOnBothSides(InvalidCommand):
    code = "SAME_CLIENT_ON_BOTH_SIDES"
    template = "invalid command: {sides} are both {client!r}"


class TradeWithoutClient(InvalidCommand):
    code = "TRADE_WITHOUT_CLIENT"
    template = "invalid command: a trade needs a client on at least one side"


class SameAssetOnBothSides(InvalidCommand):
    code = "SAME_ASSET_ON_BOTH_SIDES"
    template = "invalid command: base and quote are both {asset}"


class VenueAlreadyDelisted(InvalidCommand):
    code = "VENUE_ALREADY_DELISTED"
    template = "invalid command: venue {venue!r} is delisted already"


# Settlements.


class SettlementNotOutstanding(InvalidCommand):
    code = "SETTLEMENT_NOT_OUTSTANDING"
    template = "invalid command: settlement {settlement!r} is {status} already"


class ReturnExceedsOutstanding(InvalidCommand):
    code = "RETURN_EXCEEDS_OUTSTANDING"
    template = "invalid command: settlement {settlement!r} has {outstanding} {asset} outstanding, {returned} returned"


class DeliveryClosesImportsOnly(InvalidCommand):
    code = "DELIVERY_CLOSES_IMPORTS_ONLY"
    template = "invalid command: settlement {settlement!r} is an export: only imports close by delivery"


class SettlementNotExtendable(InvalidCommand):
    code = "SETTLEMENT_NOT_EXTENDABLE"
    template = "invalid command: settlement {settlement!r} is {status}: only an open or overdue one is extended"


class DeadlineNotLater(InvalidCommand):
    code = "DEADLINE_NOT_LATER"
    template = "invalid command: the new deadline {new_deadline} is not after {deadline}"


class ClockMovesForwardOnly(InvalidCommand):
    code = "CLOCK_MOVES_FORWARD_ONLY"
    template = "invalid command: the sandbox clock moves forward only: it has read {furthest}, {target} is earlier"


# Compliance.


class BynRateFixed(InvalidCommand):
    code = "BYN_RATE_FIXED"
    template = "invalid command: BYN is the unit of the rate table: its rate is always 1"


class InvalidRate(InvalidCommand):
    """A reference rate that is not a positive plain decimal; `reason` says which."""

    code = "INVALID_RATE"


class InvalidSetting(InvalidCommand):
    code = "INVALID_SETTING"
    template = "invalid command: {name} {text!r} is not a plain decimal like '1000'"


class AddressNotBlacklisted(InvalidCommand):
    code = "ADDRESS_NOT_BLACKLISTED"
    template = "invalid command: wallet address {address!r} is not on the blacklist: nothing to remove"


class RemovalNotAfterListing(InvalidCommand):
    code = "REMOVAL_NOT_AFTER_LISTING"
    template = (
        "invalid command: wallet address {address!r} was blacklisted on {listed_on}: "
        "its removal must be dated after that, not {removed_on}"
    )


class JurisdictionNotBlocked(InvalidCommand):
    code = "JURISDICTION_NOT_BLOCKED"
    template = "invalid command: settlements to {country} are not blocked: nothing to unblock"


# Time.


class UnknownTimeZone(InvalidCommand):
    code = "UNKNOWN_TIME_ZONE"
    template = "invalid command: {name!r} is not an IANA time zone name like 'Europe/Minsk'"


class BackdatedBeyondWindow(InvalidCommand):
    """A command dated earlier than the ledger's current time (the latest
    ledger time it has recorded) minus the back-dating window."""

    code = "BACKDATED_BEYOND_WINDOW"
    template = (
        "invalid command: dated {ledger_time}, earlier than the ledger's current time {current} "
        "minus the back-dating window of {window} (the earliest accepted is {earliest})"
    )


class ChangedBeforeLastChange(InvalidCommand):
    """A change of a dated fact (a venue's listing, the trading policy, an
    address's blacklisting, a jurisdiction's blocking) dated before the fact's
    latest change: it would reorder a history decisions were taken under."""

    code = "CHANGED_BEFORE_LAST_CHANGE"
    template = (
        "invalid command: {fact} last changed with effect from {last}; "
        "a change with effect from {effective} would come before it"
    )


# The write path.


class BatchTooLarge(InvalidCommand):
    code = "BATCH_TOO_LARGE"
    template = "invalid command: a batch holds at most {limit} commands, {given} given"


class OutOfRange(InvalidCommand):
    """A time or amount out of any range (year 9999 + 1); `reason` is the library's."""

    code = "OUT_OF_RANGE"
    template = "invalid command: out of range: {reason}"


class RuleViolation(LedgerError):
    """A refused command that is recorded; `rule` is its stable rule code."""

    rule: ClassVar[str] = "RULE"
    code = "RULE"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = cls.rule  # a rule's code is its rule code, as it always was


class IssuerNotLicensed(RuleViolation):
    rule = "ISSUER_NOT_LICENSED"
    template = "issuer {issuer!r} holds no HTP licence to mint or burn tokens"


class NotIssuersToken(RuleViolation):
    rule = "NOT_ISSUERS_TOKEN"
    template = "issuer {issuer!r} did not issue {asset}; its issuer is {token_issuer!r}"


class SupplyCapExceeded(RuleViolation):
    rule = "SUPPLY_CAP_EXCEEDED"
    template = "issuing {requested} {asset} would exceed the supply cap of {cap} (outstanding {outstanding})"


class KycNotVerified(RuleViolation):
    rule = "KYC_NOT_VERIFIED"
    template = "client {client!r} has KYC status {kyc}; value moves only after verification"


class KycRevoked(RuleViolation):
    rule = "KYC_REVOKED"
    template = "client {client!r} had its KYC verification revoked: value moves only after it is verified again"


class KycExpired(RuleViolation):
    rule = "KYC_EXPIRED"
    template = "client {client!r}'s KYC verification expired on {expired_on}; value moves only after verification"


class FrozenClient(RuleViolation):
    rule = "CLIENT_FROZEN"
    template = "client {client!r} is frozen ({reason}): none of its value moves until it is unfrozen"


class OffboardedClient(RuleViolation):
    rule = "CLIENT_OFFBOARDED"
    template = "client {client!r} was offboarded: nothing of its happens any more"


class BalanceNotZero(RuleViolation):
    rule = "BALANCE_NOT_ZERO"
    template = "client {client!r} is offboarded only at zero balances; it still holds {balances}"


class LicenceRevoked(RuleViolation):
    rule = "ISSUER_LICENCE_REVOKED"
    template = "issuer {issuer!r} had its licence revoked: it issues no more {asset} (redemption is still allowed)"


class AlreadyReversed(RuleViolation):
    rule = "ALREADY_REVERSED"
    template = "transaction {original!r} was reversed already, by {reversal!r}"


class NotReversible(RuleViolation):
    rule = "NOT_REVERSIBLE"
    template = "transaction {original!r} ({original_type}) is not reversed by postings: {why}"


class InsufficientFunds(RuleViolation):
    rule = "INSUFFICIENT_FUNDS"
    template = "account {account} holds {available} {asset}, {requested} requested"


class TokenOutsideLedger(RuleViolation):
    """A token would enter or leave the ledger by a trade with a venue's
    outside counterparty: tokens enter only by issuance, leave only by
    redemption, so that supply always equals what clients and the bank hold."""

    rule = "TOKEN_OUTSIDE_LEDGER"
    template = (
        "{asset} is a token on the ledger's register: venue {venue!r}'s outside counterparty would {side} "
        "{amount} {asset}, but tokens enter the ledger only by issuance and leave it only by redemption "
        "(trade them between clients or with the bank)"
    )


class VenueNotListed(RuleViolation):
    rule = "VENUE_NOT_LISTED"
    template = "venue {venue!r} is not listed: the bank routes no trades to it"


class ForeignVenueForbidden(RuleViolation):
    rule = "FOREIGN_VENUE_FORBIDDEN"
    template = (
        "client {client!r} ({residency} {kind}) may trade only on listed domestic HTP venues "
        "or with the bank; {venue!r} is a foreign exchange"
    )


class AssetNotListedOnVenue(RuleViolation):
    rule = "ASSET_NOT_LISTED_ON_VENUE"
    template = "venue {venue!r} does not list {asset}"


class ClientVolumeCapExceeded(RuleViolation):
    rule = "CLIENT_VOLUME_CAP_EXCEEDED"
    template = (
        "client {client!r} would trade {requested} {asset} on {day}, over its daily cap of {cap} (already {used})"
    )


class BankVolumeCapExceeded(RuleViolation):
    rule = "BANK_VOLUME_CAP_EXCEEDED"
    template = "the bank would trade {requested} {asset} on {day}, over its daily cap of {cap} (already {used})"


class BlacklistedAddress(RuleViolation):
    rule = "BLACKLISTED_ADDRESS"
    template = "wallet address {address!r} is blacklisted: refused from {effective}"


class TravelRuleIncomplete(RuleViolation):
    rule = "TRAVEL_RULE_INCOMPLETE"
    template = (
        "a transfer worth {value_usd} USD (threshold {threshold_usd}) needs complete travel-rule data; "
        "missing: {missing}"
    )


class SelfHostedWalletUnverified(RuleViolation):
    """A crypto transfer to a self-hosted wallet (no VASP beneficiary) above
    the threshold, without a recorded proof that the client controls it
    (EU TFR Art. 14(5)): `verify_wallet_ownership` records one."""

    rule = "SELF_HOSTED_WALLET_UNVERIFIED"
    template = (
        "a transfer worth {value_eur} EUR (threshold {threshold_eur}) to the self-hosted wallet {wallet} "
        "needs a recorded proof that client {client!r} controls it (verify_wallet_ownership)"
    )


class BlockedJurisdiction(RuleViolation):
    rule = "BLOCKED_JURISDICTION"
    template = "settlements to {country} are blocked ({reason})"


class SettlementNotPermitted(RuleViolation):
    rule = "SETTLEMENT_NOT_PERMITTED"
    template = "client {client!r} is {kind}: the bank settles abroad only for {permitted}"


class BatchRejected(LedgerError):
    """A batch wrote nothing because the command at `position` was invalid;
    its `code` is that command's error's."""

    code = "BATCH_REJECTED"
    template = "command {position} ({key!r}) refused, nothing written: {error}"

    @property
    def position(self) -> int:
        position = self.context["position"]
        assert isinstance(position, int)
        return position

    @property
    def key(self) -> str:
        return str(self.context["key"])

    @property
    def cause(self) -> LedgerError:
        error = self.context["error"]
        assert isinstance(error, LedgerError)
        return error


RULE_VIOLATIONS: dict[str, type[RuleViolation]] = {
    cls.rule: cls
    for cls in (
        IssuerNotLicensed,
        NotIssuersToken,
        SupplyCapExceeded,
        KycNotVerified,
        KycRevoked,
        KycExpired,
        FrozenClient,
        OffboardedClient,
        BalanceNotZero,
        LicenceRevoked,
        AlreadyReversed,
        NotReversible,
        InsufficientFunds,
        TokenOutsideLedger,
        VenueNotListed,
        ForeignVenueForbidden,
        AssetNotListedOnVenue,
        ClientVolumeCapExceeded,
        BankVolumeCapExceeded,
        BlacklistedAddress,
        TravelRuleIncomplete,
        SelfHostedWalletUnverified,
        BlockedJurisdiction,
        SettlementNotPermitted,
    )
}


def error_kinds() -> list[type[LedgerError]]:
    """Every kind of expected rejection, each with its own code."""
    kinds: list[type[LedgerError]] = []
    pending: list[type[LedgerError]] = [LedgerError]
    while pending:
        kind = pending.pop()
        kinds.append(kind)
        pending.extend(kind.__subclasses__())
    return kinds
