"""What a rejected command leaves behind on disk, and events encrypted at rest."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher

from domain.commands import Deposit, Transfer
from domain.errors import BatchRejected
from ledger import Ledger
from tests.world import funding_commands, setup_commands


def digest_of(folder: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.name.startswith("ledger.sqlite")
    }


def test_a_refused_batch_leaves_the_sqlite_files_byte_identical(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    with Ledger.open(home=tmp_path, database_url=url, create=True) as ledger:
        ledger.submit(setup_commands() + funding_commands())
    before = digest_of(tmp_path)
    with Ledger.open(home=tmp_path, database_url=url, create=True) as ledger, pytest.raises(BatchRejected):
        ledger.submit(
            [
                Transfer(key="fine", source_client_id="alesia", target_client_id="nord", asset="BYN", amount="1"),
                Deposit(key="bad", client_id="nobody", asset="BYN", amount="1", reference="r"),
            ]
        )
    assert digest_of(tmp_path) == before


def test_events_can_be_encrypted_at_rest_with_aes_gcm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIPHER_TOPIC", "eventsourcing.cryptography:AESCipher")
    monkeypatch.setenv("CIPHER_KEY", AESCipher.create_key(32))
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(home=tmp_path, database_url=f"sqlite:///{path}", create=True) as ledger:
        ledger.submit(setup_commands() + funding_commands())
        balances = ledger.balances()
    connection = sqlite3.connect(path)
    states = [row[0] for row in connection.execute("SELECT state FROM stored_events")]
    connection.close()
    assert not any(b"alesia" in state for state in states)
    with Ledger.open(home=tmp_path, database_url=f"sqlite:///{path}", create=True) as reopened:
        assert reopened.balances() == balances
