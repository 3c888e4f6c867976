"""Where the library's log records go: standard error only, as text or as one JSON object a line.

The library logs with `logging.getLogger(__name__)` and configures nothing;
the `ledger` command (its `--verbose/-v` and `--log-format` options, or
`LEDGER_LOG_LEVEL` and `LEDGER_LOG_FORMAT`) and the service call `configure`,
and give uvicorn the same configuration (`dict_config`) so that its records
come out alike. Standard output is never touched: it is for results.

A JSON line holds `time` (ISO 8601, UTC), `level`, `logger`, `message`, and
every field the record was given with `extra=`; an exception, as `exception`.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

LEVEL_ENV = "LEDGER_LOG_LEVEL"
FORMAT_ENV = "LEDGER_LOG_FORMAT"
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
DEFAULT_LEVEL = logging.WARNING
# Loggers of ours and of the service's server that follow the chosen level
# (other libraries' stay at warnings: their debug records are not ours to show).
OUR_LOGGERS = ("ledger", "domain", "uvicorn", "uvicorn.error", "uvicorn.access")

# What every LogRecord has: anything else on a record came with `extra=`.
# uvicorn's `color_message` is its message again, with terminal colours.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


class LogSettingError(ValueError):
    """A log level or format that is not one of those known: the message names it."""


def level_named(name: str, *, source: str = LEVEL_ENV) -> int:
    try:
        return LEVELS[name.strip().lower()]
    except KeyError:
        raise LogSettingError(f"{source}={name!r}: give one of {', '.join(LEVELS)}") from None


def level_for(verbosity: int) -> int:
    """-v: info; -vv (or more): debug; none: the environment's level, or warnings only."""
    if verbosity >= 2:
        return logging.DEBUG
    if verbosity == 1:
        return logging.INFO
    named = os.environ.get(LEVEL_ENV)
    return level_named(named) if named else DEFAULT_LEVEL


def format_named(name: str | None) -> LogFormat:
    name = (name or os.environ.get(FORMAT_ENV) or "text").strip().lower()
    for known in LOG_FORMATS:
        if name == known:
            return known
    raise LogSettingError(f"--log-format (or {FORMAT_ENV}) {name!r}: give one of {', '.join(LOG_FORMATS)}")


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record was given with `extra=`."""
    return {key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS and not key.startswith("_")}


def _time_of(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then the record's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time_of(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields_of(record).items():
            line.setdefault(key, value)  # a field never hides the four every line has
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`, one line a record (a traceback
    under it); not `detailed` (a command's warnings only), `warning: message`."""

    def __init__(self, detailed: bool = True) -> None:
        super().__init__()
        self.detailed = detailed

    def format(self, record: logging.LogRecord) -> str:
        if not self.detailed:
            line = f"{record.levelname.lower()}: {record.getMessage()}"
        else:
            fields = " ".join(f"{key}={value}" for key, value in fields_of(record).items())
            line = f"{_time_of(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
            line = f"{line} {fields}" if fields else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time of each record: a
    progress bar on a terminal takes stderr over meanwhile and prints
    records above itself, instead of being torn by them."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _stream: Any) -> None:
        return None


def dict_config(
    level: int = DEFAULT_LEVEL, log_format: LogFormat = "text", levels: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """A `logging.config.dictConfig` configuration (uvicorn's `log_config` too):
    one handler on standard error, our loggers and uvicorn's at `level`, and
    the loggers `levels` names at theirs. Text is detailed (time, level,
    logger, fields) when anything below warnings is shown; a command's
    warnings alone read `warning: ...`."""
    detailed = min([level, *(levels or {}).values()]) < logging.WARNING
    text = {"()": f"{__name__}.TextFormatter", "detailed": detailed}
    own = {name: {"level": logging.getLevelName(value), "propagate": True} for name, value in (levels or {}).items()}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"ledger": {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else text},
        "handlers": {"stderr": {"()": f"{__name__}.StderrHandler", "formatter": "ledger"}},
        "loggers": {
            **{name: {"level": logging.getLevelName(level), "handlers": [], "propagate": True} for name in OUR_LOGGERS},
            **own,
        },
        "root": {"level": "WARNING", "handlers": ["stderr"]},
    }


def configure(
    level: int = DEFAULT_LEVEL, log_format: LogFormat = "text", levels: Mapping[str, int] | None = None
) -> None:
    logging.config.dictConfig(dict_config(level, log_format, levels))
    logging.captureWarnings(True)  # a library's warning is a record too, in the same format


ACCESS_LOGGER = "ledger.api.access"


def service_config(*, access_log: bool) -> dict[str, Any]:
    """The configuration a server runs with, and gives uvicorn as its
    `log_config`: the command's level and format (`configure`), with a record
    per request on `ACCESS_LOGGER` unless `access_log` is off (as with
    `ledger serve --quiet`). Applied here too, so that it holds before uvicorn starts."""
    level, log_format = current_settings()
    levels = {ACCESS_LOGGER: min(level, logging.INFO) if access_log else max(level, logging.WARNING)}
    configure(level, log_format, levels)
    return dict_config(level, log_format, levels)


def in_json() -> bool:
    """Whether records are written as JSON: then a command's notes on stderr are records too."""
    return current_settings()[1] == "json"


def current_settings() -> tuple[int, LogFormat]:
    """The level and format `configure` was last given (for the service's uvicorn)."""
    handler = next(iter(logging.getLogger().handlers), None)
    log_format: LogFormat = "json" if handler is not None and isinstance(handler.formatter, JsonFormatter) else "text"
    return logging.getLogger("ledger").getEffectiveLevel(), log_format
