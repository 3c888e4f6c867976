"""Scripted scenarios: commands with expected outcomes, balances and report values.

A scenario is a YAML 1.2 file (`country: NO` is the text "NO"); its format is
`ledger.scenario_format`'s models, whose JSON Schema `ledger scenario schema`
prints. The package ships some (`SHIPPED`, `ledger scenario list`)::

    name: Residents trade only on domestic venues
    description: one line for 'ledger scenario list' (optional)
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
line and column (`file:12:7: ...`), a mistyped name with the one likely
meant; a step whose outcome differs from the expected one fails, and the run
says which and why. A refused command is best matched by its error's code
(`{invalid: {code: AMOUNT_NOT_POSITIVE}}`, exactly; INVALID_INPUT for fields
that fail validation); a plain text still matches part of its message.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.reader import ReaderError

from domain.calendar import DEFAULT_TIME_ZONE, zone_named
from domain.commands import COMMAND_ADAPTER, BaseCommand
from domain.errors import INVALID_INPUT, BatchRejected, LedgerError
from domain.money import decimal_digits, format_amount
from ledger.clock import ManualClock
from ledger.input import InputError, decode_utf8
from ledger.mistakes import COMMAND_CLASSES, command_problem, did_you_mean, first_mistakes, unknown_command_type
from ledger.reports import compliance, settlements
from ledger.sandbox import Sandbox
from ledger.scenario_format import ERROR_CODES, RULE_CODES, SCENARIO_FIELDS, STEP_FIELDS
from ledger.service import Ledger

DEFAULT_START = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
STEPS_MAX = 10_000
SCENARIO_BYTES_MAX = 16 * 1024 * 1024
SCENARIO_DEPTH_MAX = 32
SCENARIO_NODES_MAX = 1_000_000
ADVANCE_COUNT_MAX = 1_000_000  # minutes, hours or days: a timedelta takes 999,999,999 days at most
_ADVANCE = re.compile(r"(?P<count>[0-9]{1,7}) (?P<unit>days?|hours?|minutes?)", re.ASCII)


SHIPPED = Path(__file__).parent / "scenarios"


class ScenarioError(Exception):
    """A mistake in the scenario file; the message names its line and column."""


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


def shipped() -> dict[str, Path]:
    """The scenarios that come with the package, by name (shared parts like _world.yaml aside)."""
    return {path.stem: path for path in sorted(SHIPPED.glob("[!_]*.yaml"))}


def description(path: Path) -> str:
    """The scenario's one line: its description, else its name."""
    data = _read(path)
    return " ".join(str(data.get("description") or data.get("name") or path.stem).split())


def scenario_files(argument: str) -> list[Path]:
    """The files a `scenario run` argument names: a file, a folder's scenarios
    (but those starting with '_', shared setups to include), or a shipped
    scenario's name; a path that exists wins."""
    path = Path(argument)
    if path.is_dir():
        return sorted(path.glob("[!_]*.yaml"))
    if path.exists():
        return [path]
    known = shipped()
    name = argument.removesuffix(".yaml")
    if name in known:
        return [known[name]]
    hint = did_you_mean(name, known) or f" (shipped: {', '.join(known)})"
    raise ScenarioError(f"{argument}: no such file, folder or shipped scenario{hint}")


def load(path: Path) -> tuple[str, datetime, list[_Step], list[_Step]]:
    name, start, _, setup, steps = _load(path)
    return name, start, setup, steps


def _load(path: Path) -> tuple[str, datetime, str, list[_Step], list[_Step]]:
    data = _read(path)
    _check_keys(path, data, SCENARIO_FIELDS, "scenario field")
    name = _text(path, data, "name") or path.stem
    _text(path, data, "description")
    start = _start(path, data)
    time_zone = _time_zone(path, data)
    setup = _included(path, data)
    setup += _steps(path, name, data, "setup")
    steps = _steps(path, name, data, "steps")
    return name, start, time_zone, setup, steps


