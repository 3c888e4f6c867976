"""Scripted scenarios: commands with expected outcomes, balances and report values.

A scenario is a YAML file::

    name: Residents trade only on domestic venues
    start: 2026-02-02T09:00:00Z        # ledger time of the first command (optional)
    time_zone: Europe/Minsk            # the bank's zone, whose days are ledger days (optional)
    setup:                             # commands that must all be accepted
      - register_asset: {code: BYN, scale: 2, kind: fiat}
    steps:
      - name: a resident buys on a foreign venue
        execute_trade: {venue_id: offshore, buyer_client_id: alesia, ...}
        expect: {rejected: FOREIGN_VENUE_FORBIDDEN}   # or: accepted, {invalid: {code: NOT_A_TOKEN}},
                                                      # or {invalid: part of the message}
        balances: {client:alesia: {BYN: "100.00"}}    # after the step; absent assets are zero
        report: {compliance.by_rule.FOREIGN_VENUE_FORBIDDEN: 1}
      - advance: 31 days                 # moves ledger time on

Each command is written as `<command type>: {fields}`; its idempotency key is
made from the scenario's name and the step's line unless given. A scenario
runs in a fresh scratch sandbox. A mistake in the file is reported with its
line; a step whose outcome differs from the expected one fails, and the run
says which and why. A refused command is best matched by its error's code
(`{invalid: {code: AMOUNT_NOT_POSITIVE}}`, exactly; INVALID_INPUT for fields
that fail validation); a plain text still matches part of its message.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domain.calendar import DEFAULT_TIME_ZONE, zone_named
from domain.commands import COMMAND_ADAPTER, BaseCommand
from domain.errors import INVALID_INPUT, BatchRejected, LedgerError
from domain.money import decimal_digits, format_amount
from ledger.clock import ManualClock
from ledger.input import InputError, decode_utf8
from ledger.reports import compliance, settlements
from ledger.sandbox import Sandbox
from ledger.service import Ledger

DEFAULT_START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
STEPS_MAX = 10_000
SCENARIO_BYTES_MAX = 16 * 1024 * 1024
SCENARIO_DEPTH_MAX = 32
SCENARIO_NODES_MAX = 1_000_000
ADVANCE_COUNT_MAX = 1_000_000  # minutes, hours or days: a timedelta takes 999,999,999 days at most
_ADVANCE = re.compile(r"(?P<count>[0-9]{1,7}) (?P<unit>days?|hours?|minutes?)", re.ASCII)


class ScenarioError(Exception):
    """A mistake in the scenario file; the message names its line."""


@dataclass
class StepResult:
    line: int
    name: str
    passed: bool
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Step:
    line: int
    name: str
    command: BaseCommand | str | None  # text: why the command's fields were refused
    advance: timedelta | None
    expect: Any
    balances: dict[str, dict[str, str]] | None
    report: dict[str, Any] | None


def load(path: Path) -> tuple[str, datetime, list[_Step], list[_Step]]:
    name, start, _, setup, steps = _load(path)
    return name, start, setup, steps


def _load(path: Path) -> tuple[str, datetime, str, list[_Step], list[_Step]]:
    data, root = _read(path)
    name = str(data.get("name") or path.stem)
    start = _start(path, data.get("start"))
    time_zone = _time_zone(path, data.get("time_zone", DEFAULT_TIME_ZONE))
    lines = {key.value: value for key, value in root.value if isinstance(key, yaml.ScalarNode)}
    setup = _included(path, data.get("include") or [])
    setup += _steps(path, name, data.get("setup") or [], lines.get("setup"), setup=True)
    steps = _steps(path, name, data.get("steps") or [], lines.get("steps"), setup=False)
    return name, start, time_zone, setup, steps


def _time_zone(path: Path, value: Any) -> str:
    try:
        zone_named(str(value))
    except LedgerError as error:
        raise ScenarioError(f"{path}: time_zone: {error.message}") from None
    return str(value)


def _read(path: Path) -> tuple[dict[str, Any], yaml.MappingNode]:
    """The file's mapping and its node (for line numbers), read strictly:
    UTF-8, within SCENARIO_BYTES_MAX, no key twice in a mapping, nested at
    most SCENARIO_DEPTH_MAX deep and SCENARIO_NODES_MAX nodes with every
    alias expanded (an alias of an alias of... would be a billion laughs)."""
    try:
        with path.open("rb") as file:
            data = file.read(SCENARIO_BYTES_MAX + 1)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read: {error.strerror or error}") from None
    if len(data) > SCENARIO_BYTES_MAX:
        raise ScenarioError(f"{path}: larger than {SCENARIO_BYTES_MAX} bytes")
    try:
        text = decode_utf8(data)
    except InputError as error:
        raise ScenarioError(f"{path}: {error.message}") from None
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)  # its reader refuses characters YAML does not allow, here
        root = loader.get_single_node()
        if root is not None:
            _check_size(path, root)
        document = loader.construct_document(root) if root is not None else None
    except yaml.reader.ReaderError as error:
        where = f"{path}:{text.count(chr(10), 0, error.position) + 1}"
        raise ScenarioError(f"{where}: not valid YAML: character U+{error.character:04X} is not allowed") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ScenarioError(f"{where}: not valid YAML: {getattr(error, 'problem', None) or error}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: nested deeper than {SCENARIO_DEPTH_MAX} levels") from None
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(document, dict) or not isinstance(root, yaml.MappingNode):
        raise ScenarioError(f"{path}:1: a scenario is a mapping with name, setup and steps")
    return document, root


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice (it would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict) or key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate or unusable key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_size(path: Path, root: yaml.Node) -> None:
    pending: list[tuple[yaml.Node, int]] = [(root, 1)]
    count = 0
    while pending:
        node, depth = pending.pop()
        count += 1
        if count > SCENARIO_NODES_MAX:
            raise ScenarioError(f"{path}: more than {SCENARIO_NODES_MAX} values, aliases expanded")
        if depth > SCENARIO_DEPTH_MAX:
            raise ScenarioError(f"{path}:{node.start_mark.line + 1}: nested deeper than {SCENARIO_DEPTH_MAX} levels")
        if isinstance(node, yaml.SequenceNode):
            pending += [(item, depth + 1) for item in node.value]
        elif isinstance(node, yaml.MappingNode):
            pending += [(part, depth + 1) for pair in node.value for part in pair]


def _included(path: Path, names: Any) -> list[_Step]:
    """The setup of each file named by `include`, in order (a shared world):
    files beside this one, named without a folder."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ScenarioError(f"{path}: include is a list of scenario files")
    steps: list[_Step] = []
    for name in names:
        other = path.parent / name
        if Path(name).name != name or name in ("", ".", ".."):
            raise ScenarioError(f"{path}: include names a file beside the scenario, not {name!r}")
        if not other.is_file():
            raise ScenarioError(f"{path}: included file {name} does not exist")
        data, root = _read(other)
        lines = {key.value: value for key, value in root.value if isinstance(key, yaml.ScalarNode)}
        steps += _steps(
            other, str(data.get("name") or other.stem), data.get("setup") or [], lines.get("setup"), setup=True
        )
    return steps


