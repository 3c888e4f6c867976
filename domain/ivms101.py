"""Travel-rule data of a crypto transfer in the IVMS101 data model (interVASP Messaging Standard 101).

The shape follows IVMS101's elements, in snake case: an `IdentityPayload`
holds the `originator` and the `beneficiary`, each a list of persons (a
`natural_person` or a `legal_person`, exactly one) and their
`account_number`s (an account at the bank, or the wallet address), and the
`beneficiary_vasp` that hosts the beneficiary's wallet (empty for a
self-hosted wallet). A natural person's name is a `primary_identifier`
(the surname, or the one name) and a `secondary_identifier` (the given
names); a legal person's is its `legal_person_name`.

The model is strict about what is given (types, lengths, codes; no unknown
field, no person who is both or neither); what a transfer at or above the
travel-rule threshold must carry is `missing()`'s to say, so that a gap is
a recorded rejection naming the fields (EU TFR Art. 14: the originator's
name, account and one of address, national identifier, customer id or date
and place of birth; the beneficiary's name and account).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

from domain.crossborder import Country

PERSONS_MAX = 4
ACCOUNTS_MAX = 4
ADDRESSES_MAX = 3

Text35 = Annotated[StrictStr, Field(min_length=1, max_length=35)]
Text70 = Annotated[StrictStr, Field(min_length=1, max_length=70)]
Text100 = Annotated[StrictStr, Field(min_length=1, max_length=100)]
AccountNumber = Annotated[StrictStr, Field(min_length=1, max_length=100)]
NameType = Literal["ALIA", "BIRT", "MAID", "LEGL", "MISC"]
LegalNameType = Literal["LEGL", "SHRT", "TRAD"]
AddressType = Literal["HOME", "BIZZ", "GEOG"]
NationalIdentifierType = Literal["ARNU", "CCPT", "RAID", "DRLC", "FIIN", "TXID", "SOCS", "IDCD", "LEIX", "MISC"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class NaturalPersonName(_Strict):
    primary_identifier: Text100 | None = None
    secondary_identifier: Text100 | None = None
    name_identifier_type: NameType = "LEGL"


class LegalPersonName(_Strict):
    legal_person_name: Text100 | None = None
    legal_person_name_identifier_type: LegalNameType = "LEGL"


class GeographicAddress(_Strict):
    """Complete with a town and a country (IVMS101's mandatory elements)."""

    address_type: AddressType = "GEOG"
    street_name: Text70 | None = None
    building_number: Annotated[StrictStr, Field(min_length=1, max_length=16)] | None = None
    post_code: Annotated[StrictStr, Field(min_length=1, max_length=16)] | None = None
    town_name: Text35 | None = None
    country_sub_division: Text35 | None = None
    country: Country | None = None

    @property
    def complete(self) -> bool:
        return bool(self.town_name and self.country)


class NationalIdentification(_Strict):
    national_identifier: Text35
    national_identifier_type: NationalIdentifierType
    country_of_issue: Country | None = None


class DateAndPlaceOfBirth(_Strict):
    date_of_birth: Annotated[date, Field(strict=False)]  # JSON gives a date as text
    place_of_birth: Text70


class NaturalPerson(_Strict):
    name: NaturalPersonName | None = None
    geographic_address: Annotated[list[GeographicAddress], Field(max_length=ADDRESSES_MAX)] = []
    national_identification: NationalIdentification | None = None
    customer_identification: Text35 | None = None
    date_and_place_of_birth: DateAndPlaceOfBirth | None = None
    country_of_residence: Country | None = None


class LegalPerson(_Strict):
    name: LegalPersonName | None = None
    geographic_address: Annotated[list[GeographicAddress], Field(max_length=ADDRESSES_MAX)] = []
    customer_number: Text35 | None = None
    national_identification: NationalIdentification | None = None
    country_of_registration: Country | None = None


class Person(_Strict):
    """Exactly one of a natural and a legal person."""

    natural_person: NaturalPerson | None = None
    legal_person: LegalPerson | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Person:
        if (self.natural_person is None) == (self.legal_person is None):
            raise ValueError("a person is exactly one of natural_person and legal_person")
        return self

    @property
    def named(self) -> bool:
        if self.natural_person is not None:
            name = self.natural_person.name
            return name is not None and name.primary_identifier is not None
        assert self.legal_person is not None
        return self.legal_person.name is not None and self.legal_person.name.legal_person_name is not None

    @property
    def identified(self) -> bool:
        """A complete geographic address, a national identifier, a customer
        id, or (a natural person) a date and place of birth."""
        person = self.natural_person or self.legal_person
        assert person is not None
        if any(address.complete for address in person.geographic_address) or person.national_identification:
            return True
        if isinstance(person, NaturalPerson):
            return bool(person.customer_identification or person.date_and_place_of_birth)
        return bool(person.customer_number)


class Originator(_Strict):
    originator_persons: Annotated[list[Person], Field(min_length=1, max_length=PERSONS_MAX)]
    account_number: Annotated[list[AccountNumber], Field(max_length=ACCOUNTS_MAX)] = []


class Beneficiary(_Strict):
    beneficiary_persons: Annotated[list[Person], Field(min_length=1, max_length=PERSONS_MAX)]
    account_number: Annotated[list[AccountNumber], Field(max_length=ACCOUNTS_MAX)] = []


class BeneficiaryVasp(_Strict):
    """The virtual-asset service provider that hosts the beneficiary's wallet."""

    beneficiary_vasp: Person


class IdentityPayload(_Strict):
    """IVMS101's identity payload of one transfer; `beneficiary_vasp` empty
    for a wallet the beneficiary holds itself (self-hosted)."""

    originator: Originator | None = None
    beneficiary: Beneficiary | None = None
    beneficiary_vasp: BeneficiaryVasp | None = None

    def missing(self, wallet_address: str | None) -> list[str]:
        """What the travel rule still needs, as IVMS101 paths; the
        beneficiary's account numbers must name `wallet_address`."""
        gaps: list[str] = []
        if self.originator is None:
            gaps.append("originator")
        else:
            persons = self.originator.originator_persons
            if not all(person.named for person in persons):
                gaps.append("originator.name")
            if not self.originator.account_number:
                gaps.append("originator.account_number")
            if not all(person.identified for person in persons):
                gaps.append(
                    "originator.geographic_address, national_identification, customer_identification "
                    "or date_and_place_of_birth"
                )
        if self.beneficiary is None:
            gaps.append("beneficiary")
        else:
            if not all(person.named for person in self.beneficiary.beneficiary_persons):
                gaps.append("beneficiary.name")
            if wallet_address is None or wallet_address not in self.beneficiary.account_number:
                gaps.append(f"beneficiary.account_number (the wallet {wallet_address or 'of the withdrawal'})")
        return gaps


def missing(payload: IdentityPayload | None, wallet_address: str | None) -> list[str]:
    return ["ivms101 (originator and beneficiary)"] if payload is None else payload.missing(wallet_address)
