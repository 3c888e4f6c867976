"""Expected rejections of ledger commands, with keyword-only context.

The tree::

    LedgerError                      anything the ledger refuses on purpose
    ├── InvalidCommand               malformed or inconsistent input: nothing is written
    │   ├── InvalidAmount            zero, negative, NaN, too many decimals, too large
    │   ├── UnknownAsset
    │   ├── UnknownClient
    │   ├── UnknownIssuer
    │   ├── UnknownVenue
    │   ├── UnknownSettlement
    │   ├── MissingRate              no reference rate to value an amount with
    │   ├── AlreadyExists            a party or asset registered twice
    │   ├── BankNotEstablished       a command that needs the bank before it exists
    │   └── IdempotencyConflict      a key reused with a different payload
    ├── RuleViolation                a business rule a supervisor should see: the
    │   │                            rejection is recorded as an event with a rule code
    │   ├── IssuerNotLicensed
    │   ├── SupplyCapExceeded
    │   ├── KycNotVerified
    │   ├── InsufficientFunds
    │   ├── NotIssuersToken
    │   ├── VenueNotListed
    │   ├── ForeignVenueForbidden    the domestic-only rule (Decree No. 367)
    │   ├── AssetNotListedOnVenue
    │   ├── ClientVolumeCapExceeded
    │   ├── BankVolumeCapExceeded    the NBRB's cap on the bank's operations
    │   ├── BlacklistedAddress
    │   ├── TravelRuleIncomplete     originator or beneficiary data missing
    │   ├── BlockedJurisdiction
    │   └── SettlementNotPermitted   a kind of client the bank does not settle abroad for
    └── BatchRejected                a batch that wrote nothing, naming the position
                                     of the command that was refused and why

`InvalidCommand` means the batch is refused whole and the store is untouched.
`RuleViolation` means the command's outcome is a recorded rejection: the batch
commits, with a rejection event in place of the command's effects.
"""

from __future__ import annotations

from typing import ClassVar


class LedgerError(Exception):
    """Base of every expected rejection; `context` holds the keyword details."""

    template: ClassVar[str] = "ledger error"

    def __init__(self, **context: object) -> None:
        self.context = context
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template.format(**self.context)


class InvalidCommand(LedgerError):
    template = "invalid command: {reason}"


class InvalidAmount(InvalidCommand):
    template = "invalid amount {amount!r} for {asset}: {reason}"


class UnknownAsset(InvalidCommand):
    template = "unknown asset {asset!r}"


class UnknownClient(InvalidCommand):
    template = "unknown client {client!r}"


class UnknownIssuer(InvalidCommand):
    template = "unknown issuer {issuer!r}"


class UnknownVenue(InvalidCommand):
    template = "unknown venue {venue!r}"


class UnknownSettlement(InvalidCommand):
    template = "unknown settlement {settlement!r}"


class MissingRate(InvalidCommand):
    template = (
        "no reference rate for {code} on {day}: record one with set_reference_rate "
        "before valuing {code} against a threshold"
    )


class AlreadyExists(InvalidCommand):
    template = "{kind} {key!r} already exists"


class BankNotEstablished(InvalidCommand):
    template = "the bank is not established yet: run 'ledger init' first"


class IdempotencyConflict(InvalidCommand):
    template = (
        "idempotency key {key!r} was already used for a different command "
        "(first digest {first_digest}, this one {digest})"
    )


class RuleViolation(LedgerError):
    """A refused command that is recorded; `rule` is its stable rule code."""

    rule: ClassVar[str] = "RULE"


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


class InsufficientFunds(RuleViolation):
    rule = "INSUFFICIENT_FUNDS"
    template = "account {account} holds {available} {asset}, {requested} requested"


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


class BlockedJurisdiction(RuleViolation):
    rule = "BLOCKED_JURISDICTION"
    template = "settlements to {country} are blocked ({reason})"


class SettlementNotPermitted(RuleViolation):
    rule = "SETTLEMENT_NOT_PERMITTED"
    template = "client {client!r} is {kind}: the bank settles abroad only for {permitted}"


class BatchRejected(LedgerError):
    """A batch wrote nothing because the command at `position` was invalid."""

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
        InsufficientFunds,
        VenueNotListed,
        ForeignVenueForbidden,
        AssetNotListedOnVenue,
        ClientVolumeCapExceeded,
        BankVolumeCapExceeded,
        BlacklistedAddress,
        TravelRuleIncomplete,
        BlockedJurisdiction,
        SettlementNotPermitted,
    )
}
