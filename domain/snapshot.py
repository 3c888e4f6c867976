"""The decision state as a value: what a snapshot records, and nothing else.

A `StateSnapshot` holds every field of `LedgerState` in plain, validated
form, so that a writer can open from it and replay only the tail of the log.
`FORMAT` names this shape: a snapshot of another format is not read, it is
rebuilt. Rates are exact fractions, written `numerator/denominator`.
"""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from domain.crossborder import ComplianceSettings, Settlement
from domain.money import Asset
from domain.parties import Bank, Client, Issuer, TradingPolicy, Venue

FORMAT = 2  # 2: dated facts as histories, the ledger's current time and back-dating window; addresses
#    keyed canonically, AML windows, verified self-hosted wallets


class StateSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = FORMAT
    position: int
    counters: dict[str, int]
    bank: Bank | None
    issuers: dict[str, Issuer]
    clients: dict[str, Client]
    assets: dict[str, Asset]
    balances: list[tuple[str, str, int]]
    versions: dict[UUID, int]
    venues: dict[str, Venue]
    venue_history: dict[str, list[tuple[datetime, Venue]]]
    policy_history: list[tuple[datetime, TradingPolicy]]
    settings: ComplianceSettings | None
    volume_caps: list[tuple[str, str, int]]
    volumes: list[tuple[str, str, str, int]]
    blacklist: dict[str, list[tuple[date, bool]]]
    settlements: dict[str, Settlement]
    rates: dict[str, list[tuple[date, str]]]
    blocked_countries: dict[str, list[tuple[datetime, str | None]]]
    reversals: dict[str, str] = {}  # new since format 1, as the clock: absent there means none
    sandbox_clock: datetime | None = None  # new since format 1 was made: absent there means none was set
    clock_high_water: datetime | None = None
    current_time: datetime | None = None
    backdating_window_days: int | None = None
    # Each client's AML window (domain.aml): (ledger time, command key, value in 10^-30 BYN as text).
    aml_windows: dict[str, list[tuple[datetime, str, str]]] = {}
    verified_wallets: list[tuple[str, str, str]] = []  # (client, wallet, method)


def rate_text(rate: Fraction) -> str:
    return f"{rate.numerator}/{rate.denominator}"


def rate_of(text: str) -> Fraction:
    numerator, denominator = text.split("/")
    return Fraction(int(numerator), int(denominator))
