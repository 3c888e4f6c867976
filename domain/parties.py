"""The parties of the simulated world: the crypto bank, token issuers and clients."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Party ids are chosen by the bank's systems (a CRM id, a register number):
# short, printable and stable, because they name accounts in the audit trail.
PARTY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
NAME_LENGTH_MAX = 200

PartyId = Annotated[str, Field(pattern=PARTY_ID_PATTERN)]
PartyName = Annotated[str, Field(min_length=1, max_length=NAME_LENGTH_MAX)]


class Residency(StrEnum):
    RESIDENT = "resident"
    NON_RESIDENT = "non_resident"


class ClientKind(StrEnum):
    INDIVIDUAL = "individual"
    SELF_EMPLOYED = "self_employed"
    COMPANY = "company"


class KycStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REVOKED = "revoked"


class Bank(BaseModel):
    """The crypto bank: a joint-stock company, HTP resident, entered in the
    NBRB register of crypto banks under `nbrb_register_entry`."""

    model_config = ConfigDict(frozen=True)

    name: PartyName
    htp_resident: bool
    nbrb_register_entry: Annotated[str, Field(min_length=1, max_length=64)]
    time_zone: str = "UTC"  # the IANA zone of its ledger days (UTC where its history records none)


class Issuer(BaseModel):
    """A token issuer; only `licensed` (HTP-resident) issuers mint or burn.
    A licence once held and then revoked (`licence_revoked`) still lets the
    issuer redeem what it issued, never issue more."""

    model_config = ConfigDict(frozen=True)

    issuer_id: PartyId
    name: PartyName
    licensed: bool
    licence_revoked: bool = False

    @property
    def may_issue(self) -> bool:
        return self.licensed and not self.licence_revoked


class Client(BaseModel):
    """A client and where it is in its lifecycle: `kyc_expires_on` is the
    first ledger day its verification no longer holds (empty: no expiry);
    `frozen_reason` is set while it is frozen; `offboarded` once it has left."""

    model_config = ConfigDict(frozen=True)

    client_id: PartyId
    name: PartyName
    residency: Residency
    kind: ClientKind
    kyc: KycStatus = KycStatus.PENDING
    kyc_expires_on: date | None = None
    frozen_reason: str | None = None
    offboarded: bool = False

    @property
    def frozen(self) -> bool:
        return self.frozen_reason is not None

    def kyc_expired(self, day: date) -> bool:
        """Whether its verification has expired by ledger day `day`."""
        return self.kyc_expires_on is not None and day >= self.kyc_expires_on


class VenueKind(StrEnum):
    """Domestic venues are HTP residents (a platform or an exchange operator);
    a foreign exchange is anything else."""

    HTP_PLATFORM = "htp_platform"
    HTP_EXCHANGE_OPERATOR = "htp_exchange_operator"
    FOREIGN_EXCHANGE = "foreign_exchange"


class Venue(BaseModel):
    """A trading venue; `assets` are the codes it lists, `listed` whether the
    bank may route trades to it at all."""

    model_config = ConfigDict(frozen=True)

    venue_id: PartyId
    name: PartyName
    kind: VenueKind
    listed: bool
    # Sorted, never a set: a set's order varies between runs, and events must
    # serialise to the same bytes every time.
    assets: Annotated[tuple[str, ...], AfterValidator(lambda codes: tuple(sorted(set(codes))))]

    @property
    def domestic(self) -> bool:
        return self.kind != VenueKind.FOREIGN_EXCHANGE


class TradingPolicy(BaseModel):
    """Who may trade on foreign venues. Resident individuals and self-employed
    clients never may (Decree No. 367); the rest is the bank's configuration."""

    model_config = ConfigDict(frozen=True)

    non_residents_on_foreign_venues: bool = True
    resident_companies_on_foreign_venues: bool = False

    def allows_foreign_venue(self, client: Client) -> bool:
        if client.residency == Residency.NON_RESIDENT:
            return self.non_residents_on_foreign_venues
        if client.kind == ClientKind.COMPANY:
            return self.resident_companies_on_foreign_venues
        return False