def _start(path: Path, value: Any) -> datetime:
    if value is None:
        return DEFAULT_START
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ScenarioError(f"{path}: start {value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"{path}: start {value!r} needs a time zone")
    return moment


def _steps(path: Path, name: str, items: Any, node: Any, *, setup: bool) -> list[_Step]:
    if not isinstance(items, list) or (node is not None and not isinstance(node, yaml.SequenceNode)):
        raise ScenarioError(f"{path}: {'setup' if setup else 'steps'} must be a list")
    if len(items) > STEPS_MAX:
        raise ScenarioError(f"{path}: at most {STEPS_MAX} steps")
    nodes = node.value if node is not None else []
    return [
        _step(path, name, item, item_node.start_mark.line + 1, setup)
        for item, item_node in zip(items, nodes, strict=True)
    ]


_STEP_FIELDS = {"name", "expect", "balances", "report", "key", "at"}


def _step(path: Path, scenario: str, item: Any, line: int, setup: bool) -> _Step:
    where = f"{path}:{line}"
    if not isinstance(item, dict):
        raise ScenarioError(f"{where}: a step is a mapping, like 'deposit: {{...}}' or 'advance: 1 day'")
    if "advance" in item:
        match = _ADVANCE.fullmatch(str(item["advance"]))
        if match is None or int(match["count"]) > ADVANCE_COUNT_MAX:
            raise ScenarioError(
                f"{where}: advance takes '<n> days', '<n> hours' or '<n> minutes', n at most {ADVANCE_COUNT_MAX}"
            )
        unit = match["unit"].rstrip("s") + "s"
        return _Step(
            line, f"advance {item['advance']}", None, timedelta(**{unit: int(match["count"])}), None, None, None
        )
    kinds = [key for key in item if key not in _STEP_FIELDS]
    if len(kinds) != 1:
        raise ScenarioError(f"{where}: a step names exactly one command, found {kinds or 'none'}")
    kind = kinds[0]
    fields = item[kind] or {}
    if not isinstance(fields, dict):
        raise ScenarioError(f"{where}: the fields of {kind} are a mapping")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario)[:60]
    payload = {"type": kind, "key": item.get("key") or f"scenario:{slug}:{path.name}:{line}", **fields}
    if "at" in item:
        payload["ledger_time"] = item["at"]
    try:
        plain = _plain(payload)
    except ScenarioError as error:
        raise ScenarioError(f"{where}: {kind}: {error}") from None
    expect = "accepted" if setup else item.get("expect", "accepted")
    _check_expect(where, expect)
    _check_checks(where, item.get("balances"), item.get("report"))
    command: BaseCommand | str
    try:
        command = COMMAND_ADAPTER.validate_python(plain)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'type'}: {e['msg']}" for e in error.errors()[:3]
        )
        if not (isinstance(expect, dict) and "invalid" in expect):
            raise ScenarioError(f"{where}: {kind}: {problems}") from None
        command = problems  # a step that expects a refusal may be refused by the command's own fields
    return _Step(line, str(item.get("name") or kind), command, None, expect, item.get("balances"), item.get("report"))


