"""Hostile bundles: the verifier reads only regular files inside the bundle,
within their limits, names every malformed part as a finding (never a
traceback), is as strict as Go's sumdb/note, and the commands that write into
a bundle never write through a link."""

from __future__ import annotations

import base64
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger import Sandbox
from ledger.audit.bundle import ExportError, export_bundle
from ledger.audit.notes import Checkpoint, Note, NoteError, Signer, Verifier, open_checkpoint, sign
from ledger.audit.verify import (
    CHECKPOINT_SIZE_MAX,
    LEAF_LINE_MAX,
    MANIFEST_SIZE_MAX,
    Finding,
    verify_bundle,
)
from ledger.audit.witness import Witness, WitnessError
from tests.bundles import NOW, RealBundle, export_real_bundle, reference_accepts

CLI_MEMORY_MAX = 512 << 20  # address space of a `ledger audit verify` process under test
CLI_SECONDS_MAX = 60


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealBundle:
    return export_real_bundle(tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("b") / "bundle")


@pytest.fixture
def copy(real: RealBundle, tmp_path: Path) -> Path:
    return Path(shutil.copytree(real.path, tmp_path / "copy"))


def found(bundle: Path, real: RealBundle, **options: str) -> str:
    findings = verify_bundle(bundle, real.key, **options)  # type: ignore[arg-type]
    assert all(isinstance(f, Finding) for f in findings)
    return "\n".join(str(f) for f in findings)


def manifest_of(bundle: Path) -> dict[str, object]:
    return dict(json.loads((bundle / "manifest.json").read_bytes()))


def checkpoint_sizes(bundle: Path) -> list[int]:
    return sorted(int(name) for name in os.listdir(bundle / "checkpoints"))


def latest_path(bundle: Path) -> Path:
    return bundle / "checkpoints" / str(checkpoint_sizes(bundle)[-1])


def resign(path: Path, text: str, signer: Signer) -> None:
    """The checkpoint file rewritten with a new body, validly signed by the bank."""
    path.write_bytes(sign(text, [signer]).encode())


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY_MAX, CLI_MEMORY_MAX))


