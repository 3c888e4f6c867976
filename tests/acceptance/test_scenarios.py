"""The scenario library: every rule of the ledger, run from the command line as CI runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from domain.errors import INVALID_INPUT, RULE_VIOLATIONS, error_kinds
from tests.acceptance.cli import ledger

SCENARIOS = Path(__file__).resolve().parents[2] / "ledger" / "scenarios"


def test_every_scenario_in_the_library_passes() -> None:
    result = ledger("scenario", "run", str(SCENARIOS), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["failed"] == 0
    assert len(report["scenarios"]) >= 4


def test_the_library_covers_every_rule_code() -> None:
    text = "\n".join(path.read_text() for path in SCENARIOS.glob("*.yaml"))
    covered = set(re.findall(r"rejected: ([A-Z_]+)", text))
    assert covered == set(RULE_VIOLATIONS)


def test_a_step_whose_outcome_differs_fails_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "_world.yaml").write_text((SCENARIOS / "_world.yaml").read_text())
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(
        "name: wrong expectation\ninclude: [_world.yaml]\nsteps:\n"
        "  - name: a withdrawal the test wrongly expects to pass\n"
        "    withdraw: {client_id: alesia, asset: BYN, amount: '500', reference: o}\n"
        "    balances: {'client:alesia': {BYN: '99.00'}}\n"
    )
    result = ledger("scenario", "run", str(scenario))
    assert result.returncode == 1
    assert f"FAIL {scenario}:4" in result.stdout
    assert "expected accepted, got {'rejected': 'INSUFFICIENT_FUNDS'}" in result.stdout
    assert "balance of client:alesia in BYN: expected 99.00, got 100.00" in result.stdout
    assert "0 passed, 1 failed" in result.stdout


def test_a_refusal_is_matched_by_its_code_exactly_and_says_which_code_it_got(tmp_path: Path) -> None:
    (tmp_path / "_world.yaml").write_text((SCENARIOS / "_world.yaml").read_text())
    scenario = tmp_path / "codes.yaml"
    scenario.write_text(
        "name: codes\ninclude: [_world.yaml]\nsteps:\n"
        "  - name: a zero deposit, matched by its code\n"
        "    deposit: {client_id: alesia, asset: BYN, amount: '0', reference: r1}\n"
        "    expect: {invalid: {code: AMOUNT_NOT_POSITIVE}}\n"
        "  - name: a deposit of nothing in a made-up field, refused by validation\n"
        "    deposit: {client_id: alesia, asset: BYN, amount: '1', reference: r2, colour: red}\n"
        "    expect: {invalid: {code: INVALID_INPUT}}\n"
        "  - name: another code does not match (one that is no code at all is refused before the run)\n"
        "    deposit: {client_id: alesia, asset: BYN, amount: '0', reference: r3}\n"
        "    expect: {invalid: {code: AMOUNT_TOO_PRECISE}}\n"
    )
    result = ledger("scenario", "run", str(scenario))
    assert result.returncode == 1
    assert f"FAIL {scenario}:10" in result.stdout
    assert "refused with code AMOUNT_NOT_POSITIVE" in result.stdout
    assert "must be greater than zero'), not AMOUNT_TOO_PRECISE" in result.stdout
    assert "2 passed, 1 failed" in result.stdout


def test_every_code_in_the_library_names_an_error_kind() -> None:
    text = "\n".join(path.read_text() for path in SCENARIOS.glob("*.yaml"))
    codes = set(re.findall(r"invalid: \{code: ([A-Z_]+)\}", text))
    assert codes
    assert codes <= {kind.code for kind in error_kinds()} | {INVALID_INPUT}


def test_a_mistake_in_the_file_points_to_its_line(tmp_path: Path) -> None:
    scenario = tmp_path / "typo.yaml"
    scenario.write_text(
        "name: typo\nsteps:\n  - register_asset: {code: BYN, scale: 2, kind: fiat}\n"
        "  - deposit: {client_id: a, asset: BYN, amount: 12.5, reference: r}\n"
    )
    result = ledger("scenario", "run", str(scenario))
    assert result.returncode == 2
    assert f"{scenario}:4:49: deposit" in result.stderr  # the amount's line and column
    assert "quoted string" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nsteps:\n  - deposit: {client_id: [\n")
    result = ledger("scenario", "run", str(broken))
    assert result.returncode == 2
    assert "not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr
