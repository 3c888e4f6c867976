"""`ledger.logs`: records as text or one JSON object a line, on whatever stderr is."""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import datetime

import pytest

from ledger.logs import (
    JsonFormatter,
    LogSettingError,
    StderrHandler,
    TextFormatter,
    dict_config,
    format_named,
    level_for,
)


def record(message: str = "store opened", **fields: object) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": "ledger.store", "levelno": logging.INFO, "levelname": "INFO", "msg": message})
    for key, value in fields.items():
        setattr(made, key, value)
    return made


def test_a_json_record_has_time_level_logger_message_and_its_fields() -> None:
    line = json.loads(JsonFormatter().format(record(backend="sqlite", events=3, path=None)))
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "ledger.store", "store opened")
    assert datetime.fromisoformat(line["time"]).utcoffset() is not None
    assert line["time"].endswith("Z")
    assert (line["backend"], line["events"], line["path"]) == ("sqlite", 3, None)


def test_a_field_never_hides_the_keys_every_json_record_has() -> None:
    line = json.loads(JsonFormatter().format(record(logger="someone else", level="loud")))
    assert (line["logger"], line["level"]) == ("ledger.store", "INFO")


def test_a_json_record_of_a_failure_carries_its_traceback_on_one_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        failed = record("it failed")
        failed.exc_info = sys.exc_info()
    text = JsonFormatter().format(failed)
    assert "\n" not in text
    assert "ValueError: broken" in json.loads(text)["exception"]


def test_a_text_record_is_one_line_with_its_fields_after_the_message() -> None:
    text = TextFormatter().format(record(backend="sqlite", schema="s1"))
    assert text.endswith(" INFO    ledger.store: store opened backend=sqlite schema=s1")
    assert "\n" not in text
    assert TextFormatter(detailed=False).format(record(backend="sqlite")) == "info: store opened"


def test_verbosity_counts_up_to_debug_and_the_default_is_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_LOG_LEVEL", raising=False)
    assert [level_for(n) for n in (0, 1, 2, 5)] == [logging.WARNING, logging.INFO, logging.DEBUG, logging.DEBUG]
    monkeypatch.setenv("LEDGER_LOG_LEVEL", "Debug")
    assert level_for(0) == logging.DEBUG
    assert level_for(1) == logging.INFO  # the option wins over the environment
    monkeypatch.setenv("LEDGER_LOG_LEVEL", "chatty")
    with pytest.raises(LogSettingError, match="LEDGER_LOG_LEVEL='chatty'"):
        level_for(0)


def test_a_log_format_is_text_or_json_from_the_option_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_LOG_FORMAT", raising=False)
    assert format_named(None) == "text"
    assert format_named("JSON") == "json"
    monkeypatch.setenv("LEDGER_LOG_FORMAT", "json")
    assert format_named(None) == "json"
    with pytest.raises(LogSettingError, match="'xml'"):
        format_named("xml")


def test_the_handler_writes_to_the_stderr_of_the_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    taken_over = io.StringIO()
    monkeypatch.setattr(sys, "stderr", taken_over)  # as a progress bar on a terminal does
    handler.emit(record())
    assert json.loads(taken_over.getvalue())["message"] == "store opened"


def test_the_configuration_sets_our_loggers_and_named_ones_to_their_levels() -> None:
    config = dict_config(logging.DEBUG, "json", {"ledger.api.access": logging.INFO})
    assert config["loggers"]["ledger"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.error"]["level"] == "DEBUG"
    assert config["loggers"]["ledger.api.access"]["level"] == "INFO"
    assert config["root"] == {"level": "WARNING", "handlers": ["stderr"]}


def test_the_log_options_move_to_the_root_command_from_anywhere_but_after_a_double_dash() -> None:
    from ledger.cli.edges import log_options_first  # noqa: PLC0415 (the CLI's, not the library's)

    given = ["replay", "--home", "h", "-vv", "--log-format", "json", "--", "-v"]
    assert log_options_first(given) == ["-vv", "--log-format", "json", "replay", "--home", "h", "--", "-v"]
    assert log_options_first(["balances", "--log-format=json", "--verbose"]) == [
        "--log-format=json",
        "--verbose",
        "balances",
    ]
    assert log_options_first(["balances", "--json"]) == ["balances", "--json"]
