"""`ledger audit verify --policy` and `verify-proof --policy`: a C2SP trust policy from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.acceptance.cli import ledger, witness_serving, write_batch


def demo_home(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "bank"
    assert ledger("demo", "--home", str(home)).returncode == 0
    return home, ledger("audit", "key", "--home", str(home)).stdout.strip()


def witness_init(home: Path, name: str) -> str:
    made = ledger("audit", "witness-init", "--witness-home", str(home), "--name", name, "--sandbox-key")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip().removeprefix("witness key: ")


def write_policy(path: Path, log_key: str, witnesses: dict[str, str], quorum_lines: str) -> Path:
    """A policy file as a supervisor writes one: a comment, the log, the witnesses, then the quorum."""
    lines = ["# the supervisor's policy for the bank's log", f"log {log_key}", ""]
    lines += [f"witness {name}\t{key}" for name, key in witnesses.items()]
    path.write_text("\n".join(lines) + "\n" + quorum_lines)
    return path


def latest_size(bundle: Path) -> int:
    return max(int(path.name) for path in bundle.glob("checkpoints/*"))


def test_a_bundle_cosigned_by_the_quorum_verifies_with_the_policy_alone_and_one_signer_short_fails_naming_them(
    tmp_path: Path,
) -> None:
    home, key = demo_home(tmp_path)
    witnesses = {name: witness_init(tmp_path / name, f"{name.lower()}.example/witness") for name in ("A", "B", "C")}
    policy = write_policy(tmp_path / "policy", key, witnesses, "group two-of-three 2 A B C\nquorum two-of-three\n")
    bundle = tmp_path / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0

    # One witness cosigns: the quorum is not met, and the finding says who signed and who did not.
    assert ledger("audit", "cosign", str(bundle), "--key", key, "--witness-home", str(tmp_path / "A")).returncode == 0
    short = ledger("audit", "verify", str(bundle), "--policy", str(policy))
    assert short.returncode == 1
    assert short.stderr.strip() == (
        f"FAIL checkpoint {latest_size(bundle)}: the policy's quorum 'two-of-three' is not met: "
        "valid cosignatures by 'A'; no cosignature by 'B', 'C'"
    )
    as_json = json.loads(ledger("audit", "verify", str(bundle), "--policy", str(policy), "--json").stdout)
    assert as_json["verified"] is False
    assert [finding["subject"] for finding in as_json["findings"]] == [f"checkpoint {latest_size(bundle)}"]

    # A second witness cosigns: two of three, the quorum holds, with or without the key beside the policy.
    assert ledger("audit", "cosign", str(bundle), "--key", key, "--witness-home", str(tmp_path / "B")).returncode == 0
    verified = ledger("audit", "verify", str(bundle), "--policy", str(policy), "--json")
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout) == {"verified": True, "findings": []}
    assert ledger("audit", "verify", str(bundle), "--policy", str(policy), "--key", key).returncode == 0


def test_a_policy_whose_log_key_is_another_banks_fails_and_so_does_a_key_the_policy_does_not_list(
    tmp_path: Path,
) -> None:
    home, key = demo_home(tmp_path)
    _, other_key = demo_home(tmp_path / "other")  # the same origin, another key
    bundle = tmp_path / "bundle"
    assert ledger("audit", "export", str(bundle), "--home", str(home)).returncode == 0
    policy = write_policy(tmp_path / "policy", other_key, {}, "quorum none\n")
    refused = ledger("audit", "verify", str(bundle), "--policy", str(policy))
    assert refused.returncode == 1
    assert f"FAIL checkpoint {latest_size(bundle)}: not signed by the policy's log" in refused.stderr
    beside = ledger("audit", "verify", str(bundle), "--policy", str(policy), "--key", key)
    assert beside.returncode == 1
    assert "is not one of the policy's logs" in beside.stderr
    assert ledger("audit", "verify", str(bundle), "--policy", str(policy), "--key", other_key).returncode == 1


@pytest.mark.parametrize(
    ("quorum_lines", "line", "reason"),
    [
        ("quorum W\n", 4, "the quorum 'W' is not a witness or group defined on a line above"),
        ("group g 3 none\nquorum g\n", 4, "threshold"),
        ("quorum none\r\n", 4, "octet 0x0D (a carriage return"),
        ("quorum none\nquorum none\n", 5, "a second quorum line"),
        ("", None, "no quorum line"),
    ],
)
def test_a_malformed_policy_is_one_line_naming_its_line_and_a_usage_error(
    tmp_path: Path, quorum_lines: str, line: int | None, reason: str
) -> None:
    _, key = demo_home(tmp_path)
    policy = write_policy(tmp_path / "policy", key, {}, quorum_lines)
    for command in (("verify", str(tmp_path)), ("verify-proof", str(tmp_path / "no-proof"))):
        result = ledger("audit", *command, "--policy", str(policy))
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        where = f"{policy}: line {line}: " if line else f"{policy}: "
        assert result.stderr.startswith(f"error: {where}"), result.stderr
        assert reason in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_verify_needs_a_key_or_a_policy(tmp_path: Path) -> None:
    for command in ("verify", "verify-proof"):
        result = ledger("audit", command, str(tmp_path))
        assert result.returncode == 2
        assert "give the bank's verifier key with --key, or a --policy file listing it" in result.stderr


ASSET = {"type": "register_asset", "key": "byn", "code": "BYN", "scale": 2, "kind": "fiat"}
CLIENT = {"type": "onboard_client", "key": "c", "client_id": "alesia", "name": "Alesia", "residency": "resident",
          "kind": "individual"}  # fmt: skip


@pytest.mark.slow
def test_witnesses_serving_the_bank_cosign_its_checkpoints_and_a_proof_and_a_bundle_meet_the_policy(
    tmp_path: Path,
) -> None:
    keys = {name: witness_init(tmp_path / name, f"{name.lower()}.example/witness") for name in ("A", "B", "C")}
    bank = tmp_path / "bank"
    assert ledger("init", "--home", str(bank), "--sandbox-key", "--checkpoint-every-events", "1").returncode == 0
    bank_key = (bank / "keys" / "verifier-key.txt").read_text().strip()
    both = write_policy(tmp_path / "both", bank_key, keys, "group A-and-B all A B\nquorum A-and-B\n")
    all_three = write_policy(tmp_path / "all-three", bank_key, keys, "group every all A B C\nquorum every\n")
    with witness_serving(tmp_path / "A", bank_key) as a_url, witness_serving(tmp_path / "B", bank_key) as b_url:
        for url, name in ((a_url, "A"), (b_url, "B")):
            assert ledger("audit", "witness", "add", url, keys[name], "--home", str(bank)).returncode == 0
        batch = write_batch(tmp_path / "batch.jsonl", ASSET, CLIENT)
        submitted = ledger("submit", str(batch), "--home", str(bank))  # signs a checkpoint, which A and B cosign
        assert submitted.returncode == 0, submitted.stderr
        assert "did not cosign" not in submitted.stderr
        proof = tmp_path / "leaf.tlog-proof"
        assert ledger("audit", "prove", "--index", "1", "--out", str(proof), "--home", str(bank)).returncode == 0
        bundle = tmp_path / "bundle"
        assert ledger("audit", "export", str(bundle), "--home", str(bank)).returncode == 0

    # A and B cosigned as the bank signed: the proof and the bundle meet a quorum of both ...
    checked = ledger("audit", "verify-proof", str(proof), "--policy", str(both), "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["leaf"]["index"] == 1
    assert ledger("audit", "verify", str(bundle), "--policy", str(both)).returncode == 0

    # ... but not one that needs C as well, which never saw the log.
    short = ledger("audit", "verify-proof", str(proof), "--policy", str(all_three))
    assert short.returncode == 1
    assert "quorum 'every' is not met: valid cosignatures by 'A', 'B'" in short.stderr
    assert "no cosignature by 'C'" in short.stderr
    assert ledger("audit", "verify", str(bundle), "--policy", str(all_three)).returncode == 1
