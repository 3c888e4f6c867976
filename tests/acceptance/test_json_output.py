"""Every command speaks JSON with --json, in the shape the README's "JSON output" documents.

The README's table is the contract: it is parsed here, every command of `ledger`
must have a row, and every command is run (real subprocesses, on a demo bank)
and its output checked against its row, so that the docs and the code cannot
drift. Errors under --json are one JSON object on stderr, nothing on stdout,
with the exit code the same command has without --json.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main

from ledger.cli import app
from tests.acceptance.cli import ledger, store_digest, write_batch

README = Path(__file__).parents[2] / "README.md"
SECTION = "### JSON output"

# Commands documented but not run here: a benchmark takes minutes (tests/acceptance/test_bench.py runs it).
NOT_RUN = {"ledger bench"}

TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True)
class Shape:
    document: str  # object, array (of objects), lines (JSON lines of objects), line (one JSON line, then serving)
    keys: dict[str, tuple[str, bool]]  # name: (type, may be null)


def documented_shapes() -> dict[str, Shape]:
    """The README's table: | `ledger COMMAND` | document | `key` type, `key` type? ... |."""
    text = README.read_text()
    start = text.index(SECTION)
    end = text.find("\n#", start + len(SECTION))
    shapes = {}
    for line in text[start:end].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        found = re.fullmatch(r"`(ledger [a-z -]+?)`", cells[0]) if len(cells) == 3 else None
        if found is None:
            continue
        keys = re.findall(r"`([$A-Za-z_0-9]+)` (string|integer|number|boolean|object|array)(\??)", cells[2])
        shapes[found.group(1)] = Shape(cells[1], {name: (kind, bool(null)) for name, kind, null in keys})
    return shapes


def every_command() -> list[str]:
    def walk(command: Any, path: str) -> Iterator[str]:
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}") if hasattr(sub, "commands") else [f"{path} {name}"]

    return sorted(walk(typer.main.get_command(app), "ledger"))


def test_the_readme_documents_the_json_of_every_command() -> None:
    documented = documented_shapes()
    assert sorted(set(every_command()) - set(documented)) == []
    assert all(shape.keys for shape in documented.values()), "a row without keys"


@contextmanager
def serving(*args: str) -> Iterator[dict[str, Any]]:
    """A command that serves until stopped: its first line, parsed; stopped at the end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        yield json.loads(line)
    finally:
        process.terminate()
        process.communicate(timeout=30)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run(outputs: dict[str, Ran], name: str, *args: str) -> Any:
    """Runs `ledger ARGS --json`, keeps its output under the README's command name, returns it parsed."""
    result = ledger(*args, "--json")
    outputs[name] = Ran(result.returncode, result.stdout, result.stderr)
    assert result.returncode in (0, 1), f"{name}: {result.stderr}"
    try:
        return json.loads(result.stdout)
    except ValueError:  # JSON lines
        return None