def cli_verify(bundle: Path, key: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """`ledger audit verify` as a user runs it, with its address space and time bounded."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", "audit", "verify", str(bundle), "--key", key, *extra],
        capture_output=True,
        text=True,
        timeout=CLI_SECONDS_MAX,
        preexec_fn=limited,
        check=False,
    )


def test_the_real_bundle_verifies_and_the_reference_agrees(real: RealBundle) -> None:
    assert verify_bundle(real.path, real.key) == []
    assert reference_accepts(real.path, real.key)


# Malformed manifests: a finding, never a traceback.


@pytest.mark.parametrize("text", ["[]", "null", '"manifest"', "1", "{}", "", "\ufeff{}"])
def test_a_manifest_that_is_not_an_object_is_a_finding(copy: Path, real: RealBundle, text: str) -> None:
    (copy / "manifest.json").write_text(text, encoding="utf-8")
    assert "manifest: " in found(copy, real)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("first_index", "0"),
        ("first_index", 0.0),
        ("first_index", True),
        ("first_index", None),
        ("first_index", []),
        ("first_index", -1),
        ("first_index", 10**6),
        ("tree_size", "12"),
        ("tree_size", False),
        ("tree_size", 2**63),
        ("tree_size", -3),
        ("origin", 7),
        ("origin", ""),
        ("verifier_keys", "key"),
        ("verifier_keys", [1]),
        ("checkpoints", [5, 5]),
        ("checkpoints", ["5"]),
        ("checkpoints", {}),
        ("proofs", [1]),
        ("base_range", ["AAAA"]),
        ("base_range", "AAAA"),
        ("format", {"name": "crypto-bank-ledger/audit-bundle", "version": 2}),
        ("format", "v1"),
        ("exported_at", 1),
    ],
)
def test_a_manifest_field_of_the_wrong_type_or_range_is_a_finding(
    copy: Path, real: RealBundle, name: str, value: object
) -> None:
    manifest = manifest_of(copy)
    manifest[name] = value
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert f"manifest: '{name}' must be" in found(copy, real)


@pytest.mark.parametrize("name", ["format", "origin", "tree_size", "verifier_keys"])
def test_a_missing_manifest_field_is_a_finding(copy: Path, real: RealBundle, name: str) -> None:
    manifest = manifest_of(copy)
    del manifest[name]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert f"manifest: '{name}' must be" in found(copy, real)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"tree_size": ', b'"tree_size": ' + b"9" * 5000 + b', "x": '),  # Python's int/str digit limit
        (b'"first_index": 0', b'"first_index": NaN'),
        (b'"first_index": 0', b'"first_index": Infinity'),
        (b'"first_index": 0', b'"first_index": -Infinity'),
        (b'"first_index": 0', b'"first_index": 0, "first_index": 0'),
        (b'"first_index": 0', b'"first_index": ' + b"[" * 100_000 + b"]" * 100_000),
        (b"{", b"\xef\xbb\xbf{"),
        (b'"origin"', b'"\xff"'),
    ],
    ids=["5000-digits", "nan", "infinity", "minus-infinity", "duplicate-key", "nested-100k", "bom", "not-utf-8"],
)
def test_json_python_would_choke_on_or_take_leniently_is_a_manifest_finding(
    copy: Path, real: RealBundle, old: bytes, new: bytes
) -> None:
    data = (copy / "manifest.json").read_bytes()
    assert old in data
    (copy / "manifest.json").write_bytes(data.replace(old, new, 1))
    assert "manifest: " in found(copy, real)


# Malformed proofs and leaves.


def first_proof(bundle: Path) -> Path:
    return bundle / "proofs" / sorted(os.listdir(bundle / "proofs"))[0]


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: {**p, "size1": float("inf")},
        lambda p: {**p, "size1": float("nan")},
        lambda p: {**p, "size2": str(p["size2"])},
        lambda p: {**p, "size1": True},
        lambda p: {**p, "proof": "AAAA"},
        lambda p: {**p, "proof": [1]},
        lambda p: {**p, "proof": [p["root1"]] * 200},
        lambda p: {**p, "root1": p["root1"][:-2]},
        lambda p: {**p, "extra": 1},
        lambda p: [p],
        lambda p: None,
        lambda p: {k: v for k, v in p.items() if k != "root2"},
    ],
)
def test_a_malformed_proof_is_a_finding(copy: Path, real: RealBundle, edit: object) -> None:
    path = first_proof(copy)
    path.write_text(json.dumps(edit(json.loads(path.read_bytes()))))  # type: ignore[operator]
    assert f"proof {path.name}: malformed" in found(copy, real)


def test_a_proof_with_a_5000_digit_size_or_nested_deep_is_a_finding(copy: Path, real: RealBundle) -> None:
    path = first_proof(copy)
    original = path.read_bytes()
    for text in (b'{"size1": ' + b"1" * 5000 + b"}", b"[" * 30_000 + b"]" * 30_000):  # within PROOF_SIZE_MAX
        path.write_bytes(text)
        assert f"proof {path.name}: malformed" in found(copy, real)
    path.write_bytes(original)
    assert found(copy, real) == ""


def events(bundle: Path) -> list[bytes]:
    return (bundle / "events.jsonl").read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", "not JSON as this verifier reads it: nested too deeply"),
        (b"[" * 100 + b"]" * 100 + b"\n", "a leaf is an object"),
        (
            b'{"data":{"x":'
            + b"[" * 100
            + b"]" * 100
            + b'},"index":3,"recorded_at":"t","stream":"s","type":"T","version":1}\n',
            "nested more than 64 deep",
        ),
        (b'{"index":' + b"7" * 5000 + b"}\n", "not JSON as this verifier reads it: a number of 5000 characters"),
        (b'{"index":NaN}\n', "NaN is not a JSON number"),
        (b'{"data":{},"index":true,"recorded_at":"t","stream":"s","type":"T","version":1}\n', "index is a boolean"),
        (b'{"data":{},"index":3.0,"recorded_at":"t","stream":"s","type":"T","version":1}\n', "index is a fraction"),
        (b'{"data":[],"index":3,"recorded_at":"t","stream":"s","type":"T","version":1}\n', "data is an array"),
        (b'{"data":{},"index":3,"recorded_at":"t","stream":"s","type":"T","version":1}\r\n', "not in canonical"),
        (b'\xef\xbb\xbf{"data":{},"index":3,"recorded_at":"t","stream":"s","type":"T","version":1}\n', "not JSON"),
        (
            b'{"data":{"n":1e400},"index":3,"recorded_at":"t","stream":"s","type":"T","version":1}\n',
            "cannot be canonical",
        ),
        (
            b'{"data":{"s":"\\ud800"},"index":3,"recorded_at":"t","stream":"s","type":"T","version":1}\n',
            "cannot be canonical",
        ),
        (b"\xff\n", "not UTF-8"),
    ],
)
def test_a_malformed_leaf_is_a_finding(copy: Path, real: RealBundle, line: bytes, reason: str) -> None:
    leaves = events(copy)
    leaves[3] = line
    (copy / "events.jsonl").write_bytes(b"".join(leaves))
    report = found(copy, real)
    assert "leaf 3 (line 4): " in report
    assert reason in report


def test_a_line_longer_than_a_leaf_may_be_is_a_finding_and_the_indexes_after_it_stay_right(
    copy: Path, real: RealBundle
) -> None:
    leaves = events(copy)
    leaves[2] = b'{"pad":"' + b"x" * (LEAF_LINE_MAX + 10) + b'"}\n'
    (copy / "events.jsonl").write_bytes(b"".join(leaves))
    report = found(copy, real)
    assert f"line 3: longer than the {LEAF_LINE_MAX} bytes" in report
    assert "leaf 3 (line 4)" not in report  # the next leaf is still leaf 3, and fine


def test_the_last_line_without_its_newline_is_a_finding(copy: Path, real: RealBundle) -> None:
    data = (copy / "events.jsonl").read_bytes()
    (copy / "events.jsonl").write_bytes(data[:-1])
    assert f"line {len(events(real.path))}: not newline-terminated" in found(copy, real)


# Checkpoints and signed notes, as strictly as Go's sumdb/note and tlog.


@pytest.mark.parametrize("size_text", ["+{n}", "0{n}", "{n}.0", " {n}", "{n} ", "{arabic}", "{fullwidth}", "{n}\r"])
def test_a_checkpoint_size_that_is_not_plain_ascii_decimal_is_refused_even_when_signed(
    copy: Path, real: RealBundle, size_text: str
) -> None:
    path = latest_path(copy)
    checkpoint = Checkpoint.parse(Note.parse(path.read_text()).text)
    n = str(checkpoint.size)
    arabic = n.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    fullwidth = n.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    text = f"{checkpoint.origin}\n{size_text.format(n=n, arabic=arabic, fullwidth=fullwidth)}\n"
    resign(path, text + base64.b64encode(checkpoint.root).decode() + "\n", real.signer)
    assert f"checkpoint {path.name}: malformed" in found(copy, real)


@pytest.mark.parametrize(
    "text",
    [
        "bank\n\u0661\u0662\nAAAA\n",
        "bank\n\u00b2\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "bank\n+1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "bank\n9223372036854775808\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "bank\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",
        "bank\n1\n" + base64.b64encode(bytes(32)).decode()[:-1] + "1\n",
    ],
)
def test_checkpoint_bodies_go_would_refuse_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_crlf_line_endings_are_not_normalised(copy: Path, real: RealBundle) -> None:
    path = latest_path(copy)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert f"checkpoint {path.name}: malformed: the note has a control character ('\\r')" in found(copy, real)
    trusted = (real.path / "checkpoints" / path.name).read_bytes().replace(b"\n", b"\r\n")
    assert "trusted checkpoint: malformed" in found(real.path, real, trusted=trusted)  # type: ignore[arg-type]


def bad_line(real: RealBundle) -> str:
    """A signature line with the bank key's name and id, and a signature that does not verify."""
    key = Verifier.parse(real.key)
    return f"\u2014 {key.name} {base64.b64encode(key.key_id + bytes(64)).decode()}\n"


@pytest.mark.parametrize("bad_first", [True, False])
def test_a_failing_signature_line_of_the_trusted_key_rejects_the_note_beside_a_good_one(
    copy: Path, real: RealBundle, bad_first: bool
) -> None:
    path = latest_path(copy)
    note = path.read_text()
    text, _, good = note.rpartition("\n\n")
    bad = bad_line(real)
    path.write_text(f"{text}\n\n{bad}{good}" if bad_first else f"{note}{bad}")
    assert f"checkpoint {path.name}: a signature line naming the key" in found(copy, real)
    assert not Note.parse(path.read_text()).verified_by(Verifier.parse(real.key))
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(path.read_text(), [Verifier.parse(real.key)])


def test_signature_lines_of_unknown_keys_are_ignored(copy: Path, real: RealBundle) -> None:
    path = latest_path(copy)
    other = Signer(Verifier.parse(real.key).name + "-other", real.signer.private_key)
    bogus = f"\u2014 {other.name} {base64.b64encode(bytes(68)).decode()}\n"
    path.write_text(path.read_text() + bogus)
    assert found(copy, real) == ""


def test_base64_outside_its_canonical_form_is_refused(copy: Path, real: RealBundle) -> None:
    path = latest_path(copy)
    note = path.read_text()
    body, _, line = note.rstrip("\n").rpartition(" ")
    assert line.endswith("=")
    assert not line.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    stray = alphabet[alphabet.index(line[-2]) ^ 1]
    assert base64.b64decode(line[:-2] + stray + "=") == base64.b64decode(line)
    path.write_text(f"{body} {line[:-2]}{stray}=\n")
    assert f"checkpoint {path.name}: malformed" in found(copy, real)


def test_verifier_keys_are_read_exactly(real: RealBundle) -> None:
    name, key_id, material = real.key.split("+", 2)
    spelled_otherwise = [
        f" {real.key}",
        f"{real.key}\n",
        f"{name}+{key_id[:7]}+{material}",
        f"{name}+{key_id[:4]} {key_id[4:]}+{material}",
        f"{name}+{key_id}+{material}=",
        f"{name}+{key_id}+{material[:-1]}",
    ]
    if key_id.upper() != key_id:
        spelled_otherwise.append(f"{name}+{key_id.upper()}+{material}")
    for text in spelled_otherwise:
        with pytest.raises(NoteError):
            Verifier.parse(text)
    assert Verifier.parse(real.key).encode() == real.key


# The files there are: only regular files, inside the bundle, within their limits, as the manifest lists them.


def test_a_checkpoint_linked_to_dev_zero_is_refused_without_reading_it(copy: Path, real: RealBundle) -> None:
    path = latest_path(copy)
    path.unlink()
    path.symlink_to("/dev/zero")
    started = time.monotonic()
    assert f"checkpoint {path.name}: {path}: a symbolic link" in found(copy, real)
    assert time.monotonic() - started < 10
    result = cli_verify(copy, real.key)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_a_link_to_a_good_copy_outside_the_bundle_is_refused(copy: Path, real: RealBundle, tmp_path: Path) -> None:
    for inside in (latest_path(copy), copy / "events.jsonl", copy / "manifest.json", first_proof(copy)):
        outside = tmp_path / f"outside-{inside.name}"
        shutil.copyfile(inside, outside)
        inside.unlink()
        inside.symlink_to(outside)
    report = found(copy, real)
    assert "a symbolic link" in report
    assert not reference_accepts(copy, real.key)


def test_a_linked_folder_is_refused(copy: Path, real: RealBundle, tmp_path: Path) -> None:
    shutil.move(copy / "checkpoints", tmp_path / "elsewhere")
    (copy / "checkpoints").symlink_to(tmp_path / "elsewhere")
    assert "checkpoints: " in found(copy, real)
    assert "a symbolic link" in found(copy, real)


@pytest.mark.parametrize("name", ["manifest.json", "events.jsonl", "checkpoints/{latest}", "proofs/{proof}"])
def test_a_fifo_in_place_of_a_file_does_not_hang_the_verifier(copy: Path, real: RealBundle, name: str) -> None:
    path = copy / name.format(latest=latest_path(copy).name, proof=first_proof(copy).name)
    path.unlink()
    os.mkfifo(path)
    result = cli_verify(copy, real.key)  # a hang would be the timeout
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert "not a regular file" in result.stderr or "a symbolic link, FIFO" in result.stderr
    assert "not a regular file" in found(copy, real)


@pytest.mark.parametrize(
    ("name", "limit"),
    [("manifest.json", MANIFEST_SIZE_MAX), ("checkpoints/{latest}", CHECKPOINT_SIZE_MAX)],
)
def test_a_file_beyond_its_limit_is_a_finding_and_is_not_read(
    copy: Path, real: RealBundle, name: str, limit: int
) -> None:
    path = copy / name.format(latest=latest_path(copy).name)
    with path.open("r+b") as handle:
        handle.truncate(limit + 1)  # sparse: costs no disk
    assert f"more than the {limit} allowed" in found(copy, real)


def test_the_manifest_lists_exactly_the_files_there_are(copy: Path, real: RealBundle) -> None:
    manifest = manifest_of(copy)
    sizes, proofs = list(manifest["checkpoints"]), list(manifest["proofs"])  # type: ignore[call-overload]
    manifest.update(checkpoints=[*sizes[:1], *sizes[2:]], proofs=[*proofs, "1-2.json"])
    (copy / "manifest.json").write_text(json.dumps(manifest))
    report = found(copy, real)
    assert f"checkpoint {sizes[1]}: in the bundle but not listed in the manifest" in report
    assert "proof 1-2.json: listed in the manifest but not in the bundle" in report


def test_extra_and_missing_files_are_findings(copy: Path, real: RealBundle) -> None:
    latest_path(copy).unlink()
    (copy / "README").write_text("trust me")
    (copy / "checkpoints" / "notes.txt").write_text("x")
    (copy / "proofs" / "1-999.json").write_text("{}")
    report = found(copy, real)
    assert "bundle: unexpected README" in report
    assert "checkpoint notes.txt: its name is not a tree size" in report
    assert "proof 1-999.json: not a proof between successive checkpoints" in report
    assert "listed in the manifest but not in the bundle" in report


def test_a_folder_in_place_of_the_events_is_a_finding(copy: Path, real: RealBundle) -> None:
    (copy / "events.jsonl").unlink()
    (copy / "events.jsonl").mkdir()
    assert "events.jsonl: " in found(copy, real)


# The command line: exit 1 with findings, never a traceback, even for findings that carry markup.


def test_findings_that_look_like_markup_are_printed_as_they_are(copy: Path, real: RealBundle) -> None:
    (copy / "[bold]x").write_text("")
    manifest = manifest_of(copy)
    manifest["origin"] = "[/]"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = cli_verify(copy, real.key)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "[/]" in result.stderr


# The write side: nothing written through a link, nothing outside the bundle.


def test_cosign_refuses_a_linked_checkpoint_and_writes_nothing_outside(
    copy: Path, real: RealBundle, tmp_path: Path
) -> None:
    witness = Witness(tmp_path / "witness")
    witness.init("nbrb.example/witness", allow_unencrypted_key=True)
    path = latest_path(copy)
    outside = tmp_path / "outside-checkpoint"
    shutil.copyfile(path, outside)
    path.unlink()
    path.symlink_to(outside)
    before = outside.read_bytes()
    with pytest.raises(WitnessError, match="a symbolic link"):
        witness.cosign_bundle(copy, real.key)
    assert outside.read_bytes() == before
    assert not witness.last_path.exists()


def test_cosign_refuses_a_linked_bundle_and_a_linked_record(copy: Path, real: RealBundle, tmp_path: Path) -> None:
    witness = Witness(tmp_path / "witness")
    witness.init("nbrb.example/witness", allow_unencrypted_key=True)
    link = tmp_path / "link"
    link.symlink_to(copy)
    with pytest.raises(WitnessError, match="a symbolic link"):
        witness.cosign_bundle(link, real.key)
    outside = tmp_path / "outside-record"
    outside.write_bytes(b"")
    witness.last_path.symlink_to(outside)
    with pytest.raises(WitnessError, match="a symbolic link"):
        witness.cosign_bundle(copy, real.key)
    assert outside.read_bytes() == b""
    assert (
        Note.parse(latest_path(copy).read_text()).signatures
        == Note.parse(latest_path(real.path).read_text()).signatures
    )


def test_cosign_writes_the_checkpoint_it_verified_and_records_it_first(
    copy: Path, real: RealBundle, tmp_path: Path
) -> None:
    witness = Witness(tmp_path / "witness")
    witness.init("nbrb.example/witness", allow_unencrypted_key=True)
    note = witness.cosign_bundle(copy, real.key)
    assert witness.last_path.read_bytes() == latest_path(copy).read_bytes() == note.encode().encode()
    assert verify_bundle(copy, real.key, witness_key=witness.verifier().encode()) == []
    assert sorted(os.listdir(copy / "checkpoints")) == sorted(os.listdir(real.path / "checkpoints"))


def test_cosign_refuses_a_checkpoint_with_a_failing_line_in_the_witness_name(
    copy: Path, real: RealBundle, tmp_path: Path
) -> None:
    witness = Witness(tmp_path / "witness")
    witness.init("nbrb.example/witness", allow_unencrypted_key=True)
    key = witness.verifier()
    path = latest_path(copy)
    path.write_text(path.read_text() + f"\u2014 {key.name} {base64.b64encode(key.key_id + bytes(72)).decode()}\n")
    with pytest.raises(WitnessError, match="fails"):
        witness.cosign_bundle(copy, real.key)
    findings = found(copy, real, witness_key=key.encode())
    assert "a cosignature line of nbrb.example/witness does not verify" in findings


def ledger(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args], capture_output=True, text=True, timeout=CLI_SECONDS_MAX, check=False
    )


