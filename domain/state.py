"""The ledger's decision state, evolved from events, with undo for whole batches.

`LedgerState` is a projection of the log kept in memory by the write path: the
parties, the assets, every balance and every stream's version. `evolve` applies
one event; it re-runs on every replay, so it only applies state and re-asserts
the invariants. Between `begin()` and `commit()` every change is journalled, so
a batch that fails part-way, or whose database transaction fails, is undone
exactly by `rollback()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from datetime import date, datetime
from fractions import Fraction
from functools import partial
from typing import Any
from uuid import UUID

from domain.accounts import SystemAccount, is_client_account, is_holding_account
from domain.addresses import canonical_address
from domain.aml import AmlOperation, AmlWindow, value_units
from domain.crossborder import ComplianceSettings, Settlement, SettlementMove, parse_rate, settlement_status
from domain.events import (
    AddressBlacklisted,
    AmlNotificationRecorded,
    AssetRegistered,
    BankEstablished,
    ClientKycVerified,
    ClientOnboarded,
    CommandRejected,
    ComplianceSettingsSet,
    FundsDeposited,
    FundsReturned,
    FundsTransferred,
    FundsWithdrawn,
    IssuerRegistered,
    JurisdictionBlocked,
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


class LedgerState:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self._bank: dict[str, Bank] = {}
        self.issuers: dict[str, Issuer] = {}
        self.clients: dict[str, Client] = {}
        self.assets: dict[str, Asset] = {}
        self.balances: dict[BalanceKey, int] = {}
        self.versions: dict[UUID, int] = {}  # of the streams that hold more than one event
        self.venues: dict[str, Venue] = {}
        self._trading: dict[str, TradingPolicy] = {}
        self._compliance: dict[str, ComplianceSettings] = {}
        self.volume_caps: dict[tuple[str, str], int] = {}
        self.volumes: dict[VolumeKey, int] = {}
        self.blacklist: dict[str, date] = {}
        self.settlements: dict[str, Settlement] = {}
        self.rates: dict[str, tuple[tuple[date, Fraction], ...]] = {}
        self.blocked_countries: dict[str, str] = {}
        self.aml_windows: dict[str, AmlWindow] = {}
        self.verified_wallets: dict[tuple[str, str], str] = {}  # (client, wallet) -> the proof's method
        # What undoes each change to an AML window in the open batch (its
        # deque changes in place: copying it per batch would cost its length).
        self._undo: list[Callable[[], None]] = []
        self._clock: dict[str, datetime | None] = {}
        self._journal: list[tuple[MutableMapping[Any, Any], Any, Any]] | None = None
        self._handlers: dict[type[LedgerEvent], Callable[[Any], None]] = {
            BankEstablished: self._bank_established,
            IssuerRegistered: self._issuer_registered,
            ClientOnboarded: self._client_onboarded,
            ClientKycVerified: self._client_kyc_verified,
            AssetRegistered: self._asset_registered,
            TokenRegistered: self._asset_registered,
            CommandRejected: self._command_rejected,
            TradeExecuted: self._trade_executed,
            VenueListed: self._venue_listed,
            VenueDelisted: self._venue_delisted,
            TradingPolicySet: self._trading_policy_set,
            VolumeCapSet: self._volume_cap_set,
            AddressBlacklisted: self._address_blacklisted,
            SettlementInitiated: self._settlement_initiated,
            FundsReturned: self._funds_returned,
            SettlementClosedByDelivery: self._settlement_closed,
            SettlementDeadlineExtended: self._deadline_extended,
            SettlementOverdue: self._settlement_overdue,
            ReferenceRateSet: self._reference_rate_set,
            ComplianceSettingsSet: self._compliance_settings_set,
            JurisdictionBlocked: self._jurisdiction_blocked,
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
    def policy(self) -> TradingPolicy:
        return self._trading.get("policy", DEFAULT_POLICY)

    @property
    def settings(self) -> ComplianceSettings:
        return self._compliance.get("settings", DEFAULT_SETTINGS)

    def rate(self, code: str, day: date) -> Fraction | None:
        """BYN per unit of `code` in force on `day` (BYN itself is 1)."""
        if code == "BYN":
            return BYN_RATE
        in_force = [rate for effective, rate in self.rates.get(code, ()) if effective <= day]
        return in_force[-1] if in_force else None

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
            policy=self._trading.get("policy"),
            settings=self._compliance.get("settings"),
            volume_caps=[(scope, asset, cap) for (scope, asset), cap in self.volume_caps.items()],
            volumes=[(*key, amount) for key, amount in self.volumes.items()],
            blacklist=dict(self.blacklist),
            settlements=dict(self.settlements),
            rates={code: [(day, rate_text(rate)) for day, rate in rates] for code, rates in self.rates.items()},
            blocked_countries=dict(self.blocked_countries),
            sandbox_clock=self.sandbox_clock,
            clock_high_water=self.clock_high_water,
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
        state._trading = {"policy": snapshot.policy} if snapshot.policy else {}
        state._compliance = {"settings": snapshot.settings} if snapshot.settings else {}
        state.volume_caps = {(scope, asset): cap for scope, asset, cap in snapshot.volume_caps}
        state.volumes = {(scope, asset, day): amount for scope, asset, day, amount in snapshot.volumes}
        state.blacklist = dict(snapshot.blacklist)
        state.settlements = dict(snapshot.settlements)
        state.rates = {
            code: tuple((day, rate_of(text)) for day, text in rates) for code, rates in snapshot.rates.items()
        }
        state.blocked_countries = dict(snapshot.blocked_countries)
        state.verified_wallets = {(client, wallet): method for client, wallet, method in snapshot.verified_wallets}
        state.aml_windows = {
            client: AmlWindow(AmlOperation(moment, key, int(value)) for moment, key, value in operations)
            for client, operations in snapshot.aml_windows.items()
        }
        state._clock = {
            name: value
            for name, value in (("frozen_at", snapshot.sandbox_clock), ("high_water", snapshot.clock_high_water))
            if value is not None
        }
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
        client = self.clients[event.client_id]
        self._put(self.clients, event.client_id, client.model_copy(update={"kyc": KycStatus.VERIFIED}))

    def _asset_registered(self, event: AssetRegistered | TokenRegistered) -> None:
        self._put(self.assets, event.asset.code, event.asset)

    def _command_rejected(self, _: CommandRejected) -> None:
        self._put(self.counters, "rejections", self.rejections + 1)

    def _trade_executed(self, event: TradeExecuted) -> None:
        day = event.ledger_time.date().isoformat()
        scopes = {BANK_SCOPE, event.buyer_client_id, event.seller_client_id} - {None}
        for scope in scopes:
            assert scope is not None
            key = (scope, event.quote_asset, day)
            self._put(self.volumes, key, self.volumes.get(key, 0) + event.quote_amount_minor)

    def _venue_listed(self, event: VenueListed) -> None:
        self._put(self.venues, event.venue.venue_id, event.venue)

    def _venue_delisted(self, event: VenueDelisted) -> None:
        venue = self.venues[event.venue_id]
        self._put(self.venues, event.venue_id, venue.model_copy(update={"listed": False}))

    def _trading_policy_set(self, event: TradingPolicySet) -> None:
        self._put(self._trading, "policy", event.policy)

    def _volume_cap_set(self, event: VolumeCapSet) -> None:
        scope = event.client_id or BANK_SCOPE
        self._put(self.volume_caps, (scope, event.asset_code), event.daily_cap_minor)

    def _address_blacklisted(self, event: AddressBlacklisted) -> None:
        self._put(self.blacklist, canonical_address(event.address), event.listed_on)

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
            initiated_on=event.ledger_time.date(),
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
        self._put(self.blocked_countries, event.country, event.reason)

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
        value = self.aml_value(asset_code, amount_minor, event.ledger_time.date())
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