def run_every_command(tmp: Path) -> dict[str, Ran]:
    """Every command of `ledger` once, with --json, on a demo bank and its copies."""
    outputs: dict[str, Ran] = {}
    bank, fresh, copy = str(tmp / "bank"), str(tmp / "fresh"), tmp / "copy"
    run(outputs, "ledger init", "init", "--home", fresh, "--sandbox-key")
    demo = run(outputs, "ledger demo", "demo", "--home", bank)
    bundle, key = demo["bundle"], demo["verifier_key"]
    run(outputs, "ledger migrate", "migrate", "--home", bank)
    run(outputs, "ledger snapshot", "snapshot", "--home", bank)
    venue = {"type": "list_venue", "key": "v9", "venue_id": "v9", "name": "V9", "kind": "htp_platform",
             "assets": ["BYN"]}  # fmt: skip
    run(outputs, "ledger submit", "submit", str(write_batch(tmp / "batch.jsonl", venue)), "--home", bank)
    run(outputs, "ledger trade", "trade", "--key", "t9", "--venue", "minsk-htp", "--buyer", "alesia",
        "--seller", "nord-timber", "--base", "USDT", "--base-amount", "1", "--quote", "BYN", "--quote-amount", "3.30",
        "--home", bank)  # fmt: skip
    run(outputs, "ledger simulate", "simulate", "--seed", "1", "--clients", "3", "--days", "1",
        "--operations-per-day", "5", "--home", fresh)  # fmt: skip
    for name in ("balances", "clients", "transactions", "log", "replay"):
        run(outputs, f"ledger {name}", name, "--home", bank)
    run(outputs, "ledger venues list", "venues", "list", "--home", bank)
    run(outputs, "ledger venues add", "venues", "add", "v10", "--name", "V10", "--kind", "foreign_exchange",
        "--assets", "BYN", "--key", "v10", "--home", bank)  # fmt: skip
    run(outputs, "ledger venues delist", "venues", "delist", "v10", "--reason", "test", "--key", "v10-off",
        "--home", bank)  # fmt: skip
    for name in ("compliance", "settlements"):
        run(outputs, f"ledger report {name}", "report", name, "--home", bank)
    run(outputs, "ledger report supervisor", "report", "supervisor", "--out", str(tmp / "report"), "--home", bank)
    run(outputs, "ledger report extract", "report", "extract", "--out", str(tmp / "extract"), "--home", bank)
    run(outputs, "ledger report verify", "report", "verify", str(tmp / "report"), "--key", key)
    run(outputs, "ledger sandbox fork", "sandbox", "fork", str(copy), "--home", bank)
    run(outputs, "ledger sandbox clock", "sandbox", "clock", "--advance", "1h", "--home", str(copy))
    run(outputs, "ledger sandbox reset", "sandbox", "reset", "--yes", "--home", str(copy))
    scenario = str(Path(__file__).parents[2] / "ledger" / "scenarios" / "funding.yaml")
    run(outputs, "ledger scenario run", "scenario", "run", scenario)
    run(outputs, "ledger scenario list", "scenario", "list")
    run(outputs, "ledger scenario schema", "scenario", "schema")
    run(outputs, "ledger audit key", "audit", "key", "--home", bank)
    run(outputs, "ledger audit checkpoint", "audit", "checkpoint", "--home", bank)
    run(outputs, "ledger audit check-store", "audit", "check-store", "--home", bank)
    run(outputs, "ledger audit export", "audit", "export", str(tmp / "bundle"), "--home", bank)
    run(outputs, "ledger audit verify", "audit", "verify", bundle, "--key", key)
    proof = str(tmp / "leaf.proof")
    run(outputs, "ledger audit prove", "audit", "prove", "--index", "3", "--out", proof, "--home", bank)
    run(outputs, "ledger audit verify-proof", "audit", "verify-proof", proof, "--key", key)
    run(outputs, "ledger audit rotate-key", "audit", "rotate-key", "--home", str(copy), "--sandbox-key")
    witness, served = str(tmp / "witness"), str(tmp / "served-witness")
    witness_key = run(outputs, "ledger audit witness-init", "audit", "witness-init", "--witness-home", witness,
                      "--name", "supervisor.example/w1", "--sandbox-key")["witness_key"]  # fmt: skip
    run(outputs, "ledger audit cosign", "audit", "cosign", str(tmp / "bundle"), "--key", key, "--witness-home", witness)
    made = ledger("audit", "witness-init", "--witness-home", served, "--name", "supervisor.example/w2", "--sandbox-key",
                  "--json")  # fmt: skip
    served_key = json.loads(made.stdout)["witness_key"]
    with serving("audit", "witness", "serve", "--witness-home", served, "--log-key", key, "--port", "0",
                 "--json") as line:  # fmt: skip
        outputs["ledger audit witness serve"] = Ran(0, json.dumps(line), "")
        run(outputs, "ledger audit witness add", "audit", "witness", "add", line["listening"], served_key,
            "--home", bank)  # fmt: skip
        run(outputs, "ledger audit witness submit", "audit", "witness", "submit", "--home", bank)
    assert witness_key != served_key
    liabilities = tmp / "liabilities"
    run(outputs, "ledger audit liabilities build", "audit", "liabilities", "build", "--out", str(liabilities),
        "--home", bank)  # fmt: skip
    client_proof = str(tmp / "alesia.json")
    run(outputs, "ledger audit liabilities prove", "audit", "liabilities", "prove", "--client", "alesia",
        "--tree", str(liabilities), "--out", client_proof, "--home", bank)  # fmt: skip
    run(outputs, "ledger audit liabilities verify", "audit", "liabilities", "verify", client_proof, "--key", key)
    key_id = run(outputs, "ledger api-key create", "api-key", "create", "--role", "viewer", "--home", bank)["key_id"]
    run(outputs, "ledger api-key list", "api-key", "list", "--home", bank)
    run(outputs, "ledger api-key revoke", "api-key", "revoke", key_id, "--home", bank)
    with serving("serve", "--home", bank, "--port", "0", "--quiet", "--json") as line:
        outputs["ledger serve"] = Ran(0, json.dumps(line), "")
    return outputs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    return run_every_command(tmp_path_factory.mktemp("json"))


