"""The ledger's decision state, evolved from events, with undo for whole batches.

`LedgerState` is a projection of the log kept in memory by the write path: the
parties, the assets, every balance and every stream's version. `evolve` applies
one event; it re-runs on every replay, so it only applies state and re-asserts
the invariants. Between `begin()` and `commit()` every change is journalled, so
a batch that fails part-way, or whose database transaction fails, is undone
exactly by `rollback()`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from fractions import Fraction
from functools import partial
from typing import Any, Protocol
from uuid import UUID

from domain.accounts import SystemAccount, client_account, is_client_account, is_holding_account
from domain.addresses import canonical_address
from domain.aml import AmlOperation, AmlWindow, value_units
from domain.calendar import ledger_day, zone_named
from domain.crossborder import (
    BACKDATING_WINDOW_DAYS_DEFAULT,
    ComplianceSettings,
    Settlement,
    SettlementMove,
    parse_rate,
    settlement_status,
)
from domain.events import (
    AddressBlacklisted,
    AddressRemovedFromBlacklist,
    AmlNotificationRecorded,
    AssetRegistered,
    BackdatingWindowSet,
    BankEstablished,
    ClientFrozen,
    ClientKycRevoked,
    ClientKycVerified,
    ClientOffboarded,
    ClientOnboarded,
    ClientUnfrozen,
    CommandRejected,
    ComplianceSettingsSet,
    FundsDeposited,
    FundsReturned,
    FundsTransferred,
    FundsWithdrawn,
    IssuerLicenceRevoked,
    IssuerRegistered,
    JurisdictionBlocked,
    JurisdictionUnblocked,
    LedgerEvent,
    LedgerTransaction,
    ReferenceRateSet,
    SandboxClockSet,
    SettlementClosedByDelivery,
    SettlementDeadlineExtended,
    SettlementInitiated,
    SettlementOverdue,
    TokenRegistered,
    TradeExecuted,
    TradingPolicySet,
    TransactionReversed,
    VenueDelisted,
    VenueListed,
    VolumeCapSet,
    WalletOwnershipVerified,
)
from domain.money import Asset
from domain.parties import Bank, Client, Issuer, KycStatus, TradingPolicy, Venue
from domain.snapshot import StateSnapshot, rate_of, rate_text

_MISSING = object()
BalanceKey = tuple[str, str]  # (account, asset code)
BANK_SCOPE = ""  # the volume-cap scope of the bank as a whole
VolumeKey = tuple[str, str, str]  # (client id or BANK_SCOPE, asset code, ISO day)
DEFAULT_POLICY = TradingPolicy()
DEFAULT_SETTINGS = ComplianceSettings()
BYN_RATE = Fraction(1)
# Makes an AmlOperation of a tuple without a Python frame: one per operation on the write path.
_aml_operation = partial(tuple.__new__, AmlOperation)

# A dated fact's history: (effective from, value) in effective order. An
# equal effective time keeps the order recorded (the later one wins).
History = tuple[tuple[Any, Any], ...]


def as_of(history: Sequence[tuple[Any, Any]], moment: Any) -> Any:
    """The value in force at `moment` (None before the first): a bisection,
    not a scan, on the write path."""
    index = bisect_right(history, moment, key=_effective)
    return history[index - 1][1] if index else None


def with_entry(history: History, effective: Any, value: Any) -> History:
    """`history` with a value in force from `effective` on, after any recorded for the same time."""
    index = bisect_right(history, effective, key=_effective)
    return (*history[:index], (effective, value), *history[index:])


def last_change(history: Sequence[tuple[Any, Any]]) -> Any:
    """When the latest change of a history took effect (None for none)."""
    return history[-1][0] if history else None


def _effective(entry: tuple[Any, Any]) -> Any:
    return entry[0]


class CommandHistory(Protocol):
    """A port onto the log: what a command recorded, looked up by its key
    (a reversal reads its original through it). The decision state keeps no
    transactions (a million would be a million records); the write path gives
    it a history that reads the store."""

    def events_of(self, command_key: str) -> Sequence[LedgerEvent] | None:
        """The events the command of `command_key` recorded; None if no command had that key."""
        ...


class NoHistory:
    """A history that knows no command: every key is unknown."""

    def events_of(self, _command_key: str) -> Sequence[LedgerEvent] | None:
        return None


NO_HISTORY = NoHistory()


class RememberedHistory:
    """A history in memory, of the events given to `remember` (for tests and
    simulations that decide without a store)."""

    def __init__(self) -> None:
        self._events: dict[str, list[LedgerEvent]] = {}

    def remember(self, events: Iterable[LedgerEvent]) -> None:
        for event in events:
            self._events.setdefault(event.command_key, []).append(event)

    def events_of(self, command_key: str) -> Sequence[LedgerEvent] | None:
        return self._events.get(command_key)


class LedgerState:
    def __init__(self) -> None:
        self.history: CommandHistory = NO_HISTORY
        self.counters: dict[str, int] = {}
        self._bank: dict[str, Bank] = {}
        self.issuers: dict[str, Issuer] = {}
        self.clients: dict[str, Client] = {}
        self.assets: dict[str, Asset] = {}
        self.balances: dict[BalanceKey, int] = {}
        self.versions: dict[UUID, int] = {}  # of the streams that hold more than one event
        self.venues: dict[str, Venue] = {}  # as the latest listing or delisting left each
        self.venue_history: dict[str, History] = {}  # (ledger time, Venue)
        self._trading: dict[str, History] = {}  # "policy": (ledger time, TradingPolicy)
        self._compliance: dict[str, ComplianceSettings] = {}
        self.volume_caps: dict[tuple[str, str], int] = {}
        self.volumes: dict[VolumeKey, int] = {}
        self.blacklist: dict[str, History] = {}  # (ledger day, whether refused from it)
        self.settlements: dict[str, Settlement] = {}
        self.rates: dict[str, tuple[tuple[date, Fraction], ...]] = {}
        self.blocked_countries: dict[str, History] = {}  # (ledger time, reason; empty: unblocked)
        self.reversals: dict[str, str] = {}  # original key -> the key of its reversal
        self.aml_windows: dict[str, AmlWindow] = {}
        self.verified_wallets: dict[tuple[str, str], str] = {}  # (client, wallet) -> the proof's method
        # What undoes each change to an AML window in the open batch (its
        # deque changes in place: copying it per batch would cost its length).
        self._undo: list[Callable[[], None]] = []
        self._clock: dict[str, datetime | None] = {}
        self._backdating: dict[str, int] = {}
        self._journal: list[tuple[MutableMapping[Any, Any], Any, Any]] | None = None
        self._handlers: dict[type[LedgerEvent], Callable[[Any], None]] = {
            BankEstablished: self._bank_established,
            IssuerRegistered: self._issuer_registered,
            ClientOnboarded: self._client_onboarded,
            ClientKycVerified: self._client_kyc_verified,
            ClientKycRevoked: self._client_kyc_revoked,
            ClientFrozen: self._client_frozen,
            ClientUnfrozen: self._client_unfrozen,
            ClientOffboarded: self._client_offboarded,
            IssuerLicenceRevoked: self._issuer_licence_revoked,
            TransactionReversed: self._transaction_reversed,
            AssetRegistered: self._asset_registered,
            TokenRegistered: self._asset_registered,
            CommandRejected: self._command_rejected,
            TradeExecuted: self._trade_executed,
            VenueListed: self._venue_listed,
            VenueDelisted: self._venue_delisted,
            TradingPolicySet: self._trading_policy_set,
            VolumeCapSet: self._volume_cap_set,
            AddressBlacklisted: self._address_blacklisted,
            AddressRemovedFromBlacklist: self._address_removed_from_blacklist,
            SettlementInitiated: self._settlement_initiated,
            FundsReturned: self._funds_returned,
            SettlementClosedByDelivery: self._settlement_closed,
            SettlementDeadlineExtended: self._deadline_extended,
            SettlementOverdue: self._settlement_overdue,
            ReferenceRateSet: self._reference_rate_set,
            ComplianceSettingsSet: self._compliance_settings_set,
            JurisdictionBlocked: self._jurisdiction_blocked,
            JurisdictionUnblocked: self._jurisdiction_unblocked,
            BackdatingWindowSet: self._backdating_window_set,
            SandboxClockSet: self._sandbox_clock_set,
            AmlNotificationRecorded: self._aml_notification_recorded,
            FundsDeposited: self._funds_deposited,
            FundsWithdrawn: self._funds_withdrawn,
            FundsTransferred: self._funds_transferred,
            WalletOwnershipVerified: self._wallet_ownership_verified,
        }

    # Reading.

    @property
    def bank(self) -> Bank | None:
        return self._bank.get("bank")

    @property
    def sandbox_clock(self) -> datetime | None:
        """The time the sandbox's test clock is frozen at, if it is."""
        return self._clock.get("frozen_at")

    @property
    def clock_high_water(self) -> datetime | None:
        """The furthest the test clock has ever read: released, it never runs
        back behind it (a clock frozen in the future holds time there)."""
        return self._clock.get("high_water")

    @property
    def zone(self) -> tzinfo:
        """The bank's time zone: its calendar days are the ledger's days."""
        bank = self.bank
        return zone_named(bank.time_zone) if bank is not None else UTC

    def day(self, moment: datetime) -> date:
        """The ledger day of `moment`."""
        return ledger_day(moment, self.zone)

    @property
    def current_time(self) -> datetime | None:
        """The latest ledger time recorded (None before anything is)."""
        return self._clock.get("latest")

    @property
    def backdating_window(self) -> timedelta:
        return timedelta(days=self._backdating.get("days", BACKDATING_WINDOW_DAYS_DEFAULT))

    @property
    def policy(self) -> TradingPolicy:
        """The trading policy in force last."""
        history = self._trading.get("policy", ())
        return history[-1][1] if history else DEFAULT_POLICY

    @property
    def policy_history(self) -> History:
        return self._trading.get("policy", ())

    def policy_at(self, moment: datetime) -> TradingPolicy:
        policy = as_of(self._trading.get("policy", ()), moment)
        return DEFAULT_POLICY if policy is None else policy

    def venue_at(self, venue_id: str, moment: datetime) -> Venue | None:
        """The venue as listed or delisted at `moment` (None before its first listing)."""
        return as_of(self.venue_history.get(venue_id, ()), moment)  # type: ignore[no-any-return]

    def blacklisted(self, address: str, day: date) -> date | None:
        """The ledger day from which `address` is refused, if it is on `day`.
        Every blacklist look-up goes through here."""
        history = self.blacklist.get(address, ())
        index = bisect_right(history, day, key=_effective)
        if not index or not history[index - 1][1]:
            return None
        effective: date = history[index - 1][0]
        return effective

    def listed_on(self, address: str) -> date | None:
        """The day `address` was put on the blacklist, if it is on it now."""
        history = self.blacklist.get(address, ())
        if not history or not history[-1][1]:
            return None
        effective: date = history[-1][0]
        return effective - timedelta(days=1)

    def blocked(self, country: str, moment: datetime) -> str | None:
        """Why settlements to `country` are blocked at `moment`, if they are."""
        return as_of(self.blocked_countries.get(country, ()), moment)  # type: ignore[no-any-return]

    def blocked_now(self, country: str) -> str | None:
        history = self.blocked_countries.get(country, ())
        return history[-1][1] if history else None

    @property
    def settings(self) -> ComplianceSettings:
        return self._compliance.get("settings", DEFAULT_SETTINGS)

    def rate(self, code: str, day: date) -> Fraction | None:
        """BYN per unit of `code` in force on `day` (BYN itself is 1)."""
        if code == "BYN":
            return BYN_RATE
        return as_of(self.rates.get(code, ()), day)  # type: ignore[no-any-return]

    @property
    def aml_notifications(self) -> int:
        return self.counters.get("aml_notifications", 0)

    def volume(self, scope: str, asset: str, day: str) -> int:
        return self.volumes.get((scope, asset, day), 0)

    @property
    def rejections(self) -> int:
        return self.counters.get("rejections", 0)

    @property
    def position(self) -> int:
        """The notification id of the last event applied."""
        return self.counters.get("position", 0)

    @property
    def in_batch(self) -> bool:
        return self._journal is not None

    def advance_to(self, position: int) -> None:
        assert position > self.position, (position, self.position)
        self._put(self.counters, "position", position)

    def balance(self, account: str, asset: str) -> int:
        return self.balances.get((account, asset), 0)

    def client_balances(self, client_id: str) -> list[BalanceKey]:
        """The (account, asset) keys of a client's balances, zero or not (a scan:
        for rare commands like offboarding, never the hot path)."""
        account = client_account(client_id)
        return [key for key in self.balances if key[0] == account]

    def version(self, stream: UUID) -> int:
        return self.versions.get(stream, 0)

    def supply(self, asset: str) -> int:
        """Outstanding supply of a token: what the issuance account gave out."""
        return -self.balance(SystemAccount.ISSUANCE, asset)

    def holdings(self, asset: str) -> int:
        """What clients and the bank itself (treasury, fees) hold of `asset`:
        a token's supply, always."""
        return sum(
            amount for (account, code), amount in self.balances.items() if code == asset and is_holding_account(account)
        )

    # Snapshots.

    def snapshot(self) -> StateSnapshot:
        """Everything this state knows, as a value (outside a batch only)."""
        assert self._journal is None, "a batch is open"
        return StateSnapshot(
            position=self.position,
            counters=dict(self.counters),
            bank=self.bank,
            issuers=dict(self.issuers),
            clients=dict(self.clients),
            assets=dict(self.assets),
            balances=[(account, asset, amount) for (account, asset), amount in self.balances.items()],
            versions=dict(self.versions),
            venues=dict(self.venues),
            venue_history={venue: list(history) for venue, history in self.venue_history.items()},
            policy_history=list(self._trading.get("policy", ())),
            settings=self._compliance.get("settings"),
            volume_caps=[(scope, asset, cap) for (scope, asset), cap in self.volume_caps.items()],
            volumes=[(*key, amount) for key, amount in self.volumes.items()],
            blacklist={address: list(history) for address, history in self.blacklist.items()},
            settlements=dict(self.settlements),
            rates={code: [(day, rate_text(rate)) for day, rate in rates] for code, rates in self.rates.items()},
            blocked_countries={country: list(history) for country, history in self.blocked_countries.items()},
            reversals=dict(self.reversals),
            sandbox_clock=self.sandbox_clock,
            clock_high_water=self.clock_high_water,
            current_time=self.current_time,
            backdating_window_days=self._backdating.get("days"),
            verified_wallets=[(client, wallet, method) for (client, wallet), method in self.verified_wallets.items()],
            aml_windows={
                client: [(op.ledger_time, op.command_key, str(op.value)) for op in window.operations]
                for client, window in self.aml_windows.items()
                if window.operations
            },
        )

    @classmethod
    def restored(cls, snapshot: StateSnapshot) -> LedgerState:
        """The state a snapshot was taken of."""
        state = cls()
        state.counters = dict(snapshot.counters)
        state._bank = {"bank": snapshot.bank} if snapshot.bank else {}
        state.issuers = dict(snapshot.issuers)
        state.clients = dict(snapshot.clients)
        state.assets = dict(snapshot.assets)
        state.balances = {(account, asset): amount for account, asset, amount in snapshot.balances}
        state.versions = dict(snapshot.versions)
        state.venues = dict(snapshot.venues)
        state.venue_history = {venue: tuple(history) for venue, history in snapshot.venue_history.items()}
        state._trading = {"policy": tuple(snapshot.policy_history)} if snapshot.policy_history else {}
        state._compliance = {"settings": snapshot.settings} if snapshot.settings else {}
        state.volume_caps = {(scope, asset): cap for scope, asset, cap in snapshot.volume_caps}
        state.volumes = {(scope, asset, day): amount for scope, asset, day, amount in snapshot.volumes}
        state.blacklist = {address: tuple(history) for address, history in snapshot.blacklist.items()}
        state.settlements = dict(snapshot.settlements)
        state.rates = {
            code: tuple((day, rate_of(text)) for day, text in rates) for code, rates in snapshot.rates.items()
        }
        state.blocked_countries = {country: tuple(history) for country, history in snapshot.blocked_countries.items()}
        state.reversals = dict(snapshot.reversals)
        state.verified_wallets = {(client, wallet): method for client, wallet, method in snapshot.verified_wallets}
        state.aml_windows = {
            client: AmlWindow(AmlOperation(moment, key, int(value)) for moment, key, value in operations)
            for client, operations in snapshot.aml_windows.items()
        }
        clock = (
            ("frozen_at", snapshot.sandbox_clock),
            ("high_water", snapshot.clock_high_water),
            ("latest", snapshot.current_time),
        )
        state._clock = {name: value for name, value in clock if value is not None}
        if snapshot.backdating_window_days is not None:
            state._backdating = {"days": snapshot.backdating_window_days}
        return state

    # Batches.

    def begin(self) -> None:
        assert self._journal is None, "a batch is already open"
        self._journal = []
        self._undo = []

    def commit(self) -> None:
        assert self._journal is not None
        self._journal = None
        self._undo = []

    def rollback(self) -> None:
        assert self._journal is not None
        for undo in reversed(self._undo):
            undo()  # the windows' changes first: the journal may then remove a window made in the batch
        for mapping, key, old in reversed(self._journal):
            if old is _MISSING:
                del mapping[key]
            else:
                mapping[key] = old
        self._journal = None
        self._undo = []

    # Evolving.

    def evolve_all(self, events: Iterable[LedgerEvent]) -> None:
        for event in events:
            self.evolve(event)

    def evolve(self, event: LedgerEvent) -> None:
        if event.single_event_stream:
            # Not remembered: a million transactions would be a million ids.
            assert event.originator_version == 1, event
        else:
            expected = self.version(event.originator_id) + 1
            assert event.originator_version == expected, (event, expected)
            self._put(self.versions, event.originator_id, event.originator_version)
        self.saw_time(event.ledger_time)
        if isinstance(event, LedgerTransaction):
            self._apply_postings(event)
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        else:
            assert isinstance(event, LedgerTransaction), event

    def evolves_by_postings_alone(self, cls: type[LedgerEvent]) -> bool:
        """Whether an event of `cls` changes nothing here but balances (a
        transaction alone in its stream, with no handler): a reader may then
        decode just its postings and give them to `apply_postings`."""
        return issubclass(cls, LedgerTransaction) and cls.single_event_stream and cls not in self._handlers

    def apply_postings(self, postings: Iterable[tuple[str, str, int]]) -> None:
        """Applies (account, asset, amount) postings of one balanced transaction."""
        for account, asset, amount_minor in postings:
            key = (account, asset)
            balance = self.balances.get(key, 0) + amount_minor
            # Clients only: the treasury's floor is the deciders' (stores written
            # before it held the treasury below zero, and must still replay).
            assert balance >= 0 or not is_client_account(account), (postings, key)
            self._put(self.balances, key, balance)

    def saw_time(self, moment: datetime) -> None:
        """Moves the ledger's current time to `moment` if it is later."""
        latest = self._clock.get("latest")
        if latest is None or moment > latest:
            self._put(self._clock, "latest", moment)

    def _put(self, mapping: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        if self._journal is not None:
            self._journal.append((mapping, key, mapping.get(key, _MISSING)))
        mapping[key] = value

    def _apply_postings(self, event: LedgerTransaction) -> None:
        self.apply_postings([(posting.account, posting.asset, posting.amount_minor) for posting in event.postings])

    def _sandbox_clock_set(self, event: SandboxClockSet) -> None:
        self._put(self._clock, "frozen_at", event.frozen_at)
        if event.frozen_at is not None and (self.clock_high_water is None or event.frozen_at > self.clock_high_water):
            self._put(self._clock, "high_water", event.frozen_at)

    def _bank_established(self, event: BankEstablished) -> None:
        assert self.bank is None
        bank = Bank(
            name=event.name,
            htp_resident=event.htp_resident,
            nbrb_register_entry=event.nbrb_register_entry,
            time_zone=event.time_zone or "UTC",
        )
        self._put(self._bank, "bank", bank)

    def _issuer_registered(self, event: IssuerRegistered) -> None:
        issuer = Issuer(issuer_id=event.issuer_id, name=event.name, licensed=event.licensed)
        self._put(self.issuers, event.issuer_id, issuer)

    def _client_onboarded(self, event: ClientOnboarded) -> None:
        client = Client(
            client_id=event.client_id,
            name=event.name,
            residency=event.residency,
            kind=event.kind,
        )
        self._put(self.clients, event.client_id, client)

    def _client_kyc_verified(self, event: ClientKycVerified) -> None:
        self._update_client(event.client_id, kyc=KycStatus.VERIFIED, kyc_expires_on=event.expires_on)

    def _client_kyc_revoked(self, event: ClientKycRevoked) -> None:
        self._update_client(event.client_id, kyc=KycStatus.REVOKED, kyc_expires_on=None)

    def _client_frozen(self, event: ClientFrozen) -> None:
        self._update_client(event.client_id, frozen_reason=event.reason)

    def _client_unfrozen(self, event: ClientUnfrozen) -> None:
        self._update_client(event.client_id, frozen_reason=None)

    def _client_offboarded(self, event: ClientOffboarded) -> None:
        assert not any(self.balance(account, asset) for account, asset in self.client_balances(event.client_id))
        self._update_client(event.client_id, offboarded=True)

    def _update_client(self, client_id: str, **changes: Any) -> None:
        self._put(self.clients, client_id, self.clients[client_id].model_copy(update=changes))

    def _issuer_licence_revoked(self, event: IssuerLicenceRevoked) -> None:
        issuer = self.issuers[event.issuer_id]
        self._put(self.issuers, event.issuer_id, issuer.model_copy(update={"licence_revoked": True}))

    def _transaction_reversed(self, event: TransactionReversed) -> None:
        assert event.original_key not in self.reversals, event
        self._put(self.reversals, event.original_key, event.command_key)
        if event.volume_asset is None:
            return
        day = self.day(event.original_ledger_time).isoformat()
        for scope in {BANK_SCOPE, *event.volume_client_ids}:
            key = (scope, event.volume_asset, day)
            remaining = self.volumes.get(key, 0) - event.volume_minor
            assert remaining >= 0, (event, key)
            self._put(self.volumes, key, remaining)

    def _asset_registered(self, event: AssetRegistered | TokenRegistered) -> None:
        self._put(self.assets, event.asset.code, event.asset)

    def _command_rejected(self, _: CommandRejected) -> None:
        self._put(self.counters, "rejections", self.rejections + 1)

    def _trade_executed(self, event: TradeExecuted) -> None:
        day = self.day(event.ledger_time).isoformat()
        scopes = {BANK_SCOPE, event.buyer_client_id, event.seller_client_id} - {None}
        for scope in scopes:
            assert scope is not None
            key = (scope, event.quote_asset, day)
            self._put(self.volumes, key, self.volumes.get(key, 0) + event.quote_amount_minor)

    def _venue_listed(self, event: VenueListed) -> None:
        self._venue_dated(event.venue, event.ledger_time)

    def _venue_delisted(self, event: VenueDelisted) -> None:
        venue = self.venues[event.venue_id]
        self._venue_dated(venue.model_copy(update={"listed": False}), event.ledger_time)

    def _venue_dated(self, venue: Venue, moment: datetime) -> None:
        history = with_entry(self.venue_history.get(venue.venue_id, ()), moment, venue)
        self._put(self.venue_history, venue.venue_id, history)
        self._put(self.venues, venue.venue_id, history[-1][1])

    def _trading_policy_set(self, event: TradingPolicySet) -> None:
        self._put(self._trading, "policy", with_entry(self._trading.get("policy", ()), event.ledger_time, event.policy))

    def _volume_cap_set(self, event: VolumeCapSet) -> None:
        scope = event.client_id or BANK_SCOPE
        self._put(self.volume_caps, (scope, event.asset_code), event.daily_cap_minor)

    def _address_blacklisted(self, event: AddressBlacklisted) -> None:
        address = canonical_address(event.address)
        refused_from = event.listed_on + timedelta(days=1)
        self._put(self.blacklist, address, with_entry(self.blacklist.get(address, ()), refused_from, True))

    def _address_removed_from_blacklist(self, event: AddressRemovedFromBlacklist) -> None:
        address = canonical_address(event.address)
        history = with_entry(self.blacklist.get(address, ()), event.removed_on, False)
        self._put(self.blacklist, address, history)

    def _update_settlement(self, settlement_id: str, move: SettlementMove, **changes: Any) -> None:
        settlement = self.settlements[settlement_id].model_copy(update=changes)
        status = settlement_status(self.settlements[settlement_id].status, move, settlement.outstanding_minor)
        self._put(self.settlements, settlement_id, settlement.model_copy(update={"status": status}))

    def _settlement_initiated(self, event: SettlementInitiated) -> None:
        settlement = Settlement(
            settlement_id=event.settlement_id,
            client_id=event.client_id,
            direction=event.direction,
            counterparty=event.counterparty,
            country=event.country,
            contract_reference=event.contract_reference,
            asset=event.asset_code,
            sent_minor=event.amount_minor,
            initiated_on=self.day(event.ledger_time),
            deadline=event.deadline,
        )
        self._put(self.settlements, event.settlement_id, settlement)
        self.note_aml_operation(event.client_id, event.asset_code, event.amount_minor, event)

    def _funds_returned(self, event: FundsReturned) -> None:
        settlement = self.settlements[event.settlement_id]
        returned = settlement.returned_minor + event.amount_minor
        assert returned + settlement.delivered_minor <= settlement.sent_minor, event
        self._update_settlement(event.settlement_id, SettlementMove.RETURN, returned_minor=returned)

    def _settlement_closed(self, event: SettlementClosedByDelivery) -> None:
        settlement = self.settlements[event.settlement_id]
        assert event.amount_minor == settlement.outstanding_minor, event
        delivered = settlement.delivered_minor + event.amount_minor
        self._update_settlement(event.settlement_id, SettlementMove.DELIVERY, delivered_minor=delivered)

    def _deadline_extended(self, event: SettlementDeadlineExtended) -> None:
        self._update_settlement(event.settlement_id, SettlementMove.EXTENSION, deadline=event.new_deadline)

    def _settlement_overdue(self, event: SettlementOverdue) -> None:
        assert self.settlements[event.settlement_id].outstanding_minor > 0, event
        self._update_settlement(event.settlement_id, SettlementMove.DEADLINE_PASSED)

    def _reference_rate_set(self, event: ReferenceRateSet) -> None:
        rates = dict(self.rates.get(event.code, ()))
        rates[event.effective_on] = parse_rate(event.byn_per_unit)
        self._put(self.rates, event.code, tuple(sorted(rates.items())))

    def _compliance_settings_set(self, event: ComplianceSettingsSet) -> None:
        self._put(self._compliance, "settings", event.settings)

    def _jurisdiction_blocked(self, event: JurisdictionBlocked) -> None:
        self._jurisdiction_dated(event.country, event.ledger_time, event.reason)

    def _jurisdiction_unblocked(self, event: JurisdictionUnblocked) -> None:
        self._jurisdiction_dated(event.country, event.ledger_time, None)

    def _jurisdiction_dated(self, country: str, moment: datetime, reason: str | None) -> None:
        history = with_entry(self.blocked_countries.get(country, ()), moment, reason)
        self._put(self.blocked_countries, country, history)

    def _backdating_window_set(self, event: BackdatingWindowSet) -> None:
        self._put(self._backdating, "days", event.days)

    def _aml_notification_recorded(self, event: AmlNotificationRecorded) -> None:
        self._put(self.counters, "aml_notifications", self.aml_notifications + 1)
        window = self.aml_windows.get(event.client_id)
        if window is not None:
            self._changed(window.cover(event.covered))

    # Linked operations for AML (domain.aml): what each client's valued operations add to its window.

    def _wallet_ownership_verified(self, event: WalletOwnershipVerified) -> None:
        self._put(self.verified_wallets, (event.client_id, event.wallet_address), event.method)

    def _funds_deposited(self, event: FundsDeposited) -> None:
        self.note_aml_operation(event.client_id, event.asset_code, event.amount_minor, event)

    def _funds_withdrawn(self, event: FundsWithdrawn) -> None:
        self.note_aml_operation(event.client_id, event.asset_code, event.amount_minor, event)

    def _funds_transferred(self, event: FundsTransferred) -> None:
        self.note_aml_operation(event.source_client_id, event.asset_code, event.amount_minor, event)

    def aml_value(self, asset_code: str, amount_minor: int, day: date) -> int | None:
        """The BYN value the AML rule gives an amount on `day`, in 10^-30 BYN
        (domain.aml); None without a rate."""
        rate = self.rate(asset_code, day)
        if rate is None:
            return None
        return value_units(amount_minor, self.assets[asset_code].scale, rate)

    def note_aml_operation(self, client_id: str, asset_code: str, amount_minor: int, event: LedgerEvent) -> None:
        value = self.aml_value(asset_code, amount_minor, self.day(event.ledger_time))
        if value is None:
            return  # not valued, as the AML rule does not value it
        operation = _aml_operation((event.ledger_time, event.command_key, value))
        self._changed(self._aml_window(client_id).add(operation, event.ledger_time - self.settings.aml_window))

    def _aml_window(self, client_id: str) -> AmlWindow:
        window = self.aml_windows.get(client_id)
        if window is None:
            window = AmlWindow()
            self._put(self.aml_windows, client_id, window)
        return window

    def _changed(self, undo: Callable[[], None]) -> None:
        if self._journal is not None:
            self._undo.append(undo)
