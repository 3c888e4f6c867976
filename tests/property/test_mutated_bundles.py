"""Whatever is done to a real exported bundle, the verifier answers with
findings (never an exception), in bounded time, and accepts nothing that the
reference check in `tests.bundles` (written apart from `ledger.audit`: the
RFC 6962 tree hash, Go's note.Open and tlog.CheckTree) rejects. From the
command line, in a process with its memory and time bounded, it exits 0 or 1
and never prints a traceback.

The mutations know the bundle's structure: manifest fields, types and number
texts; checkpoint note lines, sizes and signature lines (re-signed with the
bank's key or not); proofs; leaves; and the files themselves (links, FIFOs,
folders, oversized, extra and missing files), plus plain byte edits.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.audit.merkle import consistency_proof, range_hasher
from ledger.audit.verify import CHECKPOINT_SIZE_MAX, MANIFEST_SIZE_MAX, PROOF_SIZE_MAX, Finding, verify_bundle
from tests.bundles import RealBundle, export_real_bundle, reference_accepts, tree_hash

VERIFY_SECONDS_MAX = 20  # a mutated bundle of some thirty leaves takes milliseconds; this only catches a hang
CLI_MEMORY_MAX = 512 << 20
CLI_SECONDS_MAX = 60

Mutation = Callable[[Path, st.DataObject, RealBundle], None]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
UNICODE_DIGITS = "0123456789٠١٢٣٤٥٦٧٨٩０１２３４５６７８９²³¹"
number_texts = st.one_of(
    st.sampled_from(["-1", "0", "00", "-0", "1.0", "1e3", "+1", "NaN", "Infinity", "-Infinity", "true", '"1"']),
    st.sampled_from(["9" * 5000, "2" * 19, str(2**63), str(2**63 - 1), "[" * 5000]),
    st.integers(min_value=-3, max_value=40).map(str),
)
size_texts = st.one_of(
    st.integers(min_value=0, max_value=40).map(str),
    st.sampled_from(["+6", "06", "6.0", " 6", "6 ", "-0", "", str(2**63), "9" * 30, "6\r"]),
    st.text(alphabet=UNICODE_DIGITS, min_size=1, max_size=3),
)
line_texts = st.text(max_size=40) | st.sampled_from(["", "\r", "\ufeff", "\u2014 x", "\u2028", "\x85"])


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def signature_line(text: str, real: RealBundle) -> str:
    """A line by the bank's key over any text (notes.sign insists on a final newline; a mutation may not)."""
    signature = real.signer.private_key.sign(text.encode())
    return f"\u2014 {real.signer.name} {b64(real.signer.verifier.key_id + signature)}\n"


def contents(path: Path) -> bytes | None:
    """A regular file's bytes; None for anything else an earlier mutation made of it."""
    try:
        return path.read_bytes() if stat.S_ISREG(os.lstat(path).st_mode) else None
    except OSError:
        return None


def json_of(path: Path) -> Any:
    raw = contents(path)
    try:
        return None if raw is None else json.loads(raw)
    except (ValueError, RecursionError):
        return None


def files(bundle: Path, folder: str) -> list[Path]:
    where = bundle / folder
    return sorted(where.iterdir()) if where.is_dir() and not where.is_symlink() else []


def regular_files(bundle: Path) -> list[Path]:
    found = [p for p in (bundle / "manifest.json", bundle / "events.jsonl") if p.is_file() and not p.is_symlink()]
    found += [p for p in files(bundle, "checkpoints") + files(bundle, "proofs") if p.is_file() and not p.is_symlink()]
    return found


def some_file(bundle: Path, data: st.DataObject, folder: str) -> Path | None:
    candidates = [p for p in files(bundle, folder) if p.is_file() and not p.is_symlink()]
    return data.draw(st.sampled_from(candidates)) if candidates else None


# Mutations of the manifest.


