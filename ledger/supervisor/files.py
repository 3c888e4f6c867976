"""The report's directory, signed; and its check.

    index.html              the page (self-contained: inline CSS, script and SVG)
    report.json             every table, the summary, the checkpoint and the views' digests
    tables/NAME.csv|json    each table alone
    checkpoint-N.txt        the signed checkpoint covered
    proofs/leaf-N.tlog-proof  a C2SP tlog-proof of each leaf a row cites (up to PROOFS_MAX)
    MANIFEST.sha256         the SHA-256 of every file above but the first two (`sha256sum -c` reads it)
    report.sig              a C2SP signed note, by the bank's key, over the checkpoint and the
                            SHA-256 of report.json, index.html and MANIFEST.sha256

CSV cells that a spreadsheet would read as a formula (starting with =, +, -,
@, a tab or a carriage return) are written with a leading apostrophe, as
OWASP advises, unless they are plain numbers: a client named
`=HYPERLINK(...)` is shown as text, never run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.audit.files import FileProblem, Folder, open_new_folder
from ledger.audit.log import AuditLog
from ledger.audit.notes import Note, NoteError, Signer, Verifier, sign, signer_of
from ledger.supervisor.page import render
from ledger.supervisor.report import Report
from ledger.supervisor.tables import Table

PROOFS_MAX = 5000  # tlog-proofs written beside a report; a leaf beyond them shows the command that proves it
SIGNATURE_FILE = "report.sig"
MANIFEST_FILE = "MANIFEST.sha256"
SIGNED_FORMAT = "ledger-supervisor-report-signature/v1"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


def write_report(directory: Path, report: Report, audit: AuditLog | None, signer: Signer | None) -> Path:
    """Writes the report into the new or empty `directory`; returns the page's path."""
    with open_new_folder(directory) as folder:
        written: dict[str, bytes] = {}

        def put(name: str, data: bytes, into: Folder = folder, path: str = "") -> None:
            into.write_new(name, data)
            written[path + name] = data

        with folder.make_folder("tables") as tables:
            for table in report.tables:
                put(f"{table.name}.csv", csv_bytes(table), tables, "tables/")
                put(f"{table.name}.json", (json.dumps(table.rows, indent=2) + "\n").encode(), tables, "tables/")
        if report.checkpoint is not None:
            put(f"checkpoint-{report.tree_size}.txt", report.checkpoint.note.encode())
        proven = _write_proofs(folder, report, audit, put)
        page = render(report, proven.__contains__).encode()
        document = (json.dumps(report.to_json(), indent=2) + "\n").encode()
        manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(written.items()))
        folder.write_new(MANIFEST_FILE, manifest.encode())
        folder.write_new("report.json", document)
        folder.write_new("index.html", page)
        if signer is not None:
            folder.write_new(SIGNATURE_FILE, signature_note(report, signer, document, page, manifest.encode()).encode())
    return directory / "index.html"


def _write_proofs(folder: Folder, report: Report, audit: AuditLog | None, put: Callable[..., None]) -> set[int]:
    if audit is None or report.checkpoint is None:
        return set()
    from ledger.audit.proofs import tlog_proof  # noqa: PLC0415 (the write side's proofs, only when writing them)

    cited = report.evidence.cited()[-PROOFS_MAX:]  # the most recent, when there are more
    with folder.make_folder("proofs") as proofs:
        for leaf in cited:
            put(f"leaf-{leaf}.tlog-proof", tlog_proof(audit, leaf, report.checkpoint).encode(), proofs, "proofs/")
    return set(cited)


def csv_bytes(table: Table) -> bytes:
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([inert(_csv_text(row.get(column))) for column in table.columns])
    return handle.getvalue().encode()


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " ".join(str(item) for item in value)
    return str(value)


