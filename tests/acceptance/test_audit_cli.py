"""The audit trail from the command line: export, verify offline, prove one event."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from pathlib import Path

from tests.acceptance.cli import ledger


def demo_home(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    key = ledger("audit", "key", "--home", str(home)).stdout.strip()
    return home, key


def test_the_supervisor_verifies_an_exported_bundle_and_catches_an_edit(tmp_path: Path) -> None:
    home, key = demo_home(tmp_path)
    bundle = tmp_path / "bundle"
    exported = ledger("audit", "export", str(bundle), "--home", str(home))
    assert exported.returncode == 0, exported.stderr
    verified = ledger("audit", "verify", str(bundle), "--key", key, "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout) == {"verified": True, "findings": []}
    original = (bundle / "events.jsonl").read_bytes()
    events = original.replace(b'"amount_minor":"500000"', b'"amount_minor":"900000"', 1)
    assert events != original
    (bundle / "events.jsonl").write_bytes(events)
    failed = ledger("audit", "verify", str(bundle), "--key", key)
    assert failed.returncode == 1
    assert "FAIL checkpoint" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_verification_needs_no_sandbox_and_refuses_a_wrong_key(tmp_path: Path) -> None:
    home, key = demo_home(tmp_path)
    bundle = tmp_path / "bundle"
    ledger("audit", "export", str(bundle), "--home", str(home))
    _, other_key = demo_home(tmp_path / "other")
    shutil.rmtree(home)  # no database, no keys, no project state: only the bundle and the pinned key
    assert ledger("audit", "verify", str(bundle), "--key", key).returncode == 0
    result = ledger("audit", "verify", str(bundle), "--key", other_key)
    assert result.returncode == 1
    assert "not signed by the given key" in result.stderr
    malformed = ledger("audit", "verify", str(bundle), "--key", "not-a-key")
    assert malformed.returncode == 1
    assert "key" in malformed.stderr


def test_an_incremental_export_verifies_against_the_last_checkpoint(tmp_path: Path) -> None:
    home, key = demo_home(tmp_path)
    ledger("audit", "export", str(tmp_path / "first"), "--home", str(home))
    manifest = json.loads((tmp_path / "first" / "manifest.json").read_text())
    trusted = tmp_path / "first" / "checkpoints" / str(manifest["tree_size"])
    batch = tmp_path / "more.jsonl"
    batch.write_text(
        json.dumps(
            {
                "type": "deposit",
                "key": "late",
                "client_id": "alesia",
                "asset": "BYN",
                "amount": "1.00",
                "reference": "r",
            }
        )
        + "\n"
    )
    assert ledger("submit", str(batch), "--home", str(home)).returncode == 0
    exported = ledger("audit", "export", str(tmp_path / "second"), "--since", str(trusted), "--home", str(home))
    assert exported.returncode == 0, exported.stderr
    result = ledger("audit", "verify", str(tmp_path / "second"), "--key", key, "--trusted", str(trusted))
    assert result.returncode == 0, result.stderr


def test_one_event_is_proven_and_checked_offline(tmp_path: Path) -> None:
    home, key = demo_home(tmp_path)
    proof = tmp_path / "proof.json"
    made = ledger("audit", "prove", "--index", "5", "--out", str(proof), "--home", str(home))
    assert made.returncode == 0, made.stderr
    checked = ledger("audit", "verify-proof", str(proof), "--key", key, "--json")
    assert checked.returncode == 0, checked.stderr
    leaf = json.loads(checked.stdout)["leaf"]
    by_stream = tmp_path / "by-stream.json"
    made = ledger(
        "audit",
        "prove",
        "--stream",
        leaf["stream"],
        "--version",
        str(leaf["version"]),
        "--out",
        str(by_stream),
        "--format",
        "json",
        "--home",
        str(home),
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(by_stream.read_text())["index"] == 5
    assert ledger("audit", "verify-proof", str(by_stream), "--key", key).returncode == 0
    unbounded = by_stream.read_text().replace('"index": 5', '"index": Infinity', 1)
    by_stream.write_text(unbounded)
    infinite = ledger("audit", "verify-proof", str(by_stream), "--key", key)
    assert infinite.returncode == 1, infinite.stderr
    assert "Traceback" not in infinite.stderr
    document = json.loads(unbounded.replace('"index": Infinity', '"index": 5'))
    document["leaf"] = document["leaf"].replace('"index":5', '"index":6')
    by_stream.write_text(json.dumps(document))
    assert ledger("audit", "verify-proof", str(by_stream), "--key", key).returncode == 1


def test_a_tlog_proof_is_the_c2sp_text_format_and_any_change_to_it_fails(tmp_path: Path) -> None:
    home, key = demo_home(tmp_path)
    proof = tmp_path / "leaf.tlog-proof"
    assert ledger("audit", "prove", "--index", "5", "--out", str(proof), "--home", str(home)).returncode == 0
    text = proof.read_text()
    lines = text.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1].startswith("extra ")
    assert lines[2] == "index 5"
    assert base64.b64decode(lines[1].removeprefix("extra ")).startswith(b'{"data":')
    blank = lines.index("")
    assert all(len(base64.b64decode(line)) == 32 for line in lines[3:blank])
    assert ledger("audit", "verify-proof", str(proof), "--key", key).returncode == 0
    leaf = base64.b64decode(lines[1].removeprefix("extra "))
    forged = {
        "another leaf": text.replace(
            lines[1], "extra " + base64.b64encode(leaf.replace(b'"index":5', b'"index":6')).decode()
        ),
        "another index": text.replace("index 5\n", "index 6\n"),
        "a leading zero": text.replace("index 5\n", "index 05\n"),
        "CRLF": text.replace("\n", "\r\n"),
        "a proof hash changed": text.replace(lines[3], base64.b64encode(bytes(32)).decode()),
        "a proof hash dropped": text.replace(lines[3] + "\n", ""),
        "another header": text.replace("tlog-proof@v1", "tlog-proof@v2"),
    }
    for what, changed in forged.items():
        proof.write_text(changed)
        checked = ledger("audit", "verify-proof", str(proof), "--key", key)
        assert checked.returncode == 1, what
        assert "Traceback" not in checked.stderr, what


def test_audit_commands_on_an_uninitialised_home_are_one_clear_line(tmp_path: Path) -> None:
    result = ledger("audit", "key", "--home", str(tmp_path / "nothing"))
    assert result.returncode == 2
    assert "not initialised" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_supervisor_cosigns_and_then_requires_its_cosignature(tmp_path: Path) -> None:
    home, key = demo_home(tmp_path)
    witness = tmp_path / "witness"
    made = ledger(
        "audit", "witness-init", "--witness-home", str(witness), "--name", "nbrb.example/witness", "--sandbox-key"
    )
    assert made.returncode == 0, made.stderr
    witness_key = made.stdout.strip().removeprefix("witness key: ")
    bundle = tmp_path / "bundle"
    ledger("audit", "export", str(bundle), "--home", str(home))
    before = ledger("audit", "verify", str(bundle), "--key", key, "--witness-key", witness_key)
    assert before.returncode == 1
    cosigned = ledger("audit", "cosign", str(bundle), "--key", key, "--witness-home", str(witness))
    assert cosigned.returncode == 0, cosigned.stderr
    after = ledger("audit", "verify", str(bundle), "--key", key, "--witness-key", witness_key)
    assert after.returncode == 0, after.stderr


def test_rotate_key_prints_both_keys_and_old_bundles_still_verify(tmp_path: Path) -> None:
    home, old_key = demo_home(tmp_path)
    rotated = ledger("audit", "rotate-key", "--home", str(home), "--sandbox-key")
    assert rotated.returncode == 0, rotated.stderr
    new_key = ledger("audit", "key", "--home", str(home)).stdout.strip()
    assert new_key != old_key
    assert f"new key: {new_key}" in rotated.stdout
    bundle = tmp_path / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0
    assert ledger("audit", "verify", str(bundle), "--key", old_key).returncode == 0
    assert ledger("audit", "verify", str(bundle), "--key", new_key).returncode == 0


def test_a_refused_export_or_proof_signs_no_checkpoint(tmp_path: Path) -> None:
    home, _ = demo_home(tmp_path)
    bundle = tmp_path / "bundle"
    ledger("audit", "export", str(bundle), "--home", str(home))
    before = ledger("replay", "--home", str(home), "--json").stdout
    forged = tmp_path / "forged-checkpoint"
    forged.write_text("zubr-crypto-bank.example/ledger\n1\nAAAA\n\n\u2014 x AAAAAAA=\n")
    refused = ledger("audit", "export", str(tmp_path / "b2"), "--since", str(forged), "--home", str(home))
    assert refused.returncode == 2
    assert "does not verify" in refused.stderr
    far = ledger("audit", "prove", "--index", "100000", "--out", str(tmp_path / "p.json"), "--home", str(home))
    assert far.returncode == 2
    assert "not in the log" in far.stderr
    assert not (tmp_path / "b2").exists()
    assert ledger("replay", "--home", str(home), "--json").stdout == before
    connection = sqlite3.connect(home / "ledger.sqlite")
    (count,) = connection.execute("SELECT COUNT(*) FROM audit_checkpoints").fetchone()
    connection.close()
    assert count == len(list((bundle / "checkpoints").iterdir()))


def test_check_store_agrees_with_an_untouched_store_and_names_an_edited_event(tmp_path: Path) -> None:
    home, _ = demo_home(tmp_path)
    intact = ledger("audit", "check-store", "--home", str(home), "--json")
    assert intact.returncode == 0, intact.stderr
    report = json.loads(intact.stdout)
    assert report["intact"] is True
    assert report["difference"] is None
    assert report["leaves"] == report["events"] > 0
    with sqlite3.connect(home / "ledger.sqlite") as connection:  # as an insider: the guard dropped
        connection.execute("DROP TRIGGER stored_events_no_update")
        (rowid, state) = connection.execute(
            "SELECT rowid, state FROM stored_events WHERE topic LIKE '%FundsDeposited' LIMIT 1"
        ).fetchone()
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE rowid = ?",
            (state.replace(b'"reference":"', b'"reference":"x', 1), rowid),
        )
    tampered = ledger("audit", "check-store", "--home", str(home))
    assert tampered.returncode == 1
    assert tampered.stderr.startswith(f"FAIL leaf {rowid - 1} (event {rowid}): ")
    assert "Traceback" not in tampered.stderr
    as_json = json.loads(ledger("audit", "check-store", "--home", str(home), "--json").stdout)
    assert as_json["difference"]["subject"] == f"leaf {rowid - 1} (event {rowid})"
