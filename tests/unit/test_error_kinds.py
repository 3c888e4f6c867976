"""Every refusal is a named error kind with a stable code, so that callers match a code, not a message."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from domain.errors import (
    RULE_VIOLATIONS,
    AmountNotPositive,
    InvalidCommand,
    RuleViolation,
    error_kinds,
)
from domain.money import parse_amount

ROOT = Path(__file__).resolve().parents[2]


def test_every_error_kind_has_a_code_of_its_own() -> None:
    codes = [kind.code for kind in error_kinds()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z][A-Z_]+", code) for code in codes)


def test_a_rule_violations_code_is_its_rule_code() -> None:
    for rule, kind in RULE_VIOLATIONS.items():
        assert kind.code == rule
    assert {kind for kind in error_kinds() if issubclass(kind, RuleViolation)} - {RuleViolation} == set(
        RULE_VIOLATIONS.values()
    )


def test_an_amount_that_is_not_positive_is_refused_with_its_code() -> None:
    with pytest.raises(AmountNotPositive) as refused:
        parse_amount("0", asset="BYN", scale=2)
    assert refused.value.code == "AMOUNT_NOT_POSITIVE"
    assert refused.value.message == "invalid amount '0.00' for BYN: must be greater than zero"


def _raised_free_text(path: Path) -> list[int]:
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == InvalidCommand.__name__
    ]


def test_no_rule_refuses_with_a_free_text_reason() -> None:
    sources = [*sorted((ROOT / "domain").rglob("*.py")), ROOT / "ledger" / "service.py"]
    found = {str(path.relative_to(ROOT)): lines for path in sources if (lines := _raised_free_text(path))}
    assert found == {}


def test_the_readme_names_every_code_a_caller_can_meet() -> None:
    readme = (ROOT / "README.md").read_text()
    unnamed = sorted(
        kind.code
        for kind in error_kinds()
        if not kind.__subclasses__() and f"`{kind.code}`" not in readme  # the kinds raised, not their bases
    )
    assert unnamed == []
