"""An insider with the database itself: guards switched off, rows edited, deleted, inserted, replaced.

The append-only guards stop the ledger's own credentials (test_append_only).
Whoever can drop a trigger, or is the database's superuser, can still write
anything. What stops them is what was signed, and the signer's memory of it
outside the database: every change below is named by `ledger audit
check-store`, and the signer refuses to sign a tree that holds it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from domain.commands import Deposit
from domain.errors import InsufficientFunds
from ledger import Sandbox
from ledger.audit.bundle import ExportError, export_bundle
from ledger.audit.guard import SigningRefused
from ledger.audit.store_check import RecordMismatch
from ledger.audit.tiles import TILE_WIDTH
from ledger.sandbox import DEFAULT_IDENTITY
from tests.conftest import _connect
from tests.world import funding_commands, setup_commands

COMMANDS = [command for command in setup_commands() + funding_commands() if command.key != "bank"]
DEPOSITS = [
    Deposit(key=f"tile-{n}", client_id="alesia", asset="BYN", amount="1", reference="r") for n in range(TILE_WIDTH)
]
AUDIT_TABLES = ("audit_leaves", "audit_tiles", "audit_tree")


@dataclass
class Insider:
    """Runs SQL on the bank's store with every guard off, as the database's owner."""

    database_url: str

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def events(self) -> str:
        return "ledger_events" if self.postgres else "stored_events"

    @property
    def event_id(self) -> str:
        return "notification_id" if self.postgres else "rowid"

    @property
    def tracking(self) -> str:
        return "ledger_tracking" if self.postgres else "tracking"

    def run(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        statement = statement.format(events=self.events, id=self.event_id, tracking=self.tracking)
        return self._postgres(statement, params) if self.postgres else self._sqlite(statement, params)

    def _sqlite(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        path = self.database_url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path, isolation_level=None)
        try:
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                connection.execute(f'DROP TRIGGER "{name}"')
            return connection.execute(statement, params).fetchall()
        finally:
            connection.close()

    def _postgres(self, statement: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        server, schema = self.database_url.split("?schema=")
        with _connect(server) as connection:
            connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            connection.execute("SET session_replication_role = replica")  # every trigger off, as a superuser may
            cursor = connection.execute(statement.replace("?", "%s").encode(), params)
            return cursor.fetchall() if cursor.description else []

    def edit_event(self, notification_id: int, old: bytes, new: bytes) -> None:
        """Replaces every `old` in the event's stored state by `new`."""
        (state,) = self.run("SELECT state FROM {events} WHERE {id} = ?", (notification_id,))[0]
        forged = bytes(state).replace(old, new)
        assert forged != bytes(state)
        self.run("UPDATE {events} SET state = ? WHERE {id} = ?", (forged, notification_id))


@pytest.fixture
def bank(database_url: str, tmp_path: Path) -> tuple[Sandbox, Insider]:
    """A bank whose every write batch was signed, and its insider."""
    sandbox = Sandbox.at(tmp_path / "bank", database_url)
    sandbox.init(allow_unencrypted_key=True)
    with sandbox.open_writer() as ledger:
        ledger.submit(COMMANDS)
        ledger.submit(DEPOSITS)  # a full tile
    return sandbox, Insider(database_url)


def leaf_of_event(insider: Insider, notification_id: int) -> int:
    return int(insider.run("SELECT leaf_index FROM audit_leaves WHERE notification_id = ?", (notification_id,))[0][0])


def event_of(insider: Insider, key: str) -> int:
    """The notification id of the first event command `key` wrote, as its record says."""
    (result,) = insider.run("SELECT result FROM ledger_commands WHERE key = ?", (key,))[0]
    return int(json.loads(result)["notification_ids"][0])


def a_deposit_event(insider: Insider, offset: int = 0) -> int:
    return event_of(insider, DEPOSITS[offset].key)


def difference(sandbox: Sandbox) -> str:
    check = sandbox.check_store()
    assert check.difference is not None, "the change went unnoticed"
    return str(check.difference)


def sign_now(sandbox: Sandbox) -> None:
    with sandbox.open_writer(auto_checkpoint=False) as ledger:
        ledger.audit.checkpoint(sandbox.signer(), ledger.clock.now())


# The untouched store.


