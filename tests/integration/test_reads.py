"""Reads never pay for writes: read-only transactions over views the write path keeps current."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from domain.commands import Deposit
from ledger import Ledger, Sandbox
from ledger.tables import VIEWS_TRACKING_NAME
from ledger.views import view_digests
from tests.acceptance.cli import ledger as run_ledger
from tests.world import funding_commands, setup_commands

OpenLedger = Callable[..., Ledger]


def test_the_views_commit_with_the_events_they_show(open_ledger: OpenLedger) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands() + funding_commands())
    with ledger.backend.read() as session:
        assert session.tracking_position(VIEWS_TRACKING_NAME) == session.max_notification_id() > 0


def test_a_read_sees_every_event_committed_before_it_began(
    open_ledger: OpenLedger, database_url: str, tmp_path: Path
) -> None:
    writer = open_ledger()
    writer.submit(setup_commands() + funding_commands())
    reader = Sandbox.at(tmp_path / "home", database_url).open_reader()
    try:
        before = {(b.account, b.asset): b.amount_minor for b in reader.balances()}
        writer.submit([Deposit(key="after", client_id="alesia", asset="BYN", amount="1.00", reference="r")])
        after = {(b.account, b.asset): b.amount_minor for b in reader.balances()}
    finally:
        reader.close()
    assert after["client:alesia", "BYN"] == before["client:alesia", "BYN"] + 100


def test_a_read_only_transaction_refuses_to_write(open_ledger: OpenLedger) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands())
    with pytest.raises(Exception, match=r"(?i)read.?only"), ledger.backend.read() as session:
        session.fetchall("INSERT INTO view_ledger_time VALUES (2, 'x')")


def test_a_read_needs_no_signing_key_and_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    home = tmp_path / "sandbox"
    assert run_ledger("init", "--home", str(home), "--sandbox-key").returncode == 0
    shutil.rmtree(home / "keys")  # nothing a read does may need the key
    writer = sqlite3.connect(home / "ledger.sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a writer's batch, holding the write lock
    writer.execute("INSERT INTO ledger_store VALUES ('held-by', 'a writer')")
    try:
        for args in (["balances", "--json"], ["report", "compliance", "--json"], ["venues", "list", "--json"]):
            result = run_ledger(*args, "--home", str(home))
            assert result.returncode == 0, (args, result.stderr)
    finally:
        writer.rollback()
        writer.close()


def test_views_the_write_path_applies_from_its_own_events_equal_views_rebuilt_from_the_log(
    open_ledger: OpenLedger,
) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands() + funding_commands())
    for start in range(0, 30, 6):
        ledger.submit(deposits(start))
    live = view_digests(ledger.backend)
    ledger.projector.rebuild()
    assert view_digests(ledger.backend) == live


def test_views_left_behind_are_caught_up_from_the_log_by_the_next_batch(open_ledger: OpenLedger) -> None:
    ledger = open_ledger()
    ledger.submit(setup_commands() + funding_commands())
    expected = view_digests(ledger.backend)
    ledger.projector.clear()  # as an older release, or an interrupted rebuild, leaves them
    ledger.submit(deposits(100))
    with ledger.backend.read() as session:
        assert session.tracking_position(VIEWS_TRACKING_NAME) == session.max_notification_id()
    caught_up = view_digests(ledger.backend)
    assert caught_up != expected  # the deposits are in
    ledger.projector.rebuild()
    assert view_digests(ledger.backend) == caught_up


def deposits(start: int) -> list[Deposit]:
    return [
        Deposit(key=f"dep-{n}", client_id="alesia", asset="BYN", amount="1.00", reference=f"r{n}")
        for n in range(start, start + 6)
    ]