def test_the_writing_commands_refuse_a_link_with_one_line_naming_it(
    copy: Path, real: RealBundle, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    # cosign: a checkpoint linked to a file outside the bundle.
    witness = tmp_path / "witness"
    Witness(witness).init("nbrb.example/witness", allow_unencrypted_key=True)
    path = latest_path(copy)
    shutil.copyfile(path, outside / "checkpoint")
    path.unlink()
    path.symlink_to(outside / "checkpoint")
    cosigned = ledger("audit", "cosign", str(copy), "--key", real.key, "--witness-home", str(witness))
    assert cosigned.returncode == 1
    assert f"{path}: a symbolic link" in cosigned.stderr
    assert (outside / "checkpoint").read_bytes() == latest_path(real.path).read_bytes()
    # export: the bundle directory is a link to an empty one elsewhere.
    (tmp_path / "linked").symlink_to(outside / "empty", target_is_directory=True)
    (outside / "empty").mkdir()
    exported = ledger("audit", "export", str(tmp_path / "linked"), "--home", str(real.home))
    assert exported.returncode == 2
    assert f"{tmp_path / 'linked'}: a symbolic link; refusing to write through it" in exported.stderr
    assert os.listdir(outside / "empty") == []
    # prove: --out is a link to a file elsewhere.
    (outside / "kept").write_text("mine")
    (tmp_path / "proof.json").symlink_to(outside / "kept")
    proved = ledger("audit", "prove", "--index", "1", "--out", str(tmp_path / "proof.json"), "--home", str(real.home))
    assert proved.returncode == 2
    assert "a symbolic link; refusing to write through it" in proved.stderr
    assert (outside / "kept").read_text() == "mine"
    for result in (cosigned, exported, proved):
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_prove_replaces_a_regular_file_whole(real: RealBundle, tmp_path: Path) -> None:
    out = tmp_path / "leaf.tlog-proof"
    out.write_text("an older proof")
    proved = ledger("audit", "prove", "--index", "1", "--out", str(out), "--home", str(real.home))
    assert proved.returncode == 0, proved.stderr
    assert out.read_text().split("\n")[2] == "index 1"
    assert sorted(os.listdir(tmp_path)) == ["leaf.tlog-proof"]


def test_export_refuses_a_linked_directory(real: RealBundle, tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    sandbox = Sandbox.at(real.home)
    with sandbox.open(auto_checkpoint=False) as ledger, pytest.raises(ExportError, match="a symbolic link"):
        export_bundle(ledger.audit, sandbox.signer(), link, NOW)
    assert os.listdir(target) == []