def _at(path: Path, position: tuple[int, int]) -> str:
    """`file:line:column`, both counted from 1, from ruamel's positions (counted from 0)."""
    return f"{path}:{position[0] + 1}:{position[1] + 1}"


def _key_at(path: Path, mapping: CommentedMap, key: Any) -> str:
    return _at(path, mapping.lc.key(key))


def _value_at(path: Path, mapping: CommentedMap, key: Any) -> str:
    return _at(path, mapping.lc.value(key))


def _node_at(path: Path, node: CommentedMap | CommentedSeq) -> str:
    return _at(path, (node.lc.line, node.lc.col))


def _check_keys(path: Path, mapping: CommentedMap, known: Iterable[str], what: str) -> None:
    for key in mapping:
        if key not in known:
            hint = did_you_mean(key, known) or f" (one of {', '.join(known)})"
            raise ScenarioError(f"{_key_at(path, mapping, key)}: unknown {what} {str(key)!r}{hint}")


def _text(path: Path, data: CommentedMap, key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ScenarioError(f"{_value_at(path, data, key)}: {key} is a text")
    return value


def _time_zone(path: Path, data: CommentedMap) -> str:
    value = data.get("time_zone", DEFAULT_TIME_ZONE)
    try:
        zone_named(str(value))
    except LedgerError as error:
        raise ScenarioError(f"{_value_at(path, data, 'time_zone')}: time_zone: {error.message}") from None
    return str(value)


def _read(path: Path) -> CommentedMap:
    """The file's mapping, with the line and column of every key and value,
    read strictly as YAML 1.2: UTF-8, within SCENARIO_BYTES_MAX, no key twice
    in a mapping, nested at most SCENARIO_DEPTH_MAX deep and
    SCENARIO_NODES_MAX values with every alias expanded (an alias of an alias
    of... would be a billion laughs)."""
    try:
        with path.open("rb") as file:
            data = file.read(SCENARIO_BYTES_MAX + 1)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read: {error.strerror or error}") from None
    if len(data) > SCENARIO_BYTES_MAX:
        raise ScenarioError(f"{path}: larger than {SCENARIO_BYTES_MAX} bytes")
    text = _utf8(path, data)
    reader = YAML(typ="rt")  # YAML 1.2; its reader refuses characters YAML does not allow
    reader.Composer = _BoundedComposer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReusedAnchorWarning)  # YAML 1.2 lets an anchor be defined again
            document = reader.load(text)
    except _TooDeep as error:
        raise ScenarioError(f"{_mark(path, error)}: nested deeper than {SCENARIO_DEPTH_MAX} levels") from None
    except ReaderError as error:
        line = text.count("\n", 0, error.position)
        column = error.position - (text.rfind("\n", 0, error.position) + 1)
        raise ScenarioError(
            f"{_at(path, (line, column))}: not valid YAML: character U+{error.character:04X} is not allowed"
        ) from None
    except DuplicateKeyError as error:
        key = re.match(r'found duplicate key "(.*?)" with value', str(error.problem))
        shown = repr(key[1]) if key else "a key"
        raise ScenarioError(f"{_mark(path, error)}: duplicate key {shown} (each key once in a mapping)") from None
    except MarkedYAMLError as error:
        raise ScenarioError(f"{_mark(path, error)}: not valid YAML: {error.problem or error}") from None
    except YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    except RecursionError:
        raise ScenarioError(f"{path}: nested deeper than {SCENARIO_DEPTH_MAX} levels") from None
    if not isinstance(document, CommentedMap):
        raise ScenarioError(f"{path}:1:1: a scenario is a mapping with name, setup and steps")
    _check_size(path, document)
    return document


