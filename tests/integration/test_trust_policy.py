"""A bundle verified under a C2SP trust policy: the policy's log signs it, its quorum of real witnesses cosigns it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger import Sandbox
from ledger.audit.notes import Note, Verifier
from ledger.audit.policy import Policy
from ledger.audit.verify import verify_bundle
from ledger.audit.witness import Witness
from tests.integration.test_audit_bundle import export, sandbox_with_history

WITNESSES = ("X1", "X2", "X3", "Y1", "Y2", "Y3")
ORIGIN = "zubr-crypto-bank.example/ledger"


@dataclass(frozen=True)
class Supervised:
    """A bank's exported bundle (not cosigned yet) and six witnesses of two organisations."""

    sandbox: Sandbox
    bundle: Path
    witnesses: dict[str, Witness]

    @property
    def key(self) -> str:
        return self.sandbox.verifier_key()

    def witness_line(self, name: str) -> str:
        return f"witness {name} {self.witnesses[name].verifier().encode()}\n"

    def spec_example(self, log_key: str | None = None) -> Policy:
        """The spec's example policy: two of the X witnesses and one of the Y witnesses."""
        text = f"log {log_key or self.key}\n\n"
        text += "".join(self.witness_line(name) for name in WITNESSES[:3]) + "group X-witnesses 2 X1 X2 X3\n\n"
        text += "".join(self.witness_line(name) for name in WITNESSES[3:]) + "group Y-witnesses any Y1 Y2 Y3\n\n"
        text += "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n"
        return Policy.parse(text.encode())

    def cosigned_by(self, names: list[str], directory: Path) -> Path:
        """A copy of the bundle whose latest checkpoint the named witnesses cosigned, each as a witness does."""
        copy = Path(shutil.copytree(self.bundle, directory))
        for name in names:
            self.witnesses[name].cosign_bundle(copy, self.key)
        return copy


@pytest.fixture(scope="module")
def supervised(tmp_path_factory: pytest.TempPathFactory) -> Supervised:
    root = tmp_path_factory.mktemp("supervised")
    sandbox = sandbox_with_history(root / "bank")
    witnesses = {}
    for name in WITNESSES:
        witnesses[name] = Witness(root / name)
        witnesses[name].init(f"{name.lower()}.example/witness", allow_unencrypted_key=True)
    return Supervised(sandbox, export(sandbox, root / "bundle"), witnesses)


def latest_of(bundle: Path) -> Path:
    return max(bundle.glob("checkpoints/*"), key=lambda path: int(path.name))


def findings_of(bundle: Path, policy: Policy, trusted: bytes | None = None) -> list[str]:
    """The findings of verifying under the policy alone, no key given."""
    return [str(finding) for finding in verify_bundle(bundle, None, policy=policy, trusted=trusted)]


def test_two_x_witnesses_and_one_y_witness_meet_the_spec_example_quorum(supervised: Supervised, tmp_path: Path) -> None:
    bundle = supervised.cosigned_by(["X1", "X3", "Y2"], tmp_path / "b")
    assert findings_of(bundle, supervised.spec_example()) == []


def test_one_x_witness_and_every_y_witness_do_not_and_the_finding_names_who_signed(
    supervised: Supervised, tmp_path: Path
) -> None:
    bundle = supervised.cosigned_by(["X1", "Y1", "Y2", "Y3"], tmp_path / "b")
    assert findings_of(bundle, supervised.spec_example()) == [
        f"checkpoint {latest_of(bundle).name}: the policy's quorum 'X-and-Y' is not met: "
        "valid cosignatures by 'X1', 'Y1', 'Y2', 'Y3'; "
        "no cosignature by 'X2', 'X3'"
    ]


def test_an_uncosigned_bundle_does_not_meet_the_quorum(supervised: Supervised) -> None:
    (finding,) = findings_of(supervised.bundle, supervised.spec_example())
    assert "quorum 'X-and-Y' is not met: valid cosignatures by none" in finding


