"""The rules are sliced by area: each command type is decided in one area module, and decide.py only dispatches."""

from __future__ import annotations

import ast
import inspect
from typing import get_args

import domain.decide
from domain.commands import BaseCommand, Command
from domain.decide import AREAS, DECIDERS
from domain.rules import base

AREA_NAMES = ("onboarding", "issuance", "funding", "trading", "compliance", "settlements", "corrections")


def _command_classes() -> set[type[BaseCommand]]:
    (union, _) = get_args(Command)
    return set(get_args(union))


def test_the_rules_have_one_module_per_area() -> None:
    assert tuple(area.__name__.removeprefix("domain.rules.") for area in AREAS) == AREA_NAMES


def test_each_command_is_decided_in_exactly_one_area() -> None:
    for command_class in _command_classes():
        areas = [area.__name__ for area in AREAS if command_class in area.DECIDERS]
        assert len(areas) == 1, (command_class.__name__, areas)


def test_the_dispatcher_decides_every_command_type_and_nothing_else() -> None:
    assert set(DECIDERS) == _command_classes()


def test_each_decider_lives_in_the_area_that_names_it() -> None:
    for area in AREAS:
        for command_class, decider in area.DECIDERS.items():
            assert decider.__module__ == area.__name__, (command_class.__name__, decider.__module__)
            assert DECIDERS[command_class] is decider


def test_decide_holds_no_rule_logic() -> None:
    """decide.py raises nothing but the one refusal that precedes every area
    (no bank yet) and defines no checks or deciders of its own."""
    tree = ast.parse(inspect.getsource(domain.decide))
    functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert functions == {"handle", "decide", "_rejection", "_dispatch_table"}
    raised = {
        node.exc.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
    }
    assert raised == {"BankNotEstablished"}


def test_the_shared_base_decides_no_command() -> None:
    assert not hasattr(base, "DECIDERS")