def _plain(value: Any) -> Any:
    """YAML gives dates and numbers; commands take text where they take amounts."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float):
        raise ScenarioError(f"write the amount {value!r} as a quoted string, like '12.50'")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _check_expect(where: str, expect: Any) -> None:
    if expect == "accepted":
        return
    if isinstance(expect, dict) and len(expect) == 1:
        kind, wanted = next(iter(expect.items()))
        if kind == "rejected" or (kind == "invalid" and (not isinstance(wanted, dict) or _is_code(wanted))):
            return
    raise ScenarioError(
        f"{where}: expect is 'accepted', {{rejected: RULE_CODE}}, {{invalid: {{code: CODE}}}} or {{invalid: text}}"
    )


def _is_code(wanted: dict[Any, Any]) -> bool:
    return list(wanted) == ["code"] and isinstance(wanted["code"], str)


def _check_checks(where: str, balances: Any, report: Any) -> None:
    """`balances` maps accounts to assets to amounts; `report` maps dotted names to values."""
    if balances is not None and not (
        isinstance(balances, dict) and all(isinstance(assets, dict | None) for assets in balances.values())
    ):
        raise ScenarioError(
            f"{where}: balances maps accounts to {{asset: amount}}, like {{client:alesia: {{BYN: '1.00'}}}}"
        )
    if report is not None and not isinstance(report, dict):
        raise ScenarioError(f"{where}: report maps dotted names to values, like {{compliance.by_rule.X: 1}}")


def run(path: Path, *, on_step: Callable[[StepResult], None] | None = None) -> list[StepResult]:
    _, start, time_zone, setup, steps = _load(path)
    if not steps:
        raise ScenarioError(f"{path}: a scenario needs at least one step")
    results: list[StepResult] = []
    with tempfile.TemporaryDirectory(prefix="ledger-scenario-") as folder:
        sandbox = Sandbox.at(Path(folder) / "sandbox")
        clock = ManualClock(start - timedelta(minutes=1))
        sandbox.init(allow_unencrypted_key=True, clock=clock, ledger_clock=clock, time_zone=time_zone)
        clock = ManualClock(start)
        with sandbox.open(clock=clock, ledger_clock=clock, auto_checkpoint=False) as ledger:
            for step in setup:
                result = _run_step(ledger, clock, step)
                if not result.passed:
                    raise ScenarioError(f"{path}:{step.line}: setup step failed: {'; '.join(result.problems)}")
            for step in steps:
                result = _run_step(ledger, clock, step)
                results.append(result)
                if on_step is not None:
                    on_step(result)
    return results


def _run_step(ledger: Ledger, clock: ManualClock, step: _Step) -> StepResult:
    if step.advance is not None:
        clock.advance(step.advance)
        return StepResult(step.line, step.name, True)
    assert step.command is not None
    problems = _outcome_problems(ledger, step)
    if step.balances:
        problems += _balance_problems(ledger, step.balances)
    if step.report:
        problems += _report_problems(ledger, step.report)
    return StepResult(step.line, step.name, not problems, problems)


def _outcome_problems(ledger: Ledger, step: _Step) -> list[str]:
    assert step.command is not None
    expect = step.expect
    if isinstance(step.command, str):
        return _refused_as_expected(expect, step.command, INVALID_INPUT)
    try:
        (result,) = ledger.submit([step.command])
    except BatchRejected as refused:
        return _refused_as_expected(expect, refused.cause.message, refused.cause.code)
    except LedgerError as error:
        return [f"expected {expect}, but: {error}"]
    got = "accepted" if result.accepted else {"rejected": result.rule}
    if got != expect:
        detail = f" ({result.reason})" if result.reason else ""
        return [f"expected {expect}, got {got}{detail}"]
    return []


def _refused_as_expected(expect: Any, message: str, code: str) -> list[str]:
    """A code matches exactly; a text (the older form) matches part of the message."""
    if isinstance(expect, dict) and "invalid" in expect:
        wanted = expect["invalid"]
        if isinstance(wanted, dict):
            return [] if wanted["code"] == code else [f"refused with code {code} ('{message}'), not {wanted['code']}"]
        return [] if str(wanted) in message else [f"refused with '{message}', not '{wanted}'"]
    return [f"expected {expect}, but the command was refused ({code}): {message}"]


def _balance_problems(ledger: Ledger, expected: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for account, assets in expected.items():
        for code, amount in (assets or {}).items():
            asset = ledger.state.assets.get(code)
            if asset is None:
                problems.append(f"balance of {account}: unknown asset {code}")
                continue
            actual = ledger.state.balance(account, code)
            expected_minor = _minor(asset.scale, str(amount))
            if expected_minor is None:
                problems.append(
                    f"balance of {account} in {code}: {str(amount)!r} is not a plain decimal with at most "
                    f"{asset.scale} decimals (a leading '-' allowed)"
                )
            elif actual != expected_minor:
                shown = format_amount(actual, scale=asset.scale)
                problems.append(f"balance of {account} in {code}: expected {amount}, got {shown}")
    return problems


def _minor(scale: int, text: str) -> int | None:
    """An expected balance in minor units (zero and negatives allowed here)."""
    negative = text.startswith("-")
    digits = decimal_digits(text.removeprefix("-"))
    if digits is None or len(digits[1]) > scale:
        return None
    whole, fraction = digits
    value = int(whole + fraction.ljust(scale, "0"))
    return -value if negative else value


def _report_problems(ledger: Ledger, expected: dict[str, Any]) -> list[str]:
    reports = {"compliance": compliance(ledger.read_model), "settlements": settlements(ledger.read_model)}
    problems = []
    for dotted, wanted in expected.items():
        value: Any = reports
        for part in str(dotted).split("."):
            if isinstance(value, list):  # an index, from the end when negative
                index = int(part) if part.lstrip("-").isdigit() else len(value)
                value = value[index] if -len(value) <= index < len(value) else None
            else:
                value = value.get(part) if isinstance(value, dict) else None
        if value != wanted and str(value) != str(wanted):
            problems.append(f"report {dotted}: expected {wanted!r}, got {value!r}")
    return problems