def documents(shape: Shape, stdout: str) -> list[Any]:
    """The objects a command's stdout holds, as its shape says it holds them."""
    if shape.document in ("lines", "line"):
        lines = stdout.splitlines()
        assert lines, "no JSON lines"
        return [json.loads(line) for line in lines]
    document = json.loads(stdout)
    if shape.document == "array":
        assert isinstance(document, list)
        return document
    return [document]


@pytest.mark.parametrize("command", sorted(set(documented_shapes()) - NOT_RUN))
def test_every_command_prints_the_documented_json(outputs: dict[str, Ran], command: str) -> None:
    shape = documented_shapes()[command]
    result = outputs[command]
    found = documents(shape, result.stdout)
    assert found, f"{command}: an empty array shows no keys; the story should give it rows"
    for document in found:
        assert isinstance(document, dict)
        assert sorted(document) == sorted(shape.keys), command
        for name, (kind, nullable) in shape.keys.items():
            value = document[name]
            if value is None:
                assert nullable, f"{command}: {name} is null, documented as {kind}"
                continue
            assert isinstance(value, TYPES[kind]), f"{command}: {name} is {type(value).__name__}, not {kind}"
            assert kind in ("integer", "number") or not isinstance(value, bool) or kind == "boolean"


def the_error(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """Standard error holds exactly one JSON object, an error with the documented keys."""
    assert result.stdout == ""
    document = json.loads(result.stderr)
    assert list(document) == ["error"]
    error = document["error"]
    assert {"code", "message", "hint", "exit_code"} <= set(error)
    assert error["exit_code"] == result.returncode
    assert isinstance(error["message"], str)
    assert error["message"]
    return dict(error)


def test_a_missing_store_is_a_json_error_with_the_exit_code_it_has_without_json(tmp_path: Path) -> None:
    args = ("balances", "--home", str(tmp_path / "nowhere"))
    text, as_json = ledger(*args), ledger(*args, "--json")
    error = the_error(as_json)
    assert as_json.returncode == text.returncode == 2
    assert error["code"] == "user_error"
    assert "ledger init" in error["hint"]


def test_a_bad_input_file_is_a_json_error_naming_its_line_and_writes_nothing(home: Path, tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "bad.jsonl", '{"type": "deposit", "key": ')
    before = store_digest(home)
    args = ("submit", str(batch), "--home", str(home))
    text, as_json = ledger(*args), ledger(*args, "--json")
    error = the_error(as_json)
    assert as_json.returncode == text.returncode == 2
    assert error["code"] == "user_error"
    assert f"{batch}:1" in error["message"]
    assert store_digest(home) == before


def test_a_refused_command_is_a_json_error_carrying_its_code_and_position(home: Path, tmp_path: Path) -> None:
    byn = {"type": "register_asset", "key": "a1", "code": "BYN", "scale": 2, "kind": "fiat"}
    ledger("submit", str(write_batch(tmp_path / "setup.jsonl", byn)), "--home", str(home))
    before = store_digest(home)
    zero = {"type": "fund_treasury", "key": "zero", "asset": "BYN", "amount": "0", "reference": "r"}
    args = ("submit", str(write_batch(tmp_path / "refused.jsonl", zero)), "--home", str(home))
    text, as_json = ledger(*args), ledger(*args, "--json")
    error = the_error(as_json)
    assert as_json.returncode == text.returncode == 2
    assert error["code"] == "refused"
    assert error["refused"]["position"] == 0
    assert error["refused"]["key"] == "zero"
    assert error["refused"]["code"] == "AMOUNT_NOT_POSITIVE"
    assert store_digest(home) == before


@pytest.mark.parametrize(
    "args",
    [
        ("venues", "add", "v1", "--name", "V", "--kind", "bogus", "--assets", "BYN", "--key", "k"),
        ("balances", "--no-such-option"),
        ("audit", "prove", "--index", "not-a-number", "--out", "x"),
    ],
    ids=["an unknown option value", "an unknown option", "a malformed number"],
)
def test_a_mistake_in_the_command_line_is_a_json_usage_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    text, as_json = ledger(*args, "--home", str(tmp_path)), ledger(*args, "--home", str(tmp_path), "--json")
    error = the_error(as_json)
    assert as_json.returncode == text.returncode == 2
    assert error["code"] == "usage"
    assert "--help" in error["hint"]


def test_a_bug_under_json_is_a_json_error_naming_its_crash_log(home: Path, tmp_path: Path) -> None:
    program = (
        "import sys\n"
        "from ledger import sandbox\n"
        "from ledger.cli import main\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('a bug planted by the test')\n"
        "sandbox.Sandbox.open_reader = broken\n"
        "sys.argv = ['ledger', 'balances', '--home', sys.argv[1], '--json']\n"
        "main()\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    environment["LEDGER_CRASH_DIR"] = str(tmp_path / "crashes")
    result = subprocess.run(
        [sys.executable, "-c", program, str(home)], capture_output=True, text=True, env=environment, check=False
    )
    error = the_error(result)
    assert result.returncode == 70
    assert error["code"] == "internal_error"
    assert "RuntimeError: a bug planted by the test" in error["message"]
    assert "Traceback" in Path(error["crash_log"]).read_text()


def test_help_shows_flags_without_a_type_and_options_with_theirs() -> None:
    result = ledger("init", "--help", env={"COLUMNS": "200"})
    assert result.returncode == 0
    flags = [line for line in result.stdout.splitlines() if "--sandbox-key" in line or "--json" in line]
    assert len(flags) == 2
    assert all("<bool>" not in line for line in flags)
    assert "<path>" in next(line for line in result.stdout.splitlines() if "--home" in line)


def test_an_unreachable_database_is_a_temporary_json_error_exit_75(tmp_path: Path) -> None:
    args = ("balances", "--home", str(tmp_path), "--database-url", "postgresql://postgres@127.0.0.1:1/test")
    text, as_json = ledger(*args), ledger(*args, "--json")
    error = the_error(as_json)
    assert as_json.returncode == text.returncode == 75
    assert error["code"] == "temporary"
    assert error["hint"] == "try the same command again"


def test_a_proof_that_fails_is_a_result_verified_false_with_its_problem(home: Path, tmp_path: Path) -> None:
    proof = tmp_path / "leaf.proof"
    assert ledger("audit", "prove", "--index", "0", "--out", str(proof), "--home", str(home)).returncode == 0
    proof.write_text(proof.read_text().replace("\nindex 0\n", "\nindex 1\n", 1))  # not the leaf proven
    key = ledger("audit", "key", "--home", str(home)).stdout.strip()
    text = ledger("audit", "verify-proof", str(proof), "--key", key)
    as_json = ledger("audit", "verify-proof", str(proof), "--key", key, "--json")
    assert as_json.returncode == text.returncode == 1
    outcome = json.loads(as_json.stdout)
    assert outcome["verified"] is False
    assert outcome["leaf"] is None
    assert str(proof) in outcome["problem"]
