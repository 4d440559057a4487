"""Failure trace files: `data/{env}/traces/{timestamp}-{command}.log` with the step, the error chain
and the tool output (Pulumi engine lines, ansible events). Key material is redacted."""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.layout import WorkingDirLayout

_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S)


def redact(text: str) -> str:
    return _PRIVATE_KEY.sub("[private key redacted]", text)


class FileTraceWriter:
    def __init__(self, layout: WorkingDirLayout) -> None:
        self._layout = layout

    def write(
        self, environment: str, command: str, step: str, error: BaseException, tool_output: Sequence[str]
    ) -> Path:
        directory = self._layout.traces_dir(environment)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = directory / f"{stamp}-{command}.log"
        chain = "".join(traceback.format_exception(error))
        body = "\n".join(
            [
                f"environment: {environment}",
                f"command: {command}",
                f"failed step: {step}",
                f"error: {type(error).__name__}: {error}",
                "",
                "== error chain ==",
                chain,
                "== tool output ==",
                *tool_output,
                "",
            ]
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(redact(body))
        return path
