"""A sandbox: a home directory (identity, keys, SQLite file) and the store it points at."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.home import DEFAULT_HOME, BankIdentity, Home
from ledger.progress import ProgressStart, no_progress
from ledger.serving import ServingLock
from ledger.store import schema
from ledger.store.backends import open_backend
from ledger.store.ports import Backend, StoreLocation
from ledger.store.schema import open_store
from ledger.tables import API_KEYS_TABLE
from ledger.views import ReadModel

_API_KEY_COLUMNS = "key_id, role, secret_sha256, label, created_at, revoked_at"
DEFAULT_TIME_ZONE = "Europe/Minsk"  # as domain.calendar's: the domain is imported only where it is used

if TYPE_CHECKING:
    from domain.commands import EstablishBank
    from ledger.audit.guard import SigningGuard
    from ledger.audit.log import StoredCheckpoint
    from ledger.audit.notes import Signer
    from ledger.audit.store_check import StoreCheck
    from ledger.clock import Clock
    from ledger.service import Ledger

# The write path, the keys and the domain's commands are imported where they
# are used: `open_reader` (every read command) needs none of them.

DEFAULT_IDENTITY = BankIdentity(
    name="Zubr Crypto Bank JSC",
    origin="zubr-crypto-bank.example/ledger",
    nbrb_register_entry="NBRB-CB-0001",
)
ESTABLISH_BANK_KEY = "init:establish-bank"
KEY_HISTORY_FILE = "keys/history.json"

_log = logging.getLogger("ledger.sandbox")


class SandboxError(Exception):
    """The sandbox cannot be created or opened as asked; the message says why."""


@dataclass(frozen=True)
class Sandbox:
    home: Home
    database_url: str | None = None

    @classmethod
    def at(cls, home: Path = DEFAULT_HOME, database_url: str | None = None) -> Sandbox:
        return cls(Home(home), database_url)

    def init(
        self,
        identity: BankIdentity = DEFAULT_IDENTITY,
        *,
        allow_unencrypted_key: bool = False,
        clock: Clock | None = None,
        ledger_clock: Clock | None = None,
        time_zone: str = DEFAULT_TIME_ZONE,
    ) -> str:
        """Creates the store, the bank's identity and its signing key; returns
        the verifier key. Refuses a home that is already initialised, and a
        store that holds a ledger already (one bank per store). `time_zone`
        (an IANA name, recorded with the bank's establishment) defines the
        ledger day; an unknown name is refused before anything is made."""
        from domain.calendar import zone_named
        from ledger.keys import check_can_create, create_signing_key, verifier_key

        zone_named(time_zone)

        if self.home.is_initialised():
            raise SandboxError(f"{self.home.root} is initialised already (found {self.home.identity_path})")
        self._refuse_a_store_in_use()
        check_can_create(self.home.signing_key_path, allow_unencrypted=allow_unencrypted_key)
        with self.open(clock=clock, ledger_clock=ledger_clock, create=True, auto_checkpoint=False) as ledger:
            ledger.execute(self._establish_bank(identity, time_zone))
            key = create_signing_key(self.home.signing_key_path, allow_unencrypted=allow_unencrypted_key)
            verifier = verifier_key(identity.origin, key.public_key())
            schema.record_bank(ledger.backend, origin=identity.origin, verifier_key=verifier)
        self.home.write_verifier_key(verifier)
        self.home.write_identity(identity)
        return verifier

    def _refuse_a_store_in_use(self) -> None:
        location = StoreLocation.parse(home=self.home.root, database_url=self.database_url)
        backend = open_backend(location)
        try:
            facts = schema.stored_facts(backend)
            if facts is None:
                return
        finally:
            backend.close()
        owner = f" (bank {facts.origin}, key id {key_id(facts.verifier_key)})" if facts.verifier_key else ""
        raise SandboxError(f"{backend.describe()} holds a ledger already{owner}: one bank per store, init refused")

    @staticmethod
    def _establish_bank(identity: BankIdentity, time_zone: str) -> EstablishBank:
        from domain.commands import EstablishBank

        return EstablishBank(
            key=ESTABLISH_BANK_KEY,
            name=identity.name,
            htp_resident=identity.htp_resident,
            nbrb_register_entry=identity.nbrb_register_entry,
            time_zone=time_zone,
        )

    def open_reader(self) -> ReadModel:
        """The views of this sandbox, for reading only: no decision state, no
        signing key, no write lock, nothing created. Refuses a store that does
        not exist, and one that belongs to another bank's key."""
        backend = open_store(StoreLocation.parse(home=self.home.root, database_url=self.database_url))
        try:
            self._check_owner(backend)
        except BaseException:
            backend.close()
            raise
        return ReadModel(backend)

    def open_writer(self, **options: Any) -> Ledger:
        """The ledger of this sandbox, for writing (see `open`)."""
        return self.open(**options)

    def open(
        self,
        *,
        clock: Clock | None = None,
        ledger_clock: Clock | None = None,
        auto_checkpoint: bool = True,
        create: bool = False,
    ) -> Ledger:
        """The ledger of this sandbox. With `auto_checkpoint`, and a signing key
        that can be read, a checkpoint is signed every N events or T seconds.
        A store that holds no ledger is refused (nothing is created) unless
        `create` is true, as for `init`; so is a store of another bank's key."""
        from ledger.service import Ledger

        identity = self.home.read_identity() if self.home.is_initialised() else DEFAULT_IDENTITY
        ledger = Ledger.open(
            home=self.home.root,
            database_url=self.database_url,
            clock=clock,
            ledger_clock=ledger_clock,
            origin=identity.origin,
            create=create,
        )
        try:
            self._check_owner(ledger.backend)
            if self.home.is_initialised():
                ledger.audit.guard = self.signing_guard()
            if auto_checkpoint and self.home.is_initialised():
                self._sign_checkpoints_for(ledger, identity)
        except BaseException:
            ledger.close()
            raise
        return ledger

    def _check_owner(self, backend: Backend) -> None:
        """Refuses a store whose recorded key is not this home's."""
        recorded = backend.facts.verifier_key if backend.facts else None
        ours = self.home.read_verifier_key()
        if recorded and ours and recorded != ours:
            raise SandboxError(
                f"{backend.describe()} belongs to key id {key_id(recorded)}, "
                f"but the home {self.home.root} has key id {key_id(ours)}: open the store with its own home"
            )

    def _sign_checkpoints_for(self, ledger: Ledger, identity: BankIdentity) -> None:
        """Signs checkpoints as they fall due, with a key this process proved it
        can open before anything is written: a wrong passphrase is an error
        here, not a log left unsigned. With no passphrase at all, a warning:
        checkpoints are then signed at export or by 'ledger audit checkpoint'."""
        from ledger.audit.guard import SigningRefused
        from ledger.keys import PassphraseMissing

        try:
            signer = self.signer()
        except PassphraseMissing as missing:
            _log.warning("checkpoints are not signed as this process writes: %s", missing)
            return

        from ledger.audit.witnessing import configured, submit_latest

        witnesses = configured(self.home.root)

        def sign_when_due(appended: int) -> None:
            try:
                signed = ledger.audit.maybe_checkpoint(
                    signer,
                    ledger.clock.now(),
                    appended,
                    every_events=identity.checkpoint_every_events,
                    every_seconds=identity.checkpoint_every_seconds,
                )
                if signed is None and appended and identity.sign_every_batch:
                    ledger.audit.sign_head(signer)
            except SigningRefused as refused:  # the batch has committed; what is wrong is said, nothing signed
                _log.error("%s", refused)
                return
            if signed is not None and witnesses:
                submit_latest(ledger.audit, witnesses)  # a witness that is down costs a warning, not the write

        ledger.after_commit.append(sign_when_due)

    def signing_guard(self) -> SigningGuard:
        """The signer's memory of what it last signed, beside its key."""
        from ledger.audit.guard import SignedHead, SigningGuard

        history = json.loads(self.key_history_path.read_text()) if self.key_history_path.exists() else []
        return SigningGuard(SignedHead.of_home(self.home.root), tuple(entry["verifier_key"] for entry in history))

    def check_store(self, *, progress: ProgressStart = no_progress) -> StoreCheck:
        """`ledger audit check-store`: the store against what was logged and
        signed (see `ledger.audit.store_check`); needs no passphrase."""
        from ledger.audit.notes import Verifier
        from ledger.audit.store_check import check_store

        guard = self.signing_guard()
        current = self.home.read_verifier_key()
        keys = [*guard.known_keys, *([current] if current and current not in guard.known_keys else [])]
        verifiers = [Verifier.parse(key) for key in keys]
        head = guard.head.read(verifiers)
        from ledger.audit.log import AuditLog
        from ledger.projections import decode_with

        # A reader's store: no decision state to rebuild, which a store with
        # an event deleted from under it could not give.
        with self.open_reader() as reader:
            audit = AuditLog(reader.backend, decode_with(reader.backend.mapper), self.home.read_identity().origin)
            return check_store(audit, verifiers, head, progress=progress)

    def signer(self) -> Signer:
        if not self.home.is_initialised():
            raise SandboxError(f"{self.home.root} is not initialised: run 'ledger init' first")
        from ledger.audit.notes import Signer
        from ledger.keys import load_signing_key

        identity = self.home.read_identity()
        return Signer(identity.origin, load_signing_key(self.home.signing_key_path))

    def verifier_key(self) -> str:
        return self.signer().verifier.encode()

    @property
    def key_history_path(self) -> Path:
        return self.home.root / KEY_HISTORY_FILE

    def verifier_keys(self) -> list[str]:
        """Every key this log has signed with, oldest first (for bundle manifests)."""
        current = self.verifier_key()
        if not self.key_history_path.exists():
            return [current]
        history = [entry["verifier_key"] for entry in json.loads(self.key_history_path.read_text())]
        return [*history, current] if current not in history else history

    def rotate_key(self, *, allow_unencrypted_key: bool = False) -> tuple[str, str, StoredCheckpoint]:
        """A new signing key, handed over by a checkpoint signed with the old
        key and the new; the old key is kept, retired, beside it."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        from ledger.audit.notes import Signer
        from ledger.keys import check_can_create, write_signing_key

        old = self.signer()
        check_can_create(self.home.root / "keys" / "next.pem", allow_unencrypted=allow_unencrypted_key)
        new = Signer(old.name, Ed25519PrivateKey.generate())
        with self.open(auto_checkpoint=False) as ledger:
            # The store's key is rewritten below: a role that may not (the
            # runtime role; rotation is the owner's) is refused here, before
            # the hand-over is signed or any key file moves.
            schema.replace_verifier_key(ledger.backend, old.verifier.encode())
            stored = ledger.audit.hand_over([old, new], ledger.clock.now())
        keys = self.verifier_keys()
        retired = self.home.root / "keys" / "retired" / f"{old.verifier.key_id.hex()}.pem"
        retired.parent.mkdir(parents=True, exist_ok=True)
        self.home.signing_key_path.rename(retired)
        write_signing_key(self.home.signing_key_path, new.private_key, allow_unencrypted=allow_unencrypted_key)
        history = json.loads(self.key_history_path.read_text()) if self.key_history_path.exists() else []
        if not history:
            history = [{"verifier_key": key, "from_size": 0} for key in keys]
        history.append({"verifier_key": new.verifier.encode(), "from_size": stored.size})
        self.key_history_path.write_text(json.dumps(history, indent=2) + "\n")
        with self.open(auto_checkpoint=False) as ledger:
            schema.replace_verifier_key(ledger.backend, new.verifier.encode())
        self.home.write_verifier_key(new.verifier.encode())
        return old.verifier.encode(), new.verifier.encode(), stored

    def migrate(self, *, progress: ProgressStart = no_progress) -> list[int]:
        """Upgrades the store's schema to this release's; records the home's
        bank in a store made before stores recorded it. Returns the versions
        reached (none if the store was current); `progress` hears of the
        views rebuilt (`ledger.progress`)."""
        location = StoreLocation.parse(home=self.home.root, database_url=self.database_url)
        reached = schema.migrate_store(location, progress)
        if self.home.is_initialised():
            with self.open(auto_checkpoint=False) as ledger:
                facts = ledger.backend.facts
                if facts is not None and facts.verifier_key is None:
                    verifier = self.home.read_verifier_key() or self.verifier_key()
                    schema.record_bank(ledger.backend, origin=self.home.read_identity().origin, verifier_key=verifier)
                    self.home.write_verifier_key(verifier)
        return reached

    def set_up_roles(self, *, runtime: str | None, owner: str | None, execute: bool = True) -> list[str]:
        """PostgreSQL only: an owner role for migrations and a runtime role
        for the service (see `ledger.store.roles`); returns the SQL, which is
        run unless `execute` is false."""
        location = StoreLocation.parse(home=self.home.root, database_url=self.database_url)
        if location.postgres is None:
            raise SandboxError("roles are PostgreSQL's: an SQLite store is guarded by its triggers and its file's mode")
        from ledger.store.postgres import set_up_roles

        return set_up_roles(location.postgres, runtime=runtime, owner=owner, execute=execute)

    def reset(self, *, serving: ServingLock | None = None) -> None:
        """Starts the sandbox over: an empty store with the bank established
        again; the identity, the signing keys and the HTTP service's API keys
        are kept (a reset through the service must not lock its caller out).
        Refused (`StoreServed`) while a server other than the caller's own
        (`serving`, the lock it holds) serves the store."""
        location = StoreLocation.parse(home=self.home.root, database_url=self.database_url)
        with (serving or ServingLock(location)).alone():
            self._reset(location)

    def _reset(self, location: StoreLocation) -> None:
        identity = self.home.read_identity()
        api_keys, time_zone = self._api_key_rows(), self._time_zone_name()
        if location.postgres is not None:
            from ledger.store.postgres import drop_schema

            drop_schema(location.postgres)
        else:
            assert location.sqlite_path is not None
            for suffix in ("", "-wal", "-shm"):
                location.sqlite_path.with_name(location.sqlite_path.name + suffix).unlink(missing_ok=True)
        self.signing_guard().head.forget()  # the new store's log starts from nothing
        with self.open(auto_checkpoint=False, create=True) as ledger:
            ledger.execute(self._establish_bank(identity, time_zone))
            verifier = self.home.read_verifier_key() or self.verifier_key()
            schema.record_bank(ledger.backend, origin=identity.origin, verifier_key=verifier)
            with ledger.backend.views("api-keys") as session:
                insert = f"INSERT INTO {API_KEYS_TABLE} ({_API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"  # noqa: S608
                session.executemany(insert, api_keys)

    def _time_zone_name(self) -> str:
        """The zone the store being reset recorded (UTC where it records none),
        kept across the reset as its keys are; the default for no store."""
        try:
            reader = self.open_reader()
        except schema.StoreNotReady:
            return DEFAULT_TIME_ZONE
        with reader, reader.backend.read() as session:
            return str(reader.time_zone(session))

    def _api_key_rows(self) -> list[tuple[object, ...]]:
        """The API keys' rows, to keep across a reset (none from a store that
        is not there or holds no ledger); a store that cannot be read is not
        reset, rather than reset without its keys."""
        try:
            reader = self.open_reader()
        except schema.StoreNotReady:
            return []
        with reader, reader.backend.read() as session:
            return session.fetchall(f"SELECT {_API_KEY_COLUMNS} FROM {API_KEYS_TABLE}")  # noqa: S608

    def fork(self, target: Path) -> Sandbox:
        """A copy of this sandbox (store, identity, keys) to try things on."""
        location = StoreLocation.parse(home=self.home.root, database_url=self.database_url)
        if location.sqlite_path != self.home.root / "ledger.sqlite":
            raise SandboxError("fork copies sandboxes whose store is in their home; for PostgreSQL, use pg_dump")
        if not self.home.is_initialised():
            raise SandboxError(f"{self.home.root} is not initialised: nothing to fork")
        if target.exists():
            raise SandboxError(f"{target} exists already: fork into a new directory")
        shutil.copytree(self.home.root, target, ignore=shutil.ignore_patterns("ledger.sqlite*", "audit-bundle-*"))
        source = sqlite3.connect(self.home.root / "ledger.sqlite")
        copy = sqlite3.connect(target / "ledger.sqlite")
        with copy:
            source.backup(copy)  # a consistent copy, even while the source is in use
        source.close()
        copy.close()
        return Sandbox.at(target)


def key_id(verifier_key: str) -> str:
    """The key id of a verifier key (`name+keyid+key`), as the bank's keys are named."""
    parts = verifier_key.split("+", 2)
    return parts[1] if len(parts) == 3 else "?"
