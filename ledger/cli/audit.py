"""The signed audit trail (key, checkpoints, export, verification, proofs, the witness); the supervisor's report."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape

from ledger.home import DEFAULT_HOME, SigningKeyError

if TYPE_CHECKING:
    from ledger.audit.policy import Policy

# The write path, the domain's commands and the library are imported in the
# commands that use them: a read (`ledger balances`) starts without them.

from ledger.cli.edges import (
    DatabaseUrlOption,
    HomeOption,
    JsonOption,
    UserError,
    app,
    emit,
    err,
    fail,
    out,
    progress_start,
    report_app,
    sandbox_for,
    user_errors,
)

audit_app = typer.Typer(help="The signed audit trail: key, checkpoints, export, verification.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


ProofFormat = Literal["tlog-proof", "json"]


@audit_app.command("key")
def audit_key(home: HomeOption = DEFAULT_HOME, as_json: JsonOption = False) -> None:
    """Print the bank's current verifier key (C2SP), for the supervisor to pin."""
    with user_errors():
        sandbox = sandbox_for(home, None)
        key = sandbox.verifier_key()
        origin = sandbox.home.read_identity().origin
    if as_json:
        emit({"verifier_key": key, "origin": origin})
        return
    print(key)


@audit_app.command("checkpoint")
def audit_checkpoint(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Sign a checkpoint of the log as it is now, and print it."""
    with user_errors():
        sandbox = sandbox_for(home, database_url)
        signer = sandbox.signer()
        with sandbox.open(auto_checkpoint=False) as ledger:
            stored = ledger.audit.checkpoint(signer, ledger.clock.now())
    if as_json:
        emit({**checkpoint_fields(stored.note), "signed_at": stored.signed_at})
        return
    sys.stdout.write(stored.note)


def checkpoint_fields(note: str) -> dict[str, Any]:
    """A signed checkpoint for --json: its origin, tree size and root hash (base64), and the note's text."""
    from ledger.audit.notes import Checkpoint, Note

    checkpoint = Checkpoint.parse(Note.parse(note).text)
    root = base64.b64encode(checkpoint.root).decode()
    return {"origin": checkpoint.origin, "tree_size": checkpoint.size, "root_hash": root, "checkpoint": note}


@audit_app.command("check-store")
def audit_check_store(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Check the store against the signed tree: every leaf recomputed from its
    event, the stored hashes, tiles and tree, every idempotency record; exit 0
    only if nothing differs, else name the first difference."""
    with user_errors():
        check = sandbox_for(home, database_url).check_store(progress=progress_start(as_json))
    difference = check.difference
    if as_json:
        found = {"subject": difference.subject, "reason": difference.reason} if difference else None
        summary = {"leaves": check.leaves, "events": check.events, "records": check.records}
        print(json.dumps({"intact": check.intact, "difference": found, **summary, "checkpoints": check.checkpoints}))
    elif difference is not None:
        err.print(f"[red]FAIL[/] {escape(str(difference))}", highlight=False, soft_wrap=True)
    else:
        out.print(
            f"[green]intact[/] {check.leaves} leaves, {check.events} events, {check.records} idempotency records "
            f"and {check.checkpoints} signed checkpoints agree",
            highlight=False,
            soft_wrap=True,
        )
    if difference is not None:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    directory: Annotated[Path, typer.Argument(help="A new or empty directory for the bundle.")],
    since: Annotated[
        Path | None, typer.Option(help="The supervisor's last checkpoint: export only what came after it.")
    ] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export the audit bundle: leaves, signed checkpoints, consistency proofs (progress on a terminal)."""
    from ledger.audit.bundle import ExportError, export_bundle
    from ledger.progress import no_progress, progress

    with user_errors():
        sandbox = sandbox_for(home, database_url)
        signer = sandbox.signer()
        trusted = read_text(since) if since else None
        with sandbox.open(auto_checkpoint=False) as ledger:
            try:
                summary = export_bundle(
                    ledger.audit,
                    signer,
                    directory,
                    ledger.clock.now(),
                    since=trusted,
                    verifier_keys=sandbox.verifier_keys(),
                    progress=no_progress if as_json else progress,
                )
            except ExportError as error:
                raise UserError(str(error)) from None
        if as_json:
            emit(_exported(summary))
            return
    out.print(
        f"Exported leaves {summary.first_index} to {summary.tree_size - 1} with {len(summary.checkpoints)} "
        f"checkpoints and {len(summary.proofs)} proofs to {summary.directory}",
        soft_wrap=True,
    )


def _exported(summary: Any) -> dict[str, Any]:
    from ledger.audit.files import CHECKPOINTS, MANIFEST, PROOFS

    bundle = summary.directory
    latest = bundle / CHECKPOINTS / str(summary.tree_size)
    return {
        "bundle": str(bundle),
        "first_index": summary.first_index,
        **checkpoint_fields(latest.read_text(encoding="utf-8")),
        "checkpoints": summary.checkpoints,
        "files": {
            "manifest": str(bundle / MANIFEST),
            "checkpoint": str(latest),
            "checkpoints": [str(bundle / CHECKPOINTS / str(size)) for size in summary.checkpoints],
            "proofs": [str(bundle / PROOFS / name) for name in summary.proofs],
        },
    }


INPUT_FILE_SIZE_MAX = 4 << 20  # a checkpoint or a proof a user names (a note is at most 1 MB)


def read_bytes(path: Path) -> bytes:
    """A file the user names, as bytes (no newline translation), within INPUT_FILE_SIZE_MAX."""
    from ledger.audit.files import FileProblem, read_file

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        return read_file(path, INPUT_FILE_SIZE_MAX)
    except FileProblem as error:
        raise UserError(str(error)) from None


def read_text(path: Path) -> str:
    try:
        return read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None


def read_policy(path: Path) -> Policy:
    """A C2SP tlog-policy file the user names; a malformed one is a user error naming its line."""
    from ledger.audit.policy import Policy, PolicyError

    try:
        return Policy.parse(read_bytes(path))
    except PolicyError as error:
        raise UserError(f"{path}: {error}") from None


PolicyOption = Annotated[
    Path | None,
    typer.Option(
        help="A C2SP tlog-policy file: its log named after the origin is the key (then --key may be left out; "
        "given, it must be one of the policy's logs), and the checkpoint relied on must carry cosignatures "
        "meeting its quorum."
    ),
]


@audit_app.command("verify")
def audit_verify(
    bundle: Annotated[Path, typer.Argument(help="The bundle directory.")],
    key: Annotated[
        str | None,
        typer.Option(help="The bank's verifier key, pinned by you (never taken from the bundle); or give --policy."),
    ] = None,
    trusted: Annotated[Path | None, typer.Option(help="A checkpoint you trust: the bundle must extend it.")] = None,
    witness_key: Annotated[
        str | None, typer.Option(help="A witness's cosigner key: the latest checkpoint must carry its cosignature.")
    ] = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify a bundle offline: exit 0 only if everything verifies (progress on a terminal).

    With --policy, the bundle's latest checkpoint and the --trusted one (if given) must both meet the
    policy's quorum: a checkpoint the policy does not accept is not one to trust.
    """
    from ledger.audit.verify import Reading, verify_bundle
    from ledger.progress import no_progress, progress

    with user_errors():
        if key is None and policy is None:
            raise UserError("give the bank's verifier key with --key, or a --policy file listing it")
        if not bundle.is_dir():
            raise UserError(f"{bundle}: not a bundle directory")
        findings = verify_bundle(
            bundle,
            key,
            trusted=read_bytes(trusted) if trusted else None,
            witness_key=witness_key,
            policy=read_policy(policy) if policy else None,
            reading=Reading(progress=no_progress if as_json else progress),
        )
    if as_json:
        print(json.dumps({"verified": not findings, "findings": [vars(f) for f in findings]}, indent=2))
    elif findings:
        for finding in findings:
            err.print(f"[red]FAIL[/] {escape(str(finding))}", highlight=False, soft_wrap=True)
    else:
        out.print(f"[green]verified[/] {escape(str(bundle))}")
    if findings:
        raise typer.Exit(1)


@audit_app.command("prove")
def audit_prove(
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the proof.")],
    index: Annotated[int | None, typer.Option(help="The leaf index of the event.")] = None,
    proof_format: Annotated[
        ProofFormat, typer.Option("--format", help="tlog-proof (C2SP tlog-proof@v1), or json (this ledger's own).")
    ] = "tlog-proof",
    stream: Annotated[str | None, typer.Option(help="Or the event's stream id ...")] = None,
    version: Annotated[int, typer.Option(help="... and its version in that stream.")] = 1,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an inclusion proof of one event against a signed checkpoint."""
    from uuid import UUID

    from ledger.audit.files import FileProblem, replace_file
    from ledger.audit.merkle import ProofError
    from ledger.audit.proofs import leaf_proof, tlog_proof

    with user_errors():
        if (index is None) == (stream is None):
            raise UserError("name the event by --index, or by --stream (and --version)")
        if out_file.is_symlink():
            raise UserError(f"{out_file}: a symbolic link; refusing to write through it")  # refused before signing
        sandbox = sandbox_for(home, database_url)
        signer = sandbox.signer()
        with sandbox.open(auto_checkpoint=False) as ledger:
            ledger.audit.catch_up()
            if stream is not None:
                index = leaf_index_of(ledger, UUID(stream), version)
            assert index is not None
            size = ledger.audit.tree().size
            if not 0 <= index < size:
                raise UserError(f"leaf {index} is not in the log of {size} leaves")  # refused before signing
            checkpoint = ledger.audit.checkpoint(signer, ledger.clock.now())
            try:
                written = (
                    tlog_proof(ledger.audit, index, checkpoint)
                    if proof_format == "tlog-proof"
                    else json.dumps(leaf_proof(ledger.audit, index, checkpoint), indent=2) + "\n"
                )
            except ProofError as error:
                raise UserError(str(error)) from None
        try:
            replace_file(out_file, written.encode())
        except FileProblem as error:
            raise UserError(str(error)) from None
    if as_json:
        fields = checkpoint_fields(checkpoint.note)
        emit({"proof": str(out_file), "format": proof_format, "index": index, **fields})
        return
    out.print(f"Proof of leaf {index} against the checkpoint of {checkpoint.size} leaves written to {out_file}")


def leaf_index_of(ledger: Any, stream: Any, version: int) -> int:
    notification_id = ledger.backend.notification_id_of(stream, version)
    if notification_id is None:
        raise UserError(f"no event {stream} version {version} in this log")
    with ledger.backend.views() as session:
        rows = session.fetchall("SELECT leaf_index FROM audit_leaves WHERE notification_id = ?", (notification_id,))
    return int(rows[0][0])


@audit_app.command("verify-proof")
def audit_verify_proof(
    proof_file: Annotated[Path, typer.Argument(help="A proof written by 'ledger audit prove' (either format).")],
    key: Annotated[str | None, typer.Option(help="The bank's verifier key, pinned by you; or give --policy.")] = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify one event's inclusion proof offline."""
    from ledger.audit.merkle import ProofError
    from ledger.audit.notes import NoteError
    from ledger.audit.proofs import TLOG_PROOF_HEADER, verify_leaf_proof, verify_tlog_proof

    with user_errors():
        if key is None and policy is None:
            raise UserError("give the bank's verifier key with --key, or a --policy file listing it")
        trust = read_policy(policy) if policy else None
        text = read_text(proof_file)
        try:
            leaf = (
                verify_tlog_proof(text, key, policy=trust)
                if text.startswith(TLOG_PROOF_HEADER + "\n")
                else verify_leaf_proof(json.loads(text), key, policy=trust)
            )
        except (ProofError, NoteError, json.JSONDecodeError) as error:
            if as_json:  # a verification's outcome, as `audit verify` gives it: a result on stdout, exit 1
                emit({"verified": False, "leaf": None, "problem": f"{proof_file}: {error}"})
            else:
                err.print(f"[red]FAIL[/] {proof_file}: {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    if as_json:
        emit({"verified": True, "leaf": leaf, "problem": None})
    else:
        out.print(f"[green]verified[/] leaf {leaf['index']}: {leaf['type']} in stream {leaf['stream']}")


@audit_app.command("rotate-key")
def audit_rotate_key(
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    sandbox_key: Annotated[
        bool, typer.Option("--sandbox-key", help="Store the new key unencrypted (sandboxes only).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Rotate the signing key: a hand-over checkpoint carries the old and the new signature."""
    with user_errors():
        sandbox = sandbox_for(home, database_url)
        old, new, stored = sandbox.rotate_key(allow_unencrypted_key=sandbox_key)
    if as_json:
        emit(
            {
                "old_verifier_key": old,
                "new_verifier_key": new,
                "key_file": str(sandbox.home.signing_key_path),
                **checkpoint_fields(stored.note),
            }
        )
        return
    out.print(f"old key: {old}", soft_wrap=True)
    out.print(f"new key: {new}", soft_wrap=True)
    out.print(f"hand-over checkpoint at tree size {stored.size}, signed by both")


WitnessHomeOption = Annotated[Path, typer.Option("--witness-home", help="The supervisor's witness home.")]


@audit_app.command("witness-init")
def audit_witness_init(
    witness_home: WitnessHomeOption,
    name: Annotated[str, typer.Option(help="The witness's name, like supervisor.example/witness.")],
    sandbox_key: Annotated[bool, typer.Option("--sandbox-key", help="Store the key unencrypted.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a witness (the supervisor's cosigning key) and print its key."""
    from ledger.audit.witness import Witness, WitnessError

    with user_errors():
        try:
            witness = Witness(witness_home)
            key = witness.init(name, allow_unencrypted_key=sandbox_key)
        except WitnessError as error:
            raise UserError(str(error)) from None
    if as_json:
        emit({"witness_home": str(witness_home), "name": name, "witness_key": key, "key_file": str(witness.key_path)})
        return
    out.print(f"witness key: {key}", soft_wrap=True)


@audit_app.command("cosign")
def audit_cosign(
    bundle: Annotated[Path, typer.Argument(help="The bundle whose latest checkpoint to cosign.")],
    key: Annotated[str, typer.Option(help="The bank's verifier key, pinned by the supervisor.")],
    witness_home: WitnessHomeOption,
    as_json: JsonOption = False,
) -> None:
    """Cosign a bundle's latest checkpoint after checking it extends the last one cosigned."""
    from ledger.audit.witness import Witness, WitnessError

    with user_errors():
        try:
            witness = Witness(witness_home)
            note = witness.cosign_bundle(bundle, key)
        except WitnessError as error:
            if as_json:
                fail(str(error), 1, kind="cosign_refused")
            err.print(f"[red]REFUSED[/] {escape(str(error))}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    if as_json:
        emit(_cosigned(bundle, witness, note.encode()))
        return
    out.print(f"cosigned by {witness.name}: {note.text.splitlines()[1]} leaves")
    out.print(f"witness key: {witness.verifier().encode()}", soft_wrap=True)


def _cosigned(bundle: Path, witness: Any, note: str) -> dict[str, Any]:
    from ledger.audit.files import CHECKPOINTS

    fields = checkpoint_fields(note)
    written = {"bundle": str(bundle / CHECKPOINTS / str(fields["tree_size"])), "witness": str(witness.last_path)}
    return {"witness": witness.name, "witness_key": witness.verifier().encode(), **fields, "files": written}


witness_app = typer.Typer(help="Witnesses (C2SP tlog-witness): run one, or send them this log's checkpoints.")
audit_app.add_typer(witness_app, name="witness")


@witness_app.command("serve")
def audit_witness_serve(
    witness_home: WitnessHomeOption,
    log_key: Annotated[list[str], typer.Option("--log-key", help="A log's verifier key this witness trusts (repeat).")],
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port (0: any free one, printed).")] = 8081,
    as_json: JsonOption = False,
) -> None:
    """Run the witness as an HTTP service: POST /add-checkpoint, as C2SP tlog-witness says."""
    from ledger.api.server import serve_app
    from ledger.audit.notes import NoteError
    from ledger.audit.witness import Witness, WitnessError
    from ledger.audit.witness_service import WitnessService, create_witness_app

    with user_errors():
        try:
            service = WitnessService(Witness(witness_home), log_key)
        except (WitnessError, NoteError) as error:
            raise UserError(str(error)) from None

        def announce(url: str) -> None:
            if as_json:  # one JSON line when listening: a script reads the URL from it
                submission = f"{url}/add-checkpoint"
                print(json.dumps({"listening": url, "witness": service.name, "add_checkpoint": submission}), flush=True)
                return
            print(f"witness {service.name} on {url} (add-checkpoint: {url}/add-checkpoint); Ctrl-C stops", flush=True)

        serve_app(create_witness_app(service), host=host, port=port, announce=announce)


@witness_app.command("add")
def audit_witness_add(
    url: Annotated[str, typer.Argument(help="The witness's submission prefix, like http://127.0.0.1:8081.")],
    key: Annotated[str, typer.Argument(help="The witness's key, as 'ledger audit witness-init' printed it.")],
    home: HomeOption = DEFAULT_HOME,
    as_json: JsonOption = False,
) -> None:
    """Send every new checkpoint of this log to a witness, and keep its cosignatures."""
    from ledger.audit.witnessing import WitnessConfigError, add_witness

    with user_errors():
        if not (home / "bank.json").exists():
            raise UserError(f"{home} is not initialised: run 'ledger init' first")
        try:
            endpoint = add_witness(home, url, key)
        except WitnessConfigError as error:
            raise UserError(str(error)) from None
    if as_json:
        emit({"witness": endpoint.label, "url": endpoint.url, "witness_key": key})
        return
    out.print(f"witness {endpoint.label} at {endpoint.url}: every new checkpoint goes to it", soft_wrap=True)


@witness_app.command("submit")
def audit_witness_submit(
    home: HomeOption = DEFAULT_HOME, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Send the latest checkpoint to every witness that has not cosigned it yet (a retry)."""
    from ledger.audit.witnessing import configured, cosigned_sizes, submit_latest

    with user_errors():
        if not (home / "bank.json").exists():
            raise UserError(f"{home} is not initialised: run 'ledger init' first")
        witnesses = configured(home)
        if not witnesses:
            raise UserError(f"no witnesses for {home}: add one first: run 'ledger audit witness add URL KEY'")
        sandbox = sandbox_for(home, database_url)
        with sandbox.open(auto_checkpoint=False) as ledger:
            latest = ledger.audit.checkpoint(sandbox.signer(), ledger.clock.now())
            now = submit_latest(ledger.audit, witnesses)
            cosigned = sum(latest.size in cosigned_sizes(ledger.audit, witness) for witness in witnesses)
    if as_json:  # a partial outcome is a result too (exit 75: try again)
        emit({"witnesses": len(witnesses), "cosigned": cosigned, "cosigned_now": now, "tree_size": latest.size})
    else:
        out.print(
            f"{cosigned} of {len(witnesses)} witnesses hold a cosignature of the latest checkpoint "
            f"({latest.size} leaves; {now} cosigned it now)"
        )
    if cosigned < len(witnesses):
        raise typer.Exit(75)  # a witness was down or refused: try again (the warnings say which)


@report_app.command("supervisor")
def report_supervisor(
    out_dir: Annotated[Path, typer.Option("--out", help="A new or empty directory for the report.")],
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The supervisor's report: one self-contained page that leads to its evidence (a proof of every leaf a
    row cites), CSV and JSON of every table, the views' digests, all signed by the bank's key."""
    from ledger.audit.files import FileProblem
    from ledger.supervisor.files import write_report
    from ledger.supervisor.report import gather

    with user_errors():
        if out_dir.exists() and any(out_dir.iterdir()):
            raise UserError(f"{out_dir} exists and is not empty: choose a new directory")
        sandbox = sandbox_for(home, database_url)
        with sandbox.open(auto_checkpoint=False) as ledger:
            signer, checkpoint = _checkpoint_now(sandbox, ledger)
            key = signer.verifier.encode() if signer else "(the signing key could not be read here)"
            report = gather(ledger.read_model, ledger.audit.origin, checkpoint, key)
            try:
                page = write_report(out_dir, report, ledger.audit, signer)
            except FileProblem as error:
                raise UserError(str(error)) from None
    if as_json:
        print(
            json.dumps(
                {
                    "page": str(page),
                    "directory": str(out_dir),
                    "checkpoint": report.tree_size,
                    "signed": signer is not None,
                    "cited_leaves": len(report.evidence.cited()),
                    "files": sorted(str(path) for path in out_dir.rglob("*") if path.is_file()),
                    "checkpoint_note": checkpoint.note if checkpoint is not None else None,
                }
            )
        )
        return
    out.print(f"Report written to {page}", soft_wrap=True)
    if signer is None:
        err.print("warning: the report is not signed (the signing key could not be read here)", soft_wrap=True)


def _checkpoint_now(sandbox: Any, ledger: Any) -> tuple[Any, Any]:
    """The bank's signer and a checkpoint it signs of the log as it is now; without
    the key here, no signer and the latest checkpoint signed before."""
    try:
        signer = sandbox.signer()
    except SigningKeyError:
        return None, ledger.audit.latest_checkpoint()
    return signer, ledger.audit.checkpoint(signer, ledger.clock.now())


@report_app.command("extract")
def report_extract(
    out_dir: Annotated[Path, typer.Option("--out", help="A new or empty directory for the extract.")],
    since: Annotated[str | None, typer.Option(help="From this ledger time on (RFC 3339, with its zone).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this ledger time (RFC 3339, with its zone).")] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Extracts for the supervisor over a period: travel-rule records as IVMS101 JSON, transactions and
    rejections as CSV and JSON with their leaves, signed at a checkpoint like the report."""
    from ledger.audit.files import FileProblem
    from ledger.cli.edges import parse_time
    from ledger.supervisor.extract import gather_extract
    from ledger.supervisor.files import write_extract
    from ledger.supervisor.report import covered

    with user_errors():
        if out_dir.exists() and any(out_dir.iterdir()):
            raise UserError(f"{out_dir} exists and is not empty: choose a new directory")
        start, end = (parse_time(since) if since else None), (parse_time(until) if until else None)
        if start is not None and end is not None and start >= end:
            raise UserError(f"--since {since} is not before --until {until}")
        sandbox = sandbox_for(home, database_url)
        with sandbox.open(auto_checkpoint=False) as ledger:
            signer, checkpoint = _checkpoint_now(sandbox, ledger)
            size, root = covered(checkpoint)
            with ledger.read_model.session() as session:
                extract = gather_extract(ledger.read_model, session, size, start, end)
            try:
                write_extract(out_dir, extract, ledger.audit.origin, checkpoint, size, root, signer)
            except FileProblem as error:
                raise UserError(str(error)) from None
    counts = {
        "transactions": len(extract.transactions.rows),
        "rejections": len(extract.rejections.rows),
        "travel_rule_records": len(extract.travel_rule),
    }
    if as_json:
        print(json.dumps({"directory": str(out_dir), "checkpoint": size, "signed": signer is not None, **counts}))
        return
    out.print(
        f"Extract written to {out_dir}: {counts['transactions']} transactions, {counts['rejections']} rejections, "
        f"{counts['travel_rule_records']} travel-rule records (IVMS101), at the checkpoint of {size} leaves",
        soft_wrap=True,
    )


@report_app.command("verify")
def report_verify(
    directory: Annotated[Path, typer.Argument(help="A report directory 'ledger report supervisor' wrote.")],
    key: Annotated[str, typer.Option(help="The bank's verifier key, pinned by you.")],
    bundle: Annotated[
        Path | None,
        typer.Option(help="The bank's audit bundle: replayed to the report's checkpoint, digests compared."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check a report offline: its signature, every file it lists, and (with --bundle) that the bundle's
    replay to its checkpoint gives the very views it was written from."""
    from ledger.audit.files import FileProblem
    from ledger.audit.notes import NoteError
    from ledger.supervisor.files import check_against_bundle, check_report

    with user_errors():
        if not directory.is_dir():
            raise UserError(f"{directory}: not a report directory")
        try:
            signed, document, problems = check_report(directory, key)
        except (NoteError, FileProblem, ValueError) as error:
            signed, document, problems = None, {}, [str(error)]
        if signed is not None and not problems and bundle is not None:
            problems = check_against_bundle(bundle, key, signed, document)
    if as_json:
        print(
            json.dumps(
                {"verified": not problems, "problems": problems, "checkpoint": signed.size if signed else None},
                indent=2,
            )
        )
    elif problems:
        for problem in problems:
            err.print(f"[red]FAIL[/] {escape(problem)}", highlight=False, soft_wrap=True)
    else:
        assert signed is not None
        against = " and the bundle's replay gives its views" if bundle else ""
        out.print(f"[green]verified[/] {directory} at the checkpoint of {signed.size} leaves{against}", soft_wrap=True)
    if problems:
        raise typer.Exit(1)
