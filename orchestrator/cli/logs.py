"""Logging of a CLI run: stderr by verbosity, and an optional log file (text or JSON lines).

- stderr: warnings by default, INFO with `-v`, DEBUG with `-vv`.
- `--log-file FILE`: INFO and up (DEBUG with `-vv`), including the state transitions (logger
  `orchestrator.transitions`, with `environment`, `from_state`, `to_state`, `duration_s`, `command`,
  `step`, `seq`), the command line, and a failed command's error with its traceback.
  Format: JSON lines when FILE ends with `.jsonl` or with `--log-format json`, else text lines.
  The file is appended to, so several runs can share one.

Records of the `orchestrator.cli.run` logger (start, end, the traceback of a failure) go to the file only.
stderr shows a traceback only with `--debug`, whoever logs it: a library that logs an exception (gRPC's
server inside the Pulumi program when a run is interrupted, say) shows its one-line message there, and
its traceback goes to the log file.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

RUN_LOGGER = "orchestrator.cli.run"
LogFormat = Literal["auto", "text", "json"]

_MARK = "_torrust_deploy_cli_handler"
# Attributes every LogRecord has; anything else on a record is an `extra` worth writing.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def record_extras(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD and not key.startswith("_")}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the record's extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in record_extras(record).items():
            document.setdefault(key, value)
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`2025-01-01T12:00:00.123+00:00 INFO logger: message {key=value …}` and the traceback, if any."""

    def __init__(self) -> None:
        super().__init__("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line = f"{when} {record.levelname} {record.name}: {record.getMessage()}"
        extras = record_extras(record)
        if extras:
            line += " {" + " ".join(f"{key}={value}" for key, value in extras.items()) + "}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class StderrFormatter(logging.Formatter):
    """`LEVEL logger: message`, and the traceback of the record only when `tracebacks` is set."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__()
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        if self._tracebacks and record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if self._tracebacks and record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class _NotRunLogger(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(RUN_LOGGER)


def resolve_format(log_file: Path, log_format: LogFormat) -> Literal["text", "json"]:
    if log_format == "auto":
        return "json" if log_file.suffix == ".jsonl" else "text"
    return log_format


def setup_logging(
    verbose: int, log_file: Path | None = None, log_format: LogFormat = "auto", tracebacks: bool = False
) -> None:
    """Install this run's handlers on the root logger (replacing those of an earlier run in this process).

    `tracebacks` (`--debug`) lets stderr show the traceback a record carries; the log file always has it.

    Raises OSError when the log file cannot be opened.
    """
    teardown_logging()
    root = logging.getLogger()
    stderr_level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose == 1 else logging.WARNING
    stderr = logging.StreamHandler()  # sys.stderr at the time of the call
    stderr.setLevel(stderr_level)
    stderr.setFormatter(StderrFormatter(tracebacks))
    stderr.addFilter(_NotRunLogger())
    handlers: list[logging.Handler] = [stderr]
    levels = [stderr_level]

    if log_file is not None:
        file_handler = logging.FileHandler(log_file, encoding="utf-8", delay=False)
        file_level = logging.DEBUG if verbose >= 2 else logging.INFO
        file_handler.setLevel(file_level)
        fmt = resolve_format(log_file, log_format)
        file_handler.setFormatter(JsonLinesFormatter() if fmt == "json" else TextFormatter())
        handlers.append(file_handler)
        levels.append(file_level)

    for handler in handlers:
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(min(levels))


def teardown_logging() -> None:
    """Remove (and close) the handlers `setup_logging` installed."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
            handler.close()