def manifest_field(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    path = bundle / "manifest.json"
    manifest = json_of(path)
    if not isinstance(manifest, dict):
        return
    names = ["format", "origin", "tree_size", "first_index", "base_range", "verifier_keys", "checkpoints", "proofs"]
    name = data.draw(st.sampled_from([*names, "exported_at", "extra"]))
    if data.draw(st.booleans()):
        manifest.pop(name, None)
    else:
        manifest[name] = data.draw(json_values)
    path.write_text(json.dumps(manifest, indent=data.draw(st.sampled_from([None, 2]))))


def manifest_number(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    path = bundle / "manifest.json"
    raw = contents(path)
    if raw is None:
        return
    text = raw.decode(errors="surrogateescape")
    numbers = list(re.finditer(r"-?\d+", text))
    if numbers:
        match = data.draw(st.sampled_from(numbers))
        edited = text[: match.start()] + data.draw(number_texts) + text[match.end() :]
        path.write_bytes(edited.encode(errors="surrogateescape"))


def manifest_text(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    path = bundle / "manifest.json"
    raw = contents(path)
    if raw is None:
        return
    choice = data.draw(st.sampled_from(["bom", "crlf", "cut", "value", "deep", "listed-sizes"]))
    if choice == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + raw)
    elif choice == "crlf":
        path.write_bytes(raw.replace(b"\n", b"\r\n"))
    elif choice == "cut":
        path.write_bytes(raw[: data.draw(st.integers(min_value=0, max_value=len(raw)))])
    elif choice == "value":
        path.write_text(json.dumps(data.draw(json_values)))
    elif choice == "deep":
        depth = data.draw(st.sampled_from([10, 1000, 100_000]))
        path.write_bytes(raw.replace(b'"first_index": 0', b'"first_index": ' + b"[" * depth + b"]" * depth))
    elif isinstance(manifest := json_of(path), dict):
        manifest["checkpoints"] = data.draw(st.lists(st.integers(min_value=0, max_value=30), max_size=6))
        path.write_text(json.dumps(manifest))


# Mutations of checkpoints: their text, their signature lines, their bytes.


def note_text(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    path = some_file(bundle, data, "checkpoints")
    if path is None:
        return
    note = path.read_text(errors="surrogateescape")
    text, _, signatures = note.rpartition("\n\n")
    lines = (text + "\n").split("\n")[:-1]
    choice = data.draw(st.sampled_from(["size", "line", "extension", "origin", "root", "drop"]))
    if choice == "size" and len(lines) > 1:
        lines[1] = data.draw(size_texts)
    elif choice == "line" and lines:
        lines[data.draw(st.integers(min_value=0, max_value=len(lines) - 1))] = data.draw(line_texts)
    elif choice == "extension":
        lines.append(data.draw(line_texts))
    elif choice == "origin" and lines:
        lines[0] = data.draw(st.sampled_from([real.signer.name + "x", "", real.signer.name.upper()]))
    elif choice == "root" and len(lines) > 2:
        lines[2] = data.draw(st.sampled_from([b64(bytes(32)), b64(bytes(31)), lines[2][:-1] + "B", lines[2] + "\r"]))
    elif lines:
        del lines[data.draw(st.integers(min_value=0, max_value=len(lines) - 1))]
    new_text = "\n".join(lines) + "\n"
    resigned = data.draw(st.booleans())
    event(f"note text: {choice}, {'re-signed' if resigned else 'old signature'}")
    block = signature_line(new_text, real) if resigned else signatures
    path.write_bytes((new_text + "\n" + block).encode(errors="surrogateescape"))


def note_signature(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    path = some_file(bundle, data, "checkpoints")
    if path is None:
        return
    note = path.read_text(errors="surrogateescape")
    text, _, block = note.rpartition("\n\n")
    text += "\n"
    key = real.signer.verifier
    bad = f"\u2014 {key.name} {b64(key.key_id + data.draw(st.binary(min_size=0, max_size=80)))}\n"
    stranger = f"\u2014 {key.name}-other {b64(data.draw(st.binary(min_size=5, max_size=80)))}\n"
    choice = data.draw(
        st.sampled_from(["bad-first", "bad-last", "stranger", "twice", "none", "flip", "stray-bits", "no-space", "tab"])
    )
    event(f"note signature: {choice}")
    good = block
    if choice == "bad-first":
        block = bad + good
    elif choice == "bad-last":
        block = good + bad
    elif choice == "stranger":
        block = good + stranger
    elif choice == "twice":
        block = good + good
    elif choice == "none":
        block = ""
    elif choice in ("flip", "stray-bits"):
        name, _, encoded = good.split("\n")[0].partition(" ")[2].partition(" ")
        try:
            raw = bytearray(base64.b64decode(encoded, validate=True))
        except ValueError:
            return
        if not raw or not encoded.endswith("=") or encoded.endswith("=="):
            return
        if choice == "flip":
            raw[data.draw(st.integers(min_value=0, max_value=len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
            encoded = b64(bytes(raw))
        else:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            encoded = encoded[:-2] + alphabet[alphabet.index(encoded[-2]) ^ 1] + "="
        block = f"\u2014 {name} {encoded}\n"
    elif choice == "no-space":
        block = good.replace(" ", "", 2)
    else:
        block = good.replace(" ", "\t", 2)
    path.write_bytes((text + "\n" + block).encode(errors="surrogateescape"))


def file_bytes(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    candidates = regular_files(bundle)
    if not candidates:
        return
    path = data.draw(st.sampled_from(candidates))
    raw = bytearray(path.read_bytes())
    position = data.draw(st.integers(min_value=0, max_value=len(raw)))
    choice = data.draw(st.sampled_from(["flip", "insert", "delete"]))
    event(f"bytes: {choice} in {path.parent.name}/{path.name}"[:40])
    if choice == "flip" and raw:
        raw[min(position, len(raw) - 1)] ^= 1 << data.draw(st.integers(0, 7))
    elif choice == "insert":
        inserted = data.draw(st.sampled_from([b"\r", b"\x00", b"\xef\xbb\xbf", b"\xff", b"\n", b" ", b"\xe2\x80\xa8"]))
        raw[position:position] = inserted
    elif raw:
        del raw[min(position, len(raw) - 1)]
    path.write_bytes(bytes(raw))


# Mutations of proofs and leaves.


def proof_field(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    path = some_file(bundle, data, "proofs")
    if path is None:
        return
    proof = json_of(path)
    if not isinstance(proof, dict) or not isinstance(proof.get("proof"), list) or not {"root1", "root2"} <= set(proof):
        return
    choice = data.draw(st.sampled_from(["value", "swap-roots", "reverse", "append", "drop", "sizes", "extra"]))
    event(f"proof: {choice}")
    if choice == "value":
        proof[data.draw(st.sampled_from(sorted(proof)))] = data.draw(json_values)
    elif choice == "swap-roots":
        proof["root1"], proof["root2"] = proof["root2"], proof["root1"]
    elif choice == "reverse":
        proof["proof"].reverse()
    elif choice == "append":
        proof["proof"].append(data.draw(st.sampled_from([proof["root1"], b64(bytes(32)), "AAAA"])))
    elif choice == "drop" and proof["proof"]:
        proof["proof"].pop(data.draw(st.integers(min_value=0, max_value=len(proof["proof"]) - 1)))
    elif choice == "sizes":
        proof["size1"], proof["size2"] = proof.get("size2"), proof.get("size1")
    else:
        proof["extra"] = 1
    path.write_text(json.dumps(proof, allow_nan=True))


def leaf(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    path = bundle / "events.jsonl"
    raw = contents(path)
    lines = raw.splitlines(keepends=True) if raw else []
    if not lines:
        return
    at = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    choice = data.draw(st.sampled_from(["value", "field", "swap", "delete", "duplicate", "crlf", "unterminated"]))
    event(f"leaf: {choice}")
    if choice == "value":
        lines[at] = json.dumps(data.draw(json_values), allow_nan=True).encode() + b"\n"
    elif choice == "field" and isinstance(parsed := _leaf_json(lines[at]), dict):
        name = data.draw(st.sampled_from(["index", "stream", "version", "type", "recorded_at", "data", "extra"]))
        parsed[name] = data.draw(json_values | st.integers(min_value=0, max_value=40))
        text = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
        lines[at] = text.encode(errors="surrogatepass") + b"\n"
    elif choice == "swap":
        other = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
        lines[at], lines[other] = lines[other], lines[at]
    elif choice == "delete":
        del lines[at]
    elif choice == "duplicate":
        lines.insert(at, lines[at])
    elif choice == "crlf":
        lines[at] = lines[at].rstrip(b"\n") + b"\r\n"
    else:
        lines[-1] = lines[-1].rstrip(b"\n")
    path.write_bytes(b"".join(lines))


def _leaf_json(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def resign_everything(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    """What a bank forging consistently would do: sign every checkpoint, and
    prove every pair, over the leaves as they now are."""
    raw = contents(bundle / "events.jsonl")
    if raw is None:
        return
    leaves = raw.split(b"\n")[:-1]
    hashes = [hashlib.sha256(b"\x00" + line).digest() for line in leaves]
    for path in files(bundle, "checkpoints"):
        if path.is_file() and not path.is_symlink() and path.name.isdigit() and int(path.name) <= len(hashes):
            size = int(path.name)
            text = f"{real.signer.name}\n{size}\n{b64(tree_hash(hashes[:size]))}\n"
            path.write_text(text + "\n" + signature_line(text, real))
    for path in files(bundle, "proofs"):
        sizes = re.fullmatch(r"(\d+)-(\d+)\.json", path.name)
        if sizes and path.is_file() and not path.is_symlink():
            size1, size2 = int(sizes[1]), int(sizes[2])
            if 0 < size1 <= size2 <= len(hashes):
                proof = consistency_proof(size1, size2, range_hasher(hashes))
                document = {"size1": size1, "size2": size2, "root1": b64(tree_hash(hashes[:size1]))}
                document |= {"root2": b64(tree_hash(hashes[:size2])), "proof": [b64(h) for h in proof]}
                path.write_text(json.dumps(document, indent=2) + "\n")
    manifest = json_of(bundle / "manifest.json")
    if isinstance(manifest, dict):
        manifest["tree_size"] = len(hashes)
        (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2))


# Mutations of the files themselves.


def _mode(path: Path) -> int | None:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return None


def file_kind(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    """Replaces a file or folder by a link, a FIFO, a folder, or nothing; or makes it sparse and too big.
    Nothing here reads or copies through a link (a copy of /dev/zero never ends)."""
    names = ["manifest.json", "events.jsonl", "checkpoints", "proofs"]
    names += [f"checkpoints/{p.name}" for p in files(bundle, "checkpoints")]
    names += [f"proofs/{p.name}" for p in files(bundle, "proofs")]
    path = bundle / data.draw(st.sampled_from(names))
    choice = data.draw(st.sampled_from(["dev-zero", "dev-null", "outside-copy", "fifo", "folder", "missing", "big"]))
    event(f"file: {choice}")
    mode = _mode(path)
    if choice == "big":
        if mode is not None and stat.S_ISREG(mode):
            os.truncate(path, max(MANIFEST_SIZE_MAX, CHECKPOINT_SIZE_MAX, PROOF_SIZE_MAX) + 1)  # sparse
        return
    outside = bundle.parent / f"outside-{len(os.listdir(bundle.parent))}-{path.name}"
    if choice == "outside-copy":
        try:
            if mode is not None and stat.S_ISREG(mode):
                shutil.copyfile(path, outside)
            elif mode is not None and stat.S_ISDIR(mode):
                shutil.copytree(path, outside, symlinks=True)
        except (shutil.Error, OSError):
            return  # a FIFO in the folder: leave it be
    if mode is not None and stat.S_ISDIR(mode):
        shutil.rmtree(path)
    elif mode is not None:
        path.unlink()
    elif not path.parent.is_dir() or path.parent.is_symlink():
        return
    if choice == "dev-zero":
        path.symlink_to("/dev/zero")
    elif choice == "dev-null":
        path.symlink_to("/dev/null")
    elif choice == "outside-copy":
        path.symlink_to(outside)
    elif choice == "fifo":
        os.mkfifo(path)
    elif choice == "folder":
        path.mkdir()


def extra_file(bundle: Path, data: st.DataObject, real: RealBundle) -> None:
    folder = data.draw(st.sampled_from(["", "checkpoints", "proofs"]))
    name = data.draw(
        st.sampled_from(["README", "99", "007", "1-2.json", "٣", ".hidden", "[/]", "x\udcff"])
        | st.text(alphabet=st.characters(blacklist_characters="/\x00"), min_size=1, max_size=12)
    )
    where = bundle / folder
    if (
        name in (".", "..")
        or os.path.lexists(where / name)
        or _mode(where) is None
        or not stat.S_ISDIR(_mode(where) or 0)
    ):
        return
    try:
        (where / name).write_bytes(data.draw(st.sampled_from([b"", b"{}", b"x"])))
    except (OSError, UnicodeEncodeError):
        return
    event(f"extra file in {folder or 'the bundle'}")


MUTATIONS: list[Mutation] = [
    manifest_field,
    manifest_number,
    manifest_text,
    note_text,
    note_signature,
    file_bytes,
    proof_field,
    leaf,
    leaf,
    resign_everything,
    file_kind,
    extra_file,
]


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealBundle:
    return export_real_bundle(tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("b") / "bundle")


def mutated(real: RealBundle, data: st.DataObject, folder: Path) -> Path:
    bundle = Path(shutil.copytree(real.path, folder / "bundle"))
    for mutate in data.draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=3)):
        mutate(bundle, data, real)
    return bundle


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_verifier_answers_any_mutated_bundle_with_findings_and_accepts_only_what_the_reference_does(
    real: RealBundle, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bundle = mutated(real, data, Path(folder))
        started = time.monotonic()
        findings = verify_bundle(bundle, real.key)  # an exception here is the bug this test is for
        assert time.monotonic() - started < VERIFY_SECONDS_MAX
        assert isinstance(findings, list)
        assert all(isinstance(f, Finding) and f.subject and f.reason for f in findings)
        accepted = reference_accepts(bundle, real.key) if not findings else None
        event("accepted" if not findings else "rejected")
        if not findings:
            assert accepted, "the verifier accepted a bundle the reference rejects"


def bounded() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY_MAX, CLI_MEMORY_MAX))


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_command_line_exits_0_or_1_without_a_traceback_in_bounded_memory_and_time(
    real: RealBundle, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bundle = mutated(real, data, Path(folder))
        result = subprocess.run(
            [sys.executable, "-m", "ledger", "audit", "verify", str(bundle), "--key", real.key, "--json"],
            capture_output=True,
            text=True,
            timeout=CLI_SECONDS_MAX,
            preexec_fn=bounded,
            check=False,
        )
        assert result.returncode in (0, 1), result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        report: dict[str, Any] = json.loads(result.stdout)
        assert report["verified"] is (result.returncode == 0)
        assert report["verified"] is (verify_bundle(bundle, real.key) == [])
