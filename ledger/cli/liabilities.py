"""`ledger audit liabilities`: proof of liabilities at a checkpoint (DESIGN.md section 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from ledger.cli.audit import audit_app
from ledger.cli.edges import DatabaseUrlOption, HomeOption, JsonOption, UserError, err, out, sandbox_for, user_errors
from ledger.home import DEFAULT_HOME

liabilities_app = typer.Typer(
    help="Proof of liabilities: per asset, a Merkle-sum tree of client balances at a checkpoint.",
    no_args_is_help=True,
)
audit_app.add_typer(liabilities_app, name="liabilities")

STATEMENT_FILE = "liabilities.note"  # public: the signed statement
TREE_FILE = "tree.json"  # the bank's private record: every leaf with its salt
TREE_SIZE_MAX = 1 << 30  # bytes of a tree document read back


@liabilities_app.command("build")
def liabilities_build(
    out_dir: Annotated[Path, typer.Option("--out", help="A new or empty directory for the statement and the tree.")],
    size: Annotated[
        int | None, typer.Option(help="The size of a signed checkpoint to build at (default: the latest).")
    ] = None,
    home: HomeOption = DEFAULT_HOME,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build the trees at a signed checkpoint and sign their roots.

    Writes the signed statement (liabilities.note, for the supervisor and the clients) and the tree with
    every leaf's salt (tree.json, the bank's own: proofs are given from it), readable by you alone.
    """
    from ledger.audit.files import FileProblem, open_new_folder
    from ledger.audit.holdings import client_holdings
    from ledger.audit.liabilities import LiabilitiesError, build
    from ledger.audit.notes import NoteError, Verifier, open_checkpoint
    from ledger.progress import no_progress, progress

    with user_errors():
        sandbox = sandbox_for(home, database_url)
        signer = sandbox.signer()
        verifiers = [Verifier.parse(key) for key in sandbox.verifier_keys()]
        with sandbox.open(auto_checkpoint=False) as ledger:
            stored = _checkpoint_at(ledger, size) if size is not None else ledger.audit.latest_checkpoint()
            if stored is None:
                stored = ledger.audit.checkpoint(signer, ledger.clock.now())
            try:
                checkpoint, _ = open_checkpoint(stored.note, verifiers)
            except NoteError as error:
                raise UserError(f"the checkpoint of {stored.size} leaves does not verify: {error}") from None
            show = no_progress if as_json else progress
            with show("reading events", total=checkpoint.size) as advance:
                holdings = client_holdings(_counted(ledger.audit.events(0, checkpoint.size), advance))
        try:
            built = build(signer, (checkpoint.size, checkpoint.root), holdings.scales, holdings.balances)
            with open_new_folder(out_dir) as folder:
                folder.write_new(STATEMENT_FILE, built.note.encode())
                folder.write_new(TREE_FILE, (json.dumps(built.tree_document(), indent=1) + "\n").encode())
        except (FileProblem, LiabilitiesError) as error:
            raise UserError(str(error)) from None
    if as_json:
        print(
            json.dumps(
                {
                    "statement": str(out_dir / STATEMENT_FILE),
                    "tree": str(out_dir / TREE_FILE),
                    **built.statement.to_json(),
                },
                indent=2,
            )
        )
        return
    out.print(
        f"Liabilities at the checkpoint of {checkpoint.size} leaves, signed in {out_dir / STATEMENT_FILE}:",
        soft_wrap=True,
    )
    _print_totals(built.statement)
    out.print(f"The tree with every client's salt (keep it private): {out_dir / TREE_FILE}", soft_wrap=True)


def _checkpoint_at(ledger: Any, size: int) -> Any:
    found = [stored for stored in ledger.audit.checkpoints() if stored.size == size]
    if not found:
        sizes = [stored.size for stored in ledger.audit.checkpoints()][-5:]
        raise UserError(f"no signed checkpoint of {size} leaves (the latest: {', '.join(map(str, sizes)) or 'none'})")
    return found[0]


def _counted(events: Any, advance: Any) -> Any:
    for count, event in enumerate(events, 1):
        yield event
        if count % 10_000 == 0:
            advance(10_000)


@liabilities_app.command("prove")
def liabilities_prove(
    client: Annotated[str, typer.Option(help="The client whose balances to prove.")],
    tree: Annotated[Path, typer.Option(help="The directory 'liabilities build' wrote.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the client's proof (JSON).")],
    home: HomeOption = DEFAULT_HOME,
    as_json: JsonOption = False,
) -> None:
    """Write a client's inclusion proof: their balance of each asset, its salt and its path to the signed root."""
    from ledger.audit.files import FileProblem, replace_file
    from ledger.audit.liabilities import LiabilitiesError, prove, read_tree

    with user_errors():
        keys = sandbox_for(home, None).verifier_keys()
        document = _read_json(tree / TREE_FILE if tree.is_dir() else tree, TREE_SIZE_MAX)
        try:
            proof = prove(read_tree(document, keys), client)
            replace_file(out_file, (json.dumps(proof, indent=2) + "\n").encode())
        except (FileProblem, LiabilitiesError) as error:
            raise UserError(str(error)) from None
    if as_json:
        print(
            json.dumps(
                {"proof": str(out_file), "client_id": client, "assets": [entry["asset"] for entry in proof["entries"]]}
            )
        )
        return
    assets = ", ".join(entry["asset"] for entry in proof["entries"])
    out.print(f"Proof of client {escape(client)}'s balances ({assets}) written to {out_file}", soft_wrap=True)