def test_an_untouched_store_agrees_with_everything_signed(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, _ = bank
    check = sandbox.check_store()
    assert check.intact, check.difference
    assert check.leaves == check.events == len(COMMANDS) + len(DEPOSITS) + 1  # the bank's own event too
    assert check.records >= len(COMMANDS) + len(DEPOSITS)
    assert check.checkpoints >= 1


def test_every_write_batch_is_signed_as_the_signers_head_beside_its_key(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, _ = bank
    head = sandbox.signing_guard().head
    signed = head.read([sandbox.signer().verifier])
    with sandbox.open_writer() as ledger:
        assert signed is not None
        assert signed.size == ledger.audit.tree().size
        assert signed.root == ledger.audit.tree().root()
        ledger.submit([Deposit(key="one-more", client_id="alesia", asset="BYN", amount="1", reference="r")])
        after = head.read([sandbox.signer().verifier])
        assert after is not None
        assert after.size == signed.size + 1


# Events changed after they were logged and signed.


def test_an_edited_event_is_named_by_its_leaf(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, insider = bank
    event = a_deposit_event(insider, 2)
    insider.edit_event(event, b'100"', b'900"')
    assert difference(sandbox).startswith(f"leaf {leaf_of_event(insider, event)} (event {event})")
    assert "changed after it was logged" in difference(sandbox)


def test_a_deleted_event_is_named_by_its_leaf(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, insider = bank
    event = a_deposit_event(insider, 3)
    leaf = leaf_of_event(insider, event)
    insider.run("DELETE FROM {events} WHERE {id} = ?", (event,))
    assert difference(sandbox) == f"leaf {leaf}: its event {event} is not in the store: it was deleted"


def test_an_event_replaced_in_place_is_named_by_its_leaf(bank: tuple[Sandbox, Insider]) -> None:
    """SQLite's INSERT OR REPLACE (PostgreSQL: delete and insert again) under the same notification id."""
    sandbox, insider = bank
    event = a_deposit_event(insider, 4)
    (stream, version, topic, state) = insider.run(
        "SELECT originator_id, originator_version, topic, state FROM {events} WHERE {id} = ?", (event,)
    )[0]
    forged = bytes(state).replace(b'"reference":"', b'"reference":"x', 1)
    if insider.postgres:
        insider.run("DELETE FROM {events} WHERE {id} = ?", (event,))
        insider.run(
            "INSERT INTO {events} (notification_id, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            (event, stream, version, topic, forged),
        )
    else:
        insider.run(
            "INSERT OR REPLACE INTO {events} (rowid, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            (event, stream, version, topic, forged),
        )
    assert difference(sandbox).startswith(f"leaf {leaf_of_event(insider, event)} (event {event})")


def test_an_event_inserted_behind_the_ledgers_back_is_not_signed(bank: tuple[Sandbox, Insider]) -> None:
    """A copy of a deposit under a new stream: it has no idempotency record, so it is no command's."""
    sandbox, insider = bank
    event = a_deposit_event(insider, 5)
    (topic, state) = insider.run("SELECT topic, state FROM {events} WHERE {id} = ?", (event,))[0]
    stream = "00000000-0000-4000-8000-000000000001"
    columns = "originator_id, originator_version, topic, state"
    insider.run(
        f"INSERT INTO {{events}} ({columns}) VALUES (?, 1, ?, ?)",
        (stream if insider.postgres else stream.replace("-", ""), topic, state),
    )
    with pytest.raises(SigningRefused, match=r"not signed: idempotency record .* it does not name event"):
        sign_now(sandbox)
    assert "idempotency record" in difference(sandbox)


# The audit tables rewritten to match.


def test_a_history_rewritten_with_its_audit_tables_is_refused_by_the_signer(bank: tuple[Sandbox, Insider]) -> None:
    """The events edited, the audit tables wiped and the tracking position reset:
    the ledger rebuilds the tree from the rewritten events, and the signer
    will not sign it, because it does not extend what the key last signed."""
    sandbox, insider = bank
    insider.edit_event(a_deposit_event(insider, 1), b'100"', b'700"')
    for table in AUDIT_TABLES:
        insider.run(f"DELETE FROM {table}")
    insider.run("DELETE FROM {tracking} WHERE application_name = ?", ("ledger-audit",))
    with pytest.raises(SigningRefused, match=r"this key last signed: history (was )?rewritten"):
        sign_now(sandbox)
    assert "no longer hash to its signed root" in difference(sandbox)


def test_a_truncated_history_is_refused_by_the_signer(bank: tuple[Sandbox, Insider]) -> None:
    """The last events deleted, the audit tables rebuilt from what is left."""
    sandbox, insider = bank
    last = a_deposit_event(insider, len(DEPOSITS) - 10)
    insider.run("DELETE FROM {events} WHERE {id} >= ?", (last,))
    for deposit in DEPOSITS[-10:]:
        insider.run("DELETE FROM ledger_commands WHERE key = ?", (deposit.key,))
    for table in AUDIT_TABLES:
        insider.run(f"DELETE FROM {table}")
    insider.run("DELETE FROM {tracking} WHERE application_name = ?", ("ledger-audit",))
    with pytest.raises(SigningRefused, match="fewer than the checkpoint"):
        sign_now(sandbox)
    assert "fewer than it signed" in difference(sandbox)


def test_a_changed_stored_leaf_hash_is_named(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, insider = bank
    insider.run("UPDATE audit_leaves SET leaf_hash = ? WHERE leaf_index = 7", ("00" * 32,))
    assert difference(sandbox).startswith("leaf 7 (event")


def test_a_changed_stored_tile_is_named(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, insider = bank
    insider.run("UPDATE audit_tiles SET hashes = ? WHERE tile_level = 0 AND tile_index = 0", ("00" * 32 * TILE_WIDTH,))
    assert difference(sandbox).startswith("tile 0/0:")


# Inside the unsigned window: a bank that signs every N events only.


def test_an_event_edited_after_it_was_logged_but_before_it_was_signed_is_not_signed(
    database_url: str, tmp_path: Path
) -> None:
    sandbox = Sandbox.at(tmp_path / "bank", database_url)
    sandbox.init(DEFAULT_IDENTITY.model_copy(update={"sign_every_batch": False}), allow_unencrypted_key=True)
    insider = Insider(database_url)
    with sandbox.open_writer() as ledger:
        ledger.submit(COMMANDS[:5])  # the first checkpoint
        ledger.submit(COMMANDS[5:])  # none falls due before 1000 events or an hour
        ledger.audit.catch_up()  # the leaves are logged
    deposit = next(command for command in COMMANDS[5:] if isinstance(command, Deposit))
    event = event_of(insider, deposit.key)
    amount = str(int(Decimal(deposit.amount) * 100)).encode()  # BYN: two decimals
    insider.edit_event(event, amount + b'"', amount + b'1"')
    with pytest.raises(SigningRefused, match=rf"not signed: leaf {leaf_of_event(insider, event)} \(event {event}\)"):
        sign_now(sandbox)


# Idempotency records.


def test_a_forged_idempotency_record_is_named_and_never_answers_a_retry(bank: tuple[Sandbox, Insider]) -> None:
    """The issue's case: a deposit's record rewritten to say it was refused for want of funds."""
    sandbox, insider = bank
    deposit = DEPOSITS[3]
    (result,) = insider.run("SELECT result FROM ledger_commands WHERE key = ?", (deposit.key,))[0]
    forged = result.replace('"status":"accepted"', '"status":"rejected"').replace(
        '"rule":null', f'"rule":"{InsufficientFunds.rule}"'
    )
    insider.run("UPDATE ledger_commands SET result = ? WHERE key = ?", (forged, deposit.key))
    assert difference(sandbox).startswith(f"idempotency record {deposit.key!r}: it says 'rejected'")
    with sandbox.open_writer() as ledger, pytest.raises(RecordMismatch, match=deposit.key):
        ledger.submit([deposit])


def test_a_deleted_idempotency_record_is_named(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, insider = bank
    insider.run("DELETE FROM ledger_commands WHERE key = ?", (DEPOSITS[5].key,))
    assert difference(sandbox).startswith(f"idempotency record {DEPOSITS[5].key!r}: it is missing")


def test_an_idempotency_record_pointing_at_another_commands_events_is_named(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, insider = bank
    insider.run(
        "INSERT INTO ledger_commands SELECT 'forged', digest, result FROM ledger_commands WHERE key = ?",
        (DEPOSITS[6].key,),
    )
    assert difference(sandbox).startswith("idempotency record 'forged': it names event")


# The signer's own memory.


def test_the_signers_head_is_checked_against_its_key(bank: tuple[Sandbox, Insider]) -> None:
    sandbox, _ = bank
    head = sandbox.signing_guard().head
    head.path.write_text(head.path.read_text().replace("\n\n", "\nextra\n\n", 1))
    with pytest.raises(SigningRefused, match="does not hold a checkpoint this log's key signed"):
        sign_now(sandbox)


def test_a_store_restored_from_an_older_copy_is_not_signed_over(
    bank: tuple[Sandbox, Insider], tmp_path: Path, database_url: str
) -> None:
    """Rolling the database back loses what the bank's clients were told: the signer refuses to go back."""
    sandbox, _ = bank
    if database_url.startswith("postgresql"):
        pytest.skip("a file copy is SQLite's; PostgreSQL's rollback is the truncation test's")
    store = Path(database_url.removeprefix("sqlite:///"))
    old = tmp_path / "old.sqlite"
    sqlite3.connect(store).backup(sqlite3.connect(old))
    with sandbox.open_writer() as ledger:
        ledger.submit([Deposit(key="later", client_id="alesia", asset="BYN", amount="1", reference="r")])
    for suffix in ("-wal", "-shm"):
        Path(str(store) + suffix).unlink(missing_ok=True)
    old.replace(store)
    with sandbox.open_writer() as ledger:
        ledger.submit([Deposit(key="after-restore", client_id="alesia", asset="BYN", amount="1", reference="r")])
    with pytest.raises(SigningRefused, match="history rewritten"):
        sign_now(sandbox)


def test_an_export_after_an_edit_is_refused_naming_the_leaf(bank: tuple[Sandbox, Insider], tmp_path: Path) -> None:
    sandbox, insider = bank
    event = a_deposit_event(insider, 7)
    insider.edit_event(event, b'100"', b'900"')
    with sandbox.open_writer(auto_checkpoint=False) as ledger, pytest.raises(ExportError) as refused:
        export_bundle(ledger.audit, sandbox.signer(), tmp_path / "bundle", ledger.clock.now())
    assert f"leaf {leaf_of_event(insider, event)} (event {event})" in str(refused.value)
