"""Scenario files as a user writes them: shipped ones run by name, YAML 1.2, a
schema for editors, and every mistake named by file, line and column."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from ledger.scenario import SHIPPED, ScenarioError, load
from tests.acceptance.cli import ledger


def shipped_files() -> list[Path]:
    return sorted(SHIPPED.glob("[!_]*.yaml"))


def test_scenario_list_names_every_shipped_scenario_with_its_line() -> None:
    result = ledger("scenario", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["name"] for row in rows] == [path.stem for path in shipped_files()]
    for row in rows:  # each line is the file's own description field
        assert YAML(typ="safe").load(Path(row["path"]).read_text())["description"] == row["description"]
    text = ledger("scenario", "list")
    assert "domestic_trading  Residents trade on listed domestic venues only" in text.stdout


def test_a_shipped_scenario_runs_by_its_name_from_a_folder_without_a_checkout(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    result = subprocess.run(
        [sys.executable, "-m", "ledger", "scenario", "run", "domestic_trading", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == 0
    assert [Path(name).name for name in report["scenarios"]] == ["domestic_trading.yaml"]
    assert list(tmp_path.iterdir()) == []  # nothing left in the folder it ran from


def test_a_path_wins_over_a_shipped_name(tmp_path: Path) -> None:
    (tmp_path / "funding").write_text("name: mine\nsteps:\n  - register_asset: {code: BYN, scale: 2, kind: fiat}\n")
    result = subprocess.run(
        [sys.executable, "-m", "ledger", "scenario", "run", "funding", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout)["scenarios"]) == ["funding"]


def test_an_unknown_scenario_name_says_which_was_likely_meant() -> None:
    result = ledger("scenario", "run", "domestic_tradng")
    assert result.returncode == 2
    assert (
        "domestic_tradng: no such file, folder or shipped scenario: did you mean 'domestic_trading'?" in result.stderr
    )
    assert "Traceback" not in result.stderr


def validator() -> jsonschema.Draft202012Validator:
    result = ledger("scenario", "schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def as_json(text: str) -> object:
    """The YAML as the JSON an editor checks: dates and times as text."""
    return json.loads(json.dumps(YAML(typ="safe").load(text), default=str))


def test_every_shipped_scenario_is_valid_against_the_schema() -> None:
    check = validator()
    for path in [*shipped_files(), SHIPPED / "_world.yaml"]:
        problems = [error.message for error in check.iter_errors(as_json(path.read_text()))]
        assert problems == [], path


@pytest.mark.parametrize(
    "text",
    [
        "steps:\n  - depositt: {client_id: a, asset: BYN, amount: '1', reference: r}\n",
        "steps:\n  - deposit: {client_id: a, asset: BYN, amount: '1', referenc: r}\n",
        "steps:\n  - deposit: {client_id: a, asset: BYN, amount: '1', reference: r}\n    expct: accepted\n",
        "steps:\n  - register_asset: {code: BYN, scale: two, kind: fiat}\n",
        "step: []\n",
    ],
    ids=["command-type", "field", "step-field", "field-type", "scenario-field"],
)
def test_a_wrong_scenario_fails_schema_validation(text: str) -> None:
    assert list(validator().iter_errors(as_json("name: wrong\n" + text)))


def test_scenario_schema_writes_the_file_it_is_given(tmp_path: Path) -> None:
    target = tmp_path / "scenario.schema.json"
    result = ledger("scenario", "schema", "--out", str(target), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"path": str(target)}
    schema = json.loads(target.read_text())
    assert "deposit" in json.dumps(schema["$defs"]["DepositStep"]["properties"])


def test_yaml_1_2_keeps_no_yes_and_on_as_text(tmp_path: Path) -> None:
    scenario = tmp_path / "norway.yaml"
    scenario.write_text(
        "name: norway\nsteps:\n"
        "  - onboard_client: {client_id: yes, name: NO, residency: non_resident, kind: individual}\n"
        "  - register_asset: {code: 'ON', scale: 0o2, kind: fiat}\n"
    )
    _, _, _, (onboard, asset) = load(scenario)
    assert onboard.command is not None
    assert not isinstance(onboard.command, str)
    assert onboard.command.model_dump()["client_id"] == "yes"
    assert onboard.command.model_dump()["name"] == "NO"
    assert asset.command is not None
    assert not isinstance(asset.command, str)
    assert asset.command.model_dump()["scale"] == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "steps:\n  - depositt: {client_id: a, asset: BYN, amount: '1', reference: r}\n",
            ":3:5: unknown command type 'depositt': did you mean 'deposit'? (ledger scenario schema lists them all)",
        ),
        (
            "steps:\n  - deposit: {client_id: a, asset: BYN, amount: '1', referenc: r}\n",
            ":3:54: unknown field 'referenc' in deposit: did you mean 'reference'?",
        ),
        (
            "steps:\n  - initiate_settlement: {originator: {nme: X}}\n",
            ":3:40: unknown field 'nme' in initiate_settlement.originator: did you mean 'name'?",
        ),
        (
            "steps:\n  - deposit: {client_id: a, asset: BYN, amount: '1', reference: r}\n    expct: accepted\n",
            ":4:5: unknown step field 'expct': did you mean 'expect'?",
        ),
        (
            "steps:\n  - register_asset: {code: BYN, scale: two, kind: fiat}\n",
            ":3:40: register_asset: scale: Input should be a valid integer",
        ),
        ("stepz: []\n", ":2:1: unknown scenario field 'stepz': did you mean 'steps'?"),
        (
            "steps:\n  - deposit: {type: withdraw, client_id: a, asset: BYN, amount: '1', reference: r}\n",
            ":3:15: deposit takes no type field: the step's key is its type",
        ),
        ("steps:\n  - deposit: {client_id: a, client_id: b}\n", ":3:29: duplicate key 'client_id'"),
        ("steps:\n  - deposit: {client_id: [\n", ":4:1: not valid YAML"),
        ("steps:\n  - advance: 3 dayz\n", ":3:14: advance takes '<n> days'"),
        (
            "steps:\n  - verify_kyc: {client_id: a}\n    expect: {rejected: KYC_NOT_VERIFED}\n",
            ":4:24: unknown rule code 'KYC_NOT_VERIFED': did you mean 'KYC_NOT_VERIFIED'?",
        ),
        (
            "steps:\n  - verify_kyc: {client_id: a}\n    expect: {invalid: {code: AMOUNT_NOT_POSITIV}}\n",
            ":4:30: unknown error code 'AMOUNT_NOT_POSITIV': did you mean 'AMOUNT_NOT_POSITIVE'?",
        ),
        (
            "steps:\n  - verify_kyc: {client_id: a}\n    expect: {rejectd: KYC_NOT_VERIFIED}\n",
            ":4:14: unknown expectation 'rejectd': did you mean 'rejected'?",
        ),
        ("steps:\n  - verify_kyc: {client_id: a}\n    expect: acepted\n", ":4:13: expect is 'accepted', {rejected"),
        (
            "steps:\n  - deposit: {client_id: a, asset: BYN, amount: 1.5, reference: r}\n",
            ":3:49: deposit: write the amount 1.5 as a quoted string",
        ),
        (
            "steps:\n  - deposit: {client_id: a, asset: BYN, amount: '1', reference: \x07}\n",
            ":3:65: not valid YAML: character U+0007 is not allowed",
        ),
    ],
    ids=[
        "command-type",
        "field",
        "nested-field",
        "step-field",
        "field-type",
        "scenario-field",
        "type-field",
        "duplicate",
        "syntax",
        "advance",
        "rule-code",
        "error-code",
        "expectation",
        "accepted",
        "float",
        "character",
    ],
)
def test_every_mistake_in_a_scenario_names_its_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text("name: wrong\n" + text)
    with pytest.raises(ScenarioError) as error:
        load(scenario)
    assert str(error.value).startswith(f"{scenario}{message}"), str(error.value)


def test_bytes_that_are_not_utf8_are_named_by_line_and_column(tmp_path: Path) -> None:
    scenario = tmp_path / "latin1.yaml"
    scenario.write_bytes(b"name: x\nsteps:\n  - onboard_client: {name: Ale\xf1a}\n")
    result = ledger("scenario", "run", str(scenario))
    assert result.returncode == 2
    assert f"{scenario}:3:31: not UTF-8: byte 0xf1" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_billion_laughs_is_refused_by_counting_its_aliases_expanded(tmp_path: Path) -> None:
    lines = ["name: laughs", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    scenario = tmp_path / "laughs.yaml"
    scenario.write_text("\n".join([*lines, "steps: []"]) + "\n")
    with pytest.raises(ScenarioError, match="more than 1000000 values, aliases expanded"):
        load(scenario)


@pytest.mark.parametrize("depth", [40, 5000])
def test_a_scenario_nested_too_deep_is_refused_where_the_level_too_many_starts(tmp_path: Path, depth: int) -> None:
    scenario = tmp_path / "deep.yaml"
    scenario.write_text("name: deep\nsteps: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(ScenarioError) as error:
        load(scenario)
    assert str(error.value) == f"{scenario}:2:39: nested deeper than 32 levels"  # the 32nd bracket, level 33


def test_a_scenario_larger_than_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    scenario = tmp_path / "large.yaml"
    scenario.write_bytes(b"name: large\n" + b"#" * (16 * 1024 * 1024))
    with pytest.raises(ScenarioError, match=f"^{scenario}: larger than 16777216 bytes$"):
        load(scenario)