def test_a_cosignature_that_does_not_verify_counts_as_absent(supervised: Supervised, tmp_path: Path) -> None:
    bundle = supervised.cosigned_by(["X1", "X2", "Y1"], tmp_path / "b")
    path = latest_of(bundle)
    note = Note.parse(path.read_text())
    x2 = supervised.witnesses["X2"].verifier().name
    broken = tuple(
        (name, blob[:-1] + bytes([blob[-1] ^ 1])) if name == x2 else (name, blob) for name, blob in note.signatures
    )
    path.write_text(Note(note.text, broken).encode())
    (finding,) = findings_of(bundle, supervised.spec_example())
    assert "by 'X1', 'Y1'; cosignatures that do not verify by 'X2'; no cosignature by 'X3'" in finding


def test_a_cosignature_by_a_key_the_policy_does_not_list_is_ignored(supervised: Supervised, tmp_path: Path) -> None:
    bundle = supervised.cosigned_by(["X1", "X2", "Y1"], tmp_path / "b")
    policy = Policy.parse(
        f"log {supervised.key}\n{supervised.witness_line('X1')}{supervised.witness_line('Y3')}"
        "group both all X1 Y3\nquorum both\n".encode()
    )
    (finding,) = findings_of(bundle, policy)
    assert "valid cosignatures by 'X1'; no cosignature by 'Y3'" in finding


def test_quorum_none_verifies_a_bundle_without_cosignatures(supervised: Supervised) -> None:
    assert findings_of(supervised.bundle, Policy.parse(f"log {supervised.key}\nquorum none\n".encode())) == []


def test_the_trusted_checkpoint_must_meet_the_quorum_too(supervised: Supervised, tmp_path: Path) -> None:
    bundle = supervised.cosigned_by(["X1", "X2", "Y1"], tmp_path / "b")
    cosigned = latest_of(bundle).read_bytes()
    assert findings_of(bundle, supervised.spec_example(), trusted=cosigned) == []
    earliest = min(bundle.glob("checkpoints/*"), key=lambda path: int(path.name)).read_bytes()
    findings = findings_of(bundle, supervised.spec_example(), trusted=earliest)
    assert [finding.split(":")[0] for finding in findings] == ["trusted checkpoint"]
    assert "quorum 'X-and-Y' is not met" in findings[0]


def test_a_policy_whose_log_is_another_key_refuses_every_checkpoint(supervised: Supervised, tmp_path: Path) -> None:
    other = sandbox_with_history(tmp_path / "other-bank")  # the same origin, another key
    bundle = supervised.cosigned_by(["X1", "X2", "Y1"], tmp_path / "b")
    findings = findings_of(bundle, supervised.spec_example(log_key=other.verifier_key()))
    assert findings[-1] == "checkpoints: the bundle has no valid checkpoint"
    assert all("not signed by the policy's log" in finding for finding in findings[:-1])
    assert len(findings) == len(list(bundle.glob("checkpoints/*"))) + 1


def test_a_policy_with_no_log_named_after_the_bundles_origin_says_so(supervised: Supervised) -> None:
    renamed = Policy.parse(f"log {rename(supervised.key, 'another.example/ledger')}\nquorum none\n".encode())
    assert findings_of(supervised.bundle, renamed) == [
        f"manifest: origin '{ORIGIN}' is the key name of no log of the policy (its logs: another.example/ledger)"
    ]


def test_a_key_given_beside_a_policy_must_be_one_of_its_logs(supervised: Supervised, tmp_path: Path) -> None:
    other = sandbox_with_history(tmp_path / "other-bank")
    policy = Policy.parse(f"log {supervised.key}\nquorum none\n".encode())
    assert verify_bundle(supervised.bundle, supervised.key, policy=policy) == []
    (finding,) = verify_bundle(supervised.bundle, other.verifier_key(), policy=policy)
    assert "is not one of the policy's logs" in str(finding)


def test_every_log_of_the_policy_named_after_the_origin_is_accepted(supervised: Supervised, tmp_path: Path) -> None:
    other = sandbox_with_history(tmp_path / "other-bank")  # listed first: the bank's own key is not the only one pinned
    policy = Policy.parse(f"log {other.verifier_key()}\nlog {supervised.key}\nquorum none\n".encode())
    assert findings_of(supervised.bundle, policy) == []


def rename(vkey: str, name: str) -> str:
    """The same public key under another key name (and so another key id)."""
    verifier = Verifier.parse(vkey)
    return Verifier(name, verifier.algorithm, verifier.public_key).encode()