@liabilities_app.command("verify")
def liabilities_verify(
    path: Annotated[
        Path,
        typer.Argument(
            help="A client's proof, a statement (liabilities.note), or the directory or tree.json of a build."
        ),
    ],
    key: Annotated[str, typer.Option(help="The bank's verifier key, pinned by you (never taken from the files).")],
    bundle: Annotated[
        Path | None,
        typer.Option(help="The bank's exported audit bundle: the totals (and balances) must be what its replay gives."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify offline: a client's proof (path, sums, signature), or the whole tree, or a statement alone;
    with --bundle, also that the checkpoint is the bundle's and the totals equal its replay's holdings."""
    from ledger.audit.liabilities import LiabilitiesError

    with user_errors():
        source = path / TREE_FILE if path.is_dir() else path
        raw = _read(source, TREE_SIZE_MAX)
        kind, statement, problems = "", None, []
        balances: dict[str, dict[str, int]] = {}
        try:
            kind, statement, balances = _open_any(raw, source, key)
            if bundle is not None:
                problems = _against_bundle(bundle, key, statement, balances, as_json)
        except LiabilitiesError as error:
            problems = [str(error)]
    if as_json:
        print(
            json.dumps(
                {
                    "verified": not problems,
                    "kind": kind if statement else None,
                    "problems": problems,
                    "statement": statement.to_json() if statement else None,
                    "balances": _as_text(balances) if kind == "proof" else None,
                },
                indent=2,
            )
        )
    elif problems:
        for problem in problems:
            err.print(f"[red]FAIL[/] {escape(str(source))}: {escape(problem)}", highlight=False, soft_wrap=True)
    else:
        assert statement is not None
        checked = " and its totals equal the bundle's replay" if bundle else ""
        out.print(
            f"[green]verified[/] {kind} at the checkpoint of {statement.checkpoint_size} leaves{checked}",
            soft_wrap=True,
        )
        _print_totals(statement)
        if kind == "proof":
            _print_balances(statement, balances)
    if problems:
        raise typer.Exit(1)


def _open_any(raw: bytes, source: Path, key: str) -> tuple[str, Any, dict[str, dict[str, int]]]:
    """What the file is (a proof, a tree or a statement), its verified statement, and the balances it gives."""
    from ledger.audit.liabilities import PROOF_FORMAT, open_statement, read_tree, verify_proof

    if not raw.startswith(b"{"):
        return "statement", open_statement(_utf8(raw, source), [key]), {}
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise UserError(f"{source}: not JSON ({error})") from None
    if isinstance(document, dict) and document.get("format") == PROOF_FORMAT:
        proven = verify_proof(document, [key])
        return "proof", proven.statement, {proven.client_id: proven.balances}
    built = read_tree(document, [key])
    return "tree", built.statement, _by_client(built)


def _as_text(balances: dict[str, dict[str, int]]) -> dict[str, dict[str, str]]:
    return {client: {code: str(b) for code, b in held.items()} for client, held in balances.items()}


def _by_client(built: Any) -> dict[str, dict[str, int]]:
    balances: dict[str, dict[str, int]] = {}
    for code, tree in built.trees.items():
        for holding in tree.holdings:
            balances.setdefault(holding.client_id, {})[code] = holding.balance
    return balances


def _against_bundle(
    bundle: Path, key: str, statement: Any, balances: dict[str, dict[str, int]], quiet: bool
) -> list[str]:
    """The statement's checkpoint, totals and any balances given, against a verified bundle's replay."""
    from ledger.audit.holdings import HoldingsError, bundle_at
    from ledger.audit.liabilities import check_against_holdings
    from ledger.audit.verify import verify_bundle
    from ledger.progress import no_progress, progress

    findings = verify_bundle(bundle, key)
    if findings:
        return [f"the bundle does not verify: {finding}" for finding in findings[:5]]
    manifest = json.loads((bundle / "manifest.json").read_text())
    if manifest.get("first_index", 0) != 0:
        return ["the bundle is incremental: its replay needs the whole log (export it without --since)"]
    try:
        at = bundle_at(bundle, statement.checkpoint_size, no_progress if quiet else progress)
    except HoldingsError as error:
        return [str(error)]
    if at.root != statement.checkpoint_root:
        return [
            f"the statement's checkpoint of {statement.checkpoint_size} leaves is not the bundle's tree at that size"
        ]
    problems = check_against_holdings(statement, at.holdings.scales, at.holdings.balances)
    for client, held in sorted(balances.items()):
        for code, balance in sorted(held.items()):
            replayed = at.holdings.balances.get(code, {}).get(client, 0)
            if replayed != balance:
                problems.append(f"{code}: client {client} holds {replayed} in the replay, {balance} in the tree")
    return problems


def _print_totals(statement: Any) -> None:
    from domain.money import format_amount

    for asset in statement.assets:
        total = format_amount(asset.total, scale=asset.scale)
        clients = f"{asset.clients} client" + ("" if asset.clients == 1 else "s")
        out.print(f"  {asset.asset:<8} {total:>28} over {clients}", highlight=False, soft_wrap=True)


def _print_balances(statement: Any, balances: dict[str, dict[str, int]]) -> None:
    from domain.money import format_amount

    for client, held in balances.items():
        out.print(f"of which client {escape(client)} holds:", highlight=False, soft_wrap=True)
        for code, balance in sorted(held.items()):
            amount = format_amount(balance, scale=statement.asset(code).scale)
            out.print(f"  {code:<8} {amount:>28}", highlight=False)


def _read(path: Path, size_max: int) -> bytes:
    from ledger.audit.files import FileProblem, read_file

    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        return read_file(path, size_max)
    except FileProblem as error:
        raise UserError(str(error)) from None


def _read_json(path: Path, size_max: int) -> Any:
    try:
        return json.loads(_read(path, size_max))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise UserError(f"{path}: not JSON ({error})") from None


def _utf8(raw: bytes, path: Path) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