def _utf8(path: Path, data: bytes) -> str:
    try:
        return decode_utf8(data)
    except InputError:
        bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # a byte-order mark is ignored
        try:
            data[bom:].decode("utf-8")
        except UnicodeDecodeError as error:
            start = error.start + bom
            line, column = data.count(b"\n", 0, start), start - (data.rfind(b"\n", 0, start) + 1)
            raise ScenarioError(f"{_at(path, (line, column))}: not UTF-8: byte 0x{data[start]:02x}") from None
        raise


class _TooDeep(MarkedYAMLError):
    pass


class _BoundedComposer(Composer):
    """ruamel's composer, refusing a value nested deeper than SCENARIO_DEPTH_MAX
    where it starts (it would recurse until Python's own limit, slowly)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > SCENARIO_DEPTH_MAX:
                raise _TooDeep(problem_mark=self.parser.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _mark(path: Path, error: MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    return _at(path, (mark.line, mark.column)) if mark is not None else str(path)


def _check_size(path: Path, root: CommentedMap) -> None:
    """Counts every value as if aliases were copies, and stops at the limits."""
    pending: list[tuple[Any, int, CommentedMap | CommentedSeq]] = [(root, 1, root)]
    count = 0
    while pending:
        value, depth, parent = pending.pop()
        count += 1
        if count > SCENARIO_NODES_MAX:
            raise ScenarioError(f"{path}: more than {SCENARIO_NODES_MAX} values, aliases expanded")
        if depth > SCENARIO_DEPTH_MAX:
            raise ScenarioError(f"{_node_at(path, parent)}: nested deeper than {SCENARIO_DEPTH_MAX} levels")
        if isinstance(value, CommentedSeq):
            pending += [(item, depth + 1, value) for item in value]
        elif isinstance(value, CommentedMap):
            pending += [(part, depth + 1, value) for pair in value.items() for part in pair]


def _included(path: Path, data: CommentedMap) -> list[_Step]:
    """The setup of each file named by `include`, in order (a shared world):
    files beside this one, named without a folder."""
    names = data.get("include") or []
    where = _value_at(path, data, "include") if "include" in data else str(path)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ScenarioError(f"{where}: include is a list of scenario files")
    steps: list[_Step] = []
    for index, name in enumerate(names):
        there = _at(path, names.lc.item(index)) if isinstance(names, CommentedSeq) else where
        other = path.parent / name
        if Path(name).name != name or name in ("", ".", ".."):
            raise ScenarioError(f"{there}: include names a file beside the scenario, not {name!r}")
        if not other.is_file():
            raise ScenarioError(f"{there}: included file {name} does not exist")
        shared = _read(other)
        _check_keys(other, shared, SCENARIO_FIELDS, "scenario field")
        steps += _steps(other, _text(other, shared, "name") or other.stem, shared, "setup")
    return steps


def _start(path: Path, data: CommentedMap) -> datetime:
    value = data.get("start")
    if value is None:
        return DEFAULT_START
    where = _value_at(path, data, "start")
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ScenarioError(f"{where}: start {value!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ScenarioError(f"{where}: start {str(value)!r} needs a time zone")
    return datetime.fromisoformat(moment.isoformat())


def _steps(path: Path, name: str, data: CommentedMap, part: str) -> list[_Step]:
    items = data.get(part) or CommentedSeq()
    if not isinstance(items, CommentedSeq):
        raise ScenarioError(f"{_value_at(path, data, part)}: {part} must be a list")
    if len(items) > STEPS_MAX:
        raise ScenarioError(f"{_value_at(path, data, part)}: at most {STEPS_MAX} steps")
    return [_step(path, name, item, items.lc.item(index), part == "setup") for index, item in enumerate(items)]


def _step(path: Path, scenario: str, item: Any, position: tuple[int, int], setup: bool) -> _Step:
    where, line = _at(path, position), position[0] + 1
    if not isinstance(item, CommentedMap):
        raise ScenarioError(f"{where}: a step is a mapping, like 'deposit: {{...}}' or 'advance: 1 day'")
    if "advance" in item:
        return _advance(path, item, line)
    kind = _kind(path, item, where)
    fields = item[kind] if item[kind] is not None else CommentedMap()
    if not isinstance(fields, CommentedMap):
        raise ScenarioError(f"{_value_at(path, item, kind)}: the fields of {kind} are a mapping")
    if "type" in fields:  # it would replace the step's own command type
        raise ScenarioError(f"{_key_at(path, fields, 'type')}: {kind} takes no type field: the step's key is its type")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario)[:60]
    payload = {"type": kind, "key": item.get("key") or f"scenario:{slug}:{path.name}:{line}", **fields}
    if "at" in item:
        payload["ledger_time"] = item["at"]
    try:
        plain = _plain(payload)
    except _FloatAt as error:
        there = _problem_at(path, item, kind, {"loc": (kind, *error.loc), "type": "float"})
        raise ScenarioError(
            f"{there}: {kind}: write the amount {error.value!r} as a quoted string, like '12.50'"
        ) from None
    expect = "accepted" if setup else item.get("expect", "accepted")
    if not setup and "expect" in item:
        _check_expect(path, item)
    _check_checks(path, item)
    command: BaseCommand | str
    try:
        command = COMMAND_ADAPTER.validate_python(plain)
    except ValidationError as error:
        found = first_mistakes(error)
        problems = "; ".join(map(command_problem, found))
        if not (isinstance(expect, dict) and "invalid" in expect):
            there = _problem_at(path, item, kind, found[0])
            named = found[0]["type"] == "extra_forbidden"  # 'unknown field ... in deposit' names the command
            raise ScenarioError(f"{there}: {'' if named else kind + ': '}{problems}") from None
        command = problems  # a step that expects a refusal may be refused by the command's own fields
    return _Step(
        line,
        str(item.get("name") or kind),
        command,
        None,
        _plain(expect),
        _plain(item.get("balances")),
        _plain(item.get("report")),
    )


def _advance(path: Path, item: CommentedMap, line: int) -> _Step:
    _check_keys(path, item, ("advance", "name"), "field of an advance step")
    match = _ADVANCE.fullmatch(str(item["advance"]))
    if match is None or int(match["count"]) > ADVANCE_COUNT_MAX:
        raise ScenarioError(
            f"{_value_at(path, item, 'advance')}: advance takes '<n> days', '<n> hours' or '<n> minutes', "
            f"n at most {ADVANCE_COUNT_MAX}"
        )
    unit = match["unit"].rstrip("s") + "s"
    return _Step(line, f"advance {item['advance']}", None, timedelta(**{unit: int(match["count"])}), None, None, None)


def _kind(path: Path, item: CommentedMap, where: str) -> str:
    """The one command the step names; a mistyped one is named with the likely intended type."""
    others = [key for key in item if key not in STEP_FIELDS]
    kinds = [key for key in others if key in COMMAND_CLASSES]
    unknown = [key for key in others if key not in COMMAND_CLASSES]
    if unknown and (kinds or len(unknown) > 1):
        key = unknown[0]
        known = [*STEP_FIELDS, *COMMAND_CLASSES]
        raise ScenarioError(f"{_key_at(path, item, key)}: unknown step field {str(key)!r}{did_you_mean(key, known)}")
    if unknown:
        raise ScenarioError(f"{_key_at(path, item, unknown[0])}: {unknown_command_type(unknown[0])}")
    if len(kinds) != 1:
        found = ", ".join(kinds) or "none"
        raise ScenarioError(f"{where}: a step names exactly one command, found {found}")
    return str(kinds[0])


def _problem_at(path: Path, item: CommentedMap, kind: str, problem: Any) -> str:
    """Where in the file a field's problem is: its value, or its key when the field is unknown
    (pydantic's location names the command's type first, then the field's path)."""
    parts = list(problem["loc"])[1:]
    fields = item[kind] if isinstance(item[kind], CommentedMap) else CommentedMap()
    if parts and parts[0] not in fields and parts[0] in ("key", "ledger_time"):
        step_key = "at" if parts[0] == "ledger_time" else "key"
        return _value_at(path, item, step_key) if step_key in item else _key_at(path, item, kind)
    node: Any = fields
    where = _key_at(path, item, kind)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, CommentedMap) and part in node:
            unknown = last and problem["type"] == "extra_forbidden"
            where = _key_at(path, node, part) if unknown else _value_at(path, node, part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            where, node = _at(path, node.lc.item(part)), node[part]
        else:
            break
    return where


class _FloatAt(Exception):
    def __init__(self, value: float, loc: tuple[int | str, ...]) -> None:
        super().__init__(value)
        self.value, self.loc = value, loc


def _plain(value: Any, loc: tuple[int | str, ...] = ()) -> Any:
    """Plain Python values: YAML gives dates and numbers, commands take text where they take amounts."""
    if isinstance(value, dict):
        return {_plain(key): _plain(item, (*loc, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, (*loc, index)) for index, item in enumerate(value)]
    if isinstance(value, float):
        raise _FloatAt(value, loc)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return bool(value)
    plain = next((kind for kind in (int, str) if isinstance(value, kind)), None)  # ruamel's ScalarInt, OctalInt...
    return plain(value) if plain is not None else value


_EXPECT_FORMS = "expect is 'accepted', {rejected: RULE_CODE}, {invalid: {code: CODE}} or {invalid: text}"


def _check_expect(path: Path, item: CommentedMap) -> None:
    """The expectation's form, and its codes among the ledger's (a mistyped one named with the likely intended)."""
    expect = item["expect"]
    if expect == "accepted":
        return
    where = _value_at(path, item, "expect")
    if not isinstance(expect, CommentedMap) or len(expect) != 1:
        close = isinstance(expect, str) and did_you_mean(expect, ["accepted"])
        raise ScenarioError(f"{where}: {_EXPECT_FORMS}{'; did you mean accepted?' if close else ''}")
    kind, wanted = next(iter(expect.items()))
    if kind not in ("rejected", "invalid"):
        hint = did_you_mean(kind, ["rejected", "invalid"])
        raise ScenarioError(f"{_key_at(path, expect, kind)}: unknown expectation {str(kind)!r}{hint}")
    if kind == "rejected":
        _check_code(_value_at(path, expect, kind), wanted, RULE_CODES, "rule code")
    elif isinstance(wanted, CommentedMap):
        if list(wanted) != ["code"]:
            raise ScenarioError(f"{_value_at(path, expect, kind)}: {_EXPECT_FORMS}")
        _check_code(_value_at(path, wanted, "code"), wanted["code"], ERROR_CODES, "error code")
    elif not isinstance(wanted, str):
        raise ScenarioError(f"{_value_at(path, expect, kind)}: {_EXPECT_FORMS}")


def _check_code(where: str, code: Any, codes: Iterable[str], what: str) -> None:
    if not isinstance(code, str) or code not in codes:
        raise ScenarioError(f"{where}: unknown {what} {str(code)!r}{did_you_mean(code, codes)}")


def _check_checks(path: Path, item: CommentedMap) -> None:
    """`balances` maps accounts to assets to amounts; `report` maps dotted names to values."""
    balances, report = item.get("balances"), item.get("report")
    if balances is not None and not (
        isinstance(balances, dict) and all(isinstance(assets, dict | None) for assets in balances.values())
    ):
        raise ScenarioError(
            f"{_value_at(path, item, 'balances')}: balances maps accounts to {{asset: amount}}, "
            "like {client:alesia: {BYN: '1.00'}}"
        )
    if report is not None and not isinstance(report, dict):
        raise ScenarioError(
            f"{_value_at(path, item, 'report')}: report maps dotted names to values, like {{compliance.by_rule.X: 1}}"
        )


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