def inert(text: str) -> str:
    """`text` as a spreadsheet shows it, never as a formula it would run."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


# The signature.


def signature_text(origin: str, size: int, root: str, files: dict[str, bytes], format_line: str = SIGNED_FORMAT) -> str:
    lines = [format_line, f"origin {origin}", f"checkpoint {size} {root}"]
    lines += [f"sha256 {hashlib.sha256(data).hexdigest()} {name}" for name, data in files.items()]
    return "\n".join(lines) + "\n"


def signature_note(report: Report, signer: Signer, document: bytes, page: bytes, manifest: bytes) -> str:
    files = {"report.json": document, "index.html": page, MANIFEST_FILE: manifest}
    return sign(signature_text(report.origin, report.tree_size, report.root, files), [signer])


@dataclass(frozen=True)
class Signed:
    origin: str
    size: int
    root: str
    digests: dict[str, str]  # file name -> SHA-256 hex


@dataclass(frozen=True)
class SignedKind:
    """A signed directory: its signature's file and format, the files it signs
    beside the manifest, and the JSON document that names its checkpoint."""

    signature: str
    format: str
    signed: tuple[str, ...]
    document: str


REPORT = SignedKind(SIGNATURE_FILE, SIGNED_FORMAT, ("report.json", "index.html", MANIFEST_FILE), "report.json")
EXTRACT = SignedKind(
    "extract.sig", "ledger-supervisor-extract-signature/v1", ("extract.json", MANIFEST_FILE), "extract.json"
)


def parse_signature(note_text: str, key: str, kind: SignedKind = REPORT) -> Signed:
    """The signed statement of a report's (or an extract's) signature, if `key` signed it; `NoteError` otherwise."""
    note = Note.parse(note_text)
    try:
        signer_of(note, [Verifier.parse(key)])
    except NoteError as error:
        raise NoteError(f"{kind.signature}: {error}") from None
    lines = note.text.splitlines()
    if len(lines) != 3 + len(kind.signed) or lines[0] != kind.format:
        raise NoteError(f"{kind.signature} is not a {kind.format} note")
    origin = lines[1].removeprefix("origin ")
    _, size, root = [*lines[2].split(" "), "", "", ""][:3]
    digests = {}
    for line in lines[3:]:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", parts[1]):
            raise NoteError(f"{kind.signature}: a malformed line {line[:80]!r}")
        digests[parts[2]] = parts[1]
    if not size.isdigit() or set(digests) != set(kind.signed):
        raise NoteError(f"{kind.signature}: expected the checkpoint and the digests of {', '.join(kind.signed)}")
    return Signed(origin, int(size), root, digests)


# Checking a report.

REPORT_FILE_MAX = 256 << 20  # bytes of one file of a report read back


def check_report(directory: Path, key: str) -> tuple[Signed, dict[str, Any], list[str]]:
    """The signature, the document and what differs: each signed file and each
    manifest entry must hash as signed, and nothing may be there unlisted.
    A report's directory and an extract's are told apart by their signature."""
    problems: list[str] = []
    with Folder.open(directory) as folder:
        kind = EXTRACT if folder.kind(EXTRACT.signature) == "file" else REPORT
        signed = parse_signature(folder.read(kind.signature, 1 << 20).decode(), key, kind)
        for name, digest in signed.digests.items():
            if hashlib.sha256(folder.read(name, REPORT_FILE_MAX)).hexdigest() != digest:
                problems.append(f"{name}: not the file that was signed")
        listed = _manifest(folder.read(MANIFEST_FILE, REPORT_FILE_MAX).decode())
        for name, digest in listed.items():
            data = _read_nested(folder, name)
            if data is None:
                problems.append(f"{name}: listed in the manifest, missing or not a regular file")
            elif hashlib.sha256(data).hexdigest() != digest:
                problems.append(f"{name}: not the file the manifest lists")
        present = set(_files(folder, ""))
        for name in sorted(present - set(listed) - set(signed.digests) - {kind.signature}):
            problems.append(f"{name}: not part of the signed {'extract' if kind is EXTRACT else 'report'}")
        document = json.loads(folder.read(kind.document, REPORT_FILE_MAX))
    checkpoint = document.get("checkpoint", {}) if isinstance(document, dict) else {}
    if (checkpoint.get("size"), checkpoint.get("root")) != (signed.size, signed.root):
        problems.append(f"{kind.document} names another checkpoint than {kind.signature}")
    return signed, document, problems


def write_extract(
    directory: Path, extract: Any, origin: str, checkpoint: Any, size: int, root: str, signer: Signer | None
) -> None:
    """Writes an extract (`ledger.supervisor.extract`) into the new or empty `directory`, signed like a report."""
    files: dict[str, bytes] = {}
    for table in (extract.transactions, extract.rejections):
        files[f"{table.name}.csv"] = csv_bytes(table)
        files[f"{table.name}.json"] = (json.dumps(table.rows, indent=2) + "\n").encode()
    files["travel_rule.ivms101.json"] = (json.dumps(extract.travel_rule, indent=2) + "\n").encode()
    if checkpoint is not None:
        files[f"checkpoint-{size}.txt"] = checkpoint.note.encode()
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items()))
    document = {
        "format": "ledger-supervisor-extract/v1",
        "origin": origin,
        "checkpoint": {"size": size, "root": root},
        "period": {
            "since": extract.since.isoformat() if extract.since else None,
            "until": extract.until.isoformat() if extract.until else None,
        },
        "counts": {
            "transactions": len(extract.transactions.rows),
            "rejections": len(extract.rejections.rows),
            "travel_rule_records": len(extract.travel_rule),
        },
    }
    signed_files = {"extract.json": (json.dumps(document, indent=2) + "\n").encode(), MANIFEST_FILE: manifest.encode()}
    with open_new_folder(directory) as folder:
        for name, data in {**files, **signed_files}.items():
            folder.write_new(name, data)
        if signer is not None:
            text = signature_text(origin, size, root, signed_files, EXTRACT.format)
            folder.write_new(EXTRACT.signature, sign(text, [signer]).encode())


def _manifest(text: str) -> dict[str, str]:
    listed = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        if not re.fullmatch(r"[0-9a-f]{64}", digest) or not name or ".." in name.split("/"):
            raise NoteError(f"{MANIFEST_FILE}: a malformed line {line[:80]!r}")
        listed[name] = digest
    return listed


def _read_nested(folder: Folder, name: str) -> bytes | None:
    parts = name.split("/")
    try:
        if len(parts) == 1:
            return folder.read(name, REPORT_FILE_MAX)
        with folder.folder(parts[0]) as inner:
            return _read_nested(inner, "/".join(parts[1:]))
    except FileProblem:  # missing, a link, too large: each is "missing" to the manifest
        return None


def _files(folder: Folder, prefix: str) -> list[str]:
    found = []
    for name in folder.names():
        kind = folder.kind(name)
        if kind == "folder":
            with folder.folder(name) as inner:
                found += _files(inner, f"{prefix}{name}/")
        else:
            found.append(prefix + name)
    return found


def check_against_bundle(bundle: Path, key: str, signed: Signed, document: dict[str, Any]) -> list[str]:
    """The bundle verified and replayed to the report's checkpoint: its tree
    and its views' digests must be the report's."""
    import tempfile  # noqa: PLC0415 (the replay's parts, only for a check against a bundle)

    from ledger.projections import ViewDecoder  # noqa: PLC0415
    from ledger.replay import ReplayError, StopAt, replay_bundle  # noqa: PLC0415
    from ledger.store.ports import StoreLocation  # noqa: PLC0415
    from ledger.store.schema import open_store  # noqa: PLC0415
    from ledger.views import view_digests  # noqa: PLC0415

    manifest = json.loads((bundle / "manifest.json").read_text()) if (bundle / "manifest.json").is_file() else {}
    if int(manifest.get("tree_size", -1)) < signed.size:
        return [f"the bundle holds fewer than the report's {signed.size} leaves: export it again"]
    with tempfile.TemporaryDirectory(prefix="ledger-report-check-") as scratch:
        target = open_store(StoreLocation(sqlite_path=Path(scratch) / "ledger.sqlite"), create=True)
        try:
            replayed = replay_bundle(bundle, key, target, ViewDecoder(target.mapper), StopAt(leaves=signed.size))
            digests = view_digests(target)
        except ReplayError as error:
            return [str(error)]
        finally:
            target.close()
    problems = []
    if replayed != signed.size:
        problems.append(f"the bundle replayed {replayed} leaves, the report covers {signed.size}")
    root = _bundle_root(bundle, signed.size)
    if root != signed.root:
        problems.append(f"the bundle's tree at {signed.size} leaves is not the report's checkpoint")
    for view, digest in sorted(document.get("view_digests", {}).items()):
        if digests.get(view) != digest:
            problems.append(
                f"view {view}: the report says {digest[:16]}..., the bundle's replay gives "
                f"{str(digests.get(view))[:16]}..."
            )
    return problems


def _bundle_root(bundle: Path, size: int) -> str:
    import base64  # noqa: PLC0415
    import itertools  # noqa: PLC0415

    from ledger.audit.merkle import CompactRange, leaf_hash  # noqa: PLC0415

    tree = CompactRange()
    with (bundle / "events.jsonl").open("rb") as handle:
        for line in itertools.islice(handle, size):
            tree.append(leaf_hash(line.rstrip(b"\n")))
    return base64.b64encode(tree.root()).decode() if tree.size == size else ""
