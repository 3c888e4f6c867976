"""The audit bundle: a clean export verifies, and every kind of tampering is caught."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.commands import BaseCommand, Deposit, Withdraw
from ledger import Ledger, ManualClock, Sandbox
from ledger.audit.bundle import ExportError, export_bundle
from ledger.audit.notes import Note, Signer, sign
from ledger.audit.proofs import leaf_proof, verify_leaf_proof
from ledger.audit.verify import Finding, verify_bundle
from ledger.projections import ViewDecoder
from ledger.replay import replay_bundle
from ledger.store.ports import StoreLocation
from ledger.store.schema import open_store
from tests.world import LEDGER_TIME, funding_commands, setup_commands, trading_commands

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def sandbox_with_history(home: Path) -> Sandbox:
    sandbox = Sandbox.at(home)
    sandbox.init(allow_unencrypted_key=True, ledger_clock=ManualClock(LEDGER_TIME))
    with sandbox.open(auto_checkpoint=False) as ledger:
        commands = setup_commands()[1:] + funding_commands() + trading_commands()
        for start in range(0, len(commands), 5):
            ledger.submit(commands[start : start + 5])
            ledger.audit.checkpoint(sandbox.signer(), NOW)
    return sandbox


def export(sandbox: Sandbox, directory: Path, since: str | None = None) -> Path:
    with sandbox.open(auto_checkpoint=False) as ledger:
        export_bundle(ledger.audit, sandbox.signer(), directory, NOW, since=since)
    return directory


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("home")
    sandbox = sandbox_with_history(home)
    return export(sandbox, tmp_path_factory.mktemp("b") / "bundle"), sandbox.verifier_key()


@pytest.fixture
def copy(bundle: tuple[Path, str], tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle[0], tmp_path / "copy"))


def lines(bundle: Path) -> list[bytes]:
    return (bundle / "events.jsonl").read_bytes().splitlines(keepends=True)


def write_lines(bundle: Path, new: list[bytes]) -> None:
    (bundle / "events.jsonl").write_bytes(b"".join(new))


def subjects(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in findings)


def test_a_clean_bundle_verifies(bundle: tuple[Path, str]) -> None:
    directory, key = bundle
    assert verify_bundle(directory, key) == []
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["tree_size"] == len(lines(directory))
    assert len(manifest["checkpoints"]) >= 3
    assert len(manifest["proofs"]) == len(manifest["checkpoints"]) - 1


def test_an_edited_event_is_caught_at_the_next_checkpoint(copy: Path, bundle: tuple[Path, str]) -> None:
    leaves = lines(copy)
    original = leaves[7]
    leaves[7] = (
        leaves[7].replace(b'"Alesia"', b'"Mallory"')
        if b'"Alesia"' in leaves[7]
        else leaves[7].replace(b'"version":1', b'"version":9')
    )
    assert leaves[7] != original
    write_lines(copy, leaves)
    found = subjects(verify_bundle(copy, bundle[1]))
    assert "its root differs from the root of the leaves" in found


def test_a_deleted_event_is_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    leaves = lines(copy)
    write_lines(copy, leaves[:3] + leaves[4:])
    found = subjects(verify_bundle(copy, bundle[1]))
    assert "leaf 3 (line 4): its index is 4" in found


def test_an_inserted_event_is_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    leaves = lines(copy)
    write_lines(copy, [*leaves[:5], leaves[5], *leaves[5:]])
    found = subjects(verify_bundle(copy, bundle[1]))
    assert "leaf 6 (line 7): its index is 5" in found


def test_reordered_events_are_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    leaves = lines(copy)
    leaves[2], leaves[3] = leaves[3], leaves[2]
    write_lines(copy, leaves)
    assert "leaf 2 (line 3): its index is 3" in subjects(verify_bundle(copy, bundle[1]))


def test_a_non_canonical_leaf_is_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    leaves = lines(copy)
    leaves[1] = leaves[1].replace(b'{"data":', b'{ "data":', 1)
    write_lines(copy, leaves)
    assert "leaf 1 (line 2): not in canonical RFC 8785 form" in subjects(verify_bundle(copy, bundle[1]))


def test_a_checkpoint_signed_by_another_key_is_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    size = json.loads((copy / "manifest.json").read_text())["checkpoints"][1]
    note = Note.parse((copy / "checkpoints" / str(size)).read_text())
    forger = Signer(note.signatures[0][0], Ed25519PrivateKey.generate())
    (copy / "checkpoints" / str(size)).write_text(sign(note.text, [forger]))
    assert f"checkpoint {size}: not signed by the given key" in subjects(verify_bundle(copy, bundle[1]))


def test_a_bundle_checked_with_another_key_fails_everywhere(bundle: tuple[Path, str]) -> None:
    other = Signer("zubr-crypto-bank.example/ledger", Ed25519PrivateKey.generate()).verifier.encode()
    assert "not signed by the given key" in subjects(verify_bundle(bundle[0], other))


def test_a_manifest_that_disagrees_with_the_leaves_is_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tree_size"] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    found = subjects(verify_bundle(copy, bundle[1]))
    assert "manifest: tree_size" in found


def test_a_tampered_proof_is_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    name = json.loads((copy / "manifest.json").read_text())["proofs"][0]
    proof = json.loads((copy / "proofs" / name).read_text())
    proof["proof"] = list(reversed(proof["proof"])) if len(proof["proof"]) > 1 else [proof["root2"]]
    (copy / "proofs" / name).write_text(json.dumps(proof))
    assert f"proof {name}: does not verify" in subjects(verify_bundle(copy, bundle[1]))


def test_a_missing_proof_is_caught(copy: Path, bundle: tuple[Path, str]) -> None:
    name = json.loads((copy / "manifest.json").read_text())["proofs"][0]
    (copy / "proofs" / name).unlink()
    assert f"proof {name}: missing" in subjects(verify_bundle(copy, bundle[1]))


def truncated(copy: Path) -> None:
    """What a bank hiding its last events would send: an earlier bundle."""
    manifest = json.loads((copy / "manifest.json").read_text())
    keep = manifest["checkpoints"][-2]
    for size in manifest["checkpoints"][-1:]:
        (copy / "checkpoints" / str(size)).unlink()
    for name in manifest["proofs"][-1:]:
        (copy / "proofs" / name).unlink()
    write_lines(copy, lines(copy)[:keep])
    shutil.rmtree(copy / "tiles")  # (they would tell the whole story: a bank hiding events leaves them out)
    manifest.update(tree_size=keep, checkpoints=manifest["checkpoints"][:-1], proofs=manifest["proofs"][:-1])
    (copy / "manifest.json").write_text(json.dumps(manifest))


def test_a_truncated_log_is_caught_against_a_trusted_checkpoint(copy: Path, bundle: tuple[Path, str]) -> None:
    latest = json.loads((copy / "manifest.json").read_text())["checkpoints"][-1]
    trusted = (copy / "checkpoints" / str(latest)).read_text()
    truncated(copy)
    assert verify_bundle(copy, bundle[1]) == []  # consistent in itself...
    found = subjects(verify_bundle(copy, bundle[1], trusted=trusted))
    assert "trusted checkpoint: it covers" in found
    assert "truncated" in found


def test_a_forked_history_is_caught_against_a_trusted_checkpoint(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    shutil.copytree(tmp_path / "bank", tmp_path / "fork")
    fork = Sandbox.at(tmp_path / "fork")
    # The bank shows the supervisor one continuation...
    with sandbox.open(auto_checkpoint=False) as ledger:
        ledger.submit([Deposit(key="honest", client_id="nord", asset="BYN", amount="5", reference="r")])
        seen = ledger.audit.checkpoint(sandbox.signer(), NOW).note
    # ...and exports another, signed with the same key.
    with fork.open(auto_checkpoint=False) as ledger:
        ledger.submit([Withdraw(key="hidden", client_id="nord", asset="BYN", amount="5", reference="r")])
    forked = export(fork, tmp_path / "forked")
    assert verify_bundle(forked, sandbox.verifier_key()) == []
    found = subjects(verify_bundle(forked, sandbox.verifier_key(), trusted=seen))
    assert "trusted checkpoint: the bundle's tree at size" in found
    assert "forked history" in found


def test_an_incremental_export_extends_the_supervisors_checkpoint(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    first = export(sandbox, tmp_path / "first")
    size = json.loads((first / "manifest.json").read_text())["tree_size"]
    trusted = (first / "checkpoints" / str(size)).read_text()
    with sandbox.open(auto_checkpoint=False) as ledger:
        more: list[BaseCommand] = [
            Deposit(key=f"later-{n}", client_id="nord", asset="BYN", amount="1", reference="r") for n in range(7)
        ]
        ledger.submit(more)
    second = export(sandbox, tmp_path / "second", since=trusted)
    manifest = json.loads((second / "manifest.json").read_text())
    assert (manifest["first_index"], manifest["tree_size"]) == (size, size + 7)
    assert len(lines(second)) == 7
    assert verify_bundle(second, sandbox.verifier_key(), trusted=trusted) == []
    forged = tmp_path / "forged"
    shutil.copytree(second, forged)
    edited = lines(forged)
    tampered = edited[0].replace(b'"amount_minor":"100"', b'"amount_minor":"900"')
    assert tampered != edited[0]
    edited[0] = tampered
    write_lines(forged, edited)
    assert verify_bundle(forged, sandbox.verifier_key(), trusted=trusted) != []


def test_export_refuses_a_directory_in_use_and_a_foreign_checkpoint(tmp_path: Path, bundle: tuple[Path, str]) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    with pytest.raises(ExportError, match="not an empty directory"):
        export(sandbox, bundle[0])
    foreign = bundle[0] / "checkpoints" / str(json.loads((bundle[0] / "manifest.json").read_text())["tree_size"])
    with pytest.raises(ExportError, match="does not verify"):
        export(sandbox, tmp_path / "x", since=foreign.read_text())


def test_one_transaction_is_proven_against_a_signed_checkpoint(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    with sandbox.open(auto_checkpoint=False) as ledger:
        checkpoint = ledger.audit.checkpoint(sandbox.signer(), NOW)
        documents = [leaf_proof(ledger.audit, index, checkpoint) for index in (0, 5, checkpoint.size - 1)]
    for document in documents:
        assert verify_leaf_proof(document, sandbox.verifier_key())["index"] == document["index"]
    forged = dict(documents[1], leaf=documents[1]["leaf"].replace('"version":1', '"version":2'))
    with pytest.raises(ValueError, match="different root"):
        verify_leaf_proof(forged, sandbox.verifier_key())


def test_sqlite_and_postgres_give_identical_leaves_and_roots(
    tmp_path: Path, postgres_url: str, open_ledger: Callable[..., Ledger]
) -> None:
    del open_ledger  # the PostgreSQL fixture is enough
    results = []
    for url in (f"sqlite:///{tmp_path / 'ledger.sqlite'}", postgres_url):
        clock = ManualClock(LEDGER_TIME, step=timedelta(seconds=1))
        with Ledger.open(home=tmp_path, database_url=url, clock=clock, ledger_clock=clock, create=True) as ledger:
            commands = setup_commands() + funding_commands() + trading_commands()
            ledger.submit(commands[:9])
            ledger.submit(commands[9:])
            ledger.audit.catch_up()
            tree = ledger.audit.tree()
            results.append((tree.size, tree.root(), list(ledger.audit.leaves(0, tree.size))))
    assert results[0] == results[1]


def test_metadata_is_signed_in_the_leaves_and_a_replay_from_the_bundle_gives_it_back(tmp_path: Path) -> None:
    sandbox = sandbox_with_history(tmp_path / "bank")
    tagged = Deposit(
        key="tagged", client_id="alesia", asset="BYN", amount="1", reference="r", metadata={"order": "A-1"}
    )
    with sandbox.open(auto_checkpoint=False) as ledger:
        ledger.submit([tagged])
    bundle = export(sandbox, tmp_path / "bundle")
    assert verify_bundle(bundle, sandbox.verifier_key()) == []
    leaves = [json.loads(line) for line in lines(bundle)]
    assert [leaf["data"]["metadata"] for leaf in leaves if "metadata" in leaf["data"]] == [{"order": "A-1"}]
    target = open_store(StoreLocation(sqlite_path=tmp_path / "replica" / "ledger.sqlite"), create=True)
    replay_bundle(bundle, sandbox.verifier_key(), target, ViewDecoder(target.mapper))
    with sandbox.open(auto_checkpoint=False) as ledger:
        assert [entry.state for entry in target.notifications_after(0, 10_000)] == [
            entry.state for entry in ledger.backend.notifications_after(0, 10_000)
        ]
    target.close()
