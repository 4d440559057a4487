"""The base every command shares: numbered steps with progress, failure capture, safe saves, one failure block."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Protocol, TypeVar

from orchestrator.commands.ports import CancelToken, never_cancelled
from orchestrator.commands.progress import ProgressObserver, SilentProgress
from orchestrator.domain import AnyEnvironment, EnvironmentName, FailureContext, Step
from orchestrator.domain.failure import INTERRUPTED
from orchestrator.persistence import EnvironmentRepository

__all__ = ["INTERRUPTED", "SafeSaver", "StateChangingCommand", "StepFailedError", "StepRunner", "TraceWriter"]

T = TypeVar("T")
E = TypeVar("E", bound=Exception)
log = logging.getLogger("orchestrator.commands")


class TraceWriter(Protocol):
    def write(
        self, environment: str, command: str, step: str, error: BaseException, tool_output: Sequence[str]
    ) -> Path: ...


class InterruptedRunError(Exception):
    """The user interrupted the command (Ctrl-C / SIGTERM) before or during a step."""


class StepFailedError(Exception):
    """Raised by StepRunner.run when a step fails; carries the step and the original error."""

    def __init__(self, step: Step, error: BaseException) -> None:
        super().__init__(f"{step.value}: {error}")
        self.step = step
        self.error = error


def _title(step: Enum) -> str:
    return str(step.value).replace("_", " ").capitalize()


@dataclass
class StepRunner:
    """Runs a command's steps in order, reporting `[i/n] title` progress and keeping tool output."""

    command: str
    steps: Sequence[Step]
    observer: ProgressObserver
    cancelled: CancelToken = never_cancelled
    tool_output: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def sink(self, line: str) -> None:
        self.tool_output.append(line)
        self.observer.detail(line)

    def run(self, step: Step, body: Callable[[], T]) -> T:
        index, total = self.steps.index(step) + 1, len(self.steps)
        title = _title(step)
        if self.cancelled():
            raise StepFailedError(step, InterruptedRunError(f"interrupted before step {step.value}"))
        self.observer.step_started(self.command, index, total, title)
        began = time.monotonic()
        try:
            result = body()
        except Exception as error:
            self.observer.step_failed(self.command, index, total, title, time.monotonic() - began)
            raise StepFailedError(step, error) from error
        self.observer.step_finished(self.command, index, total, title, time.monotonic() - began)
        return result

    def failure(self, failed: StepFailedError, traces: TraceWriter, environment: str) -> FailureContext:
        """The failure context of a failed step, with its trace file written."""
        error = failed.error
        output = [*self.tool_output, *getattr(error, "tool_output", [])]
        trace_path: Path | None
        try:
            trace_path = traces.write(environment, self.command, failed.step.value, error, output)
        except OSError as trace_error:
            log.warning("could not write the trace file for %s: %s", environment, trace_error)
            trace_path = None
        summary = (str(error).strip().splitlines() or [type(error).__name__])[0]
        error_kind = type(error).__name__
        if self.cancelled() or isinstance(error, InterruptedRunError):
            error_kind = INTERRUPTED
            summary = f"interrupted during {failed.step.value}: {summary}"
        return FailureContext(
            step=failed.step,
            error_kind=error_kind,
            summary=summary,
            started_at=self.started_at,
            failed_at=datetime.now(UTC),
            trace_path=trace_path,
        )


@dataclass
class SafeSaver:
    """Saves environments; a failed save is logged as a warning and marks the stored state stale."""

    repository: EnvironmentRepository
    stale: bool = False

    def save(self, env: AnyEnvironment) -> None:
        try:
            self.repository.save(env)
        except Exception as error:
            self.stale = True
            log.warning(
                "could not save environment %s (state %s): %s — the state on disk is stale",
                env.name,
                type(env.state).__name__,
                error,
            )


class StateChangingCommand:
    """What every command that moves an environment through states shares: its repository (saves that
    fail only mark the state stale), failure traces, progress observer and cancellation token."""

    def __init__(
        self,
        repository: EnvironmentRepository,
        traces: TraceWriter,
        observer: ProgressObserver | None,
        cancelled: CancelToken,
    ) -> None:
        self._repository = repository
        self._saver = SafeSaver(repository)
        self._traces = traces
        self._observer = observer or SilentProgress()
        self._cancelled = cancelled

    @property
    def stale_state(self) -> bool:
        """True when a save failed during the last run: the state on disk is behind the returned one."""
        return self._saver.stale

    def _steps(self, command: str, steps: Sequence[Step]) -> StepRunner:
        return StepRunner(command, steps, self._observer, self._cancelled)

    def _failed(
        self,
        failed: StepFailedError,
        runner: StepRunner,
        name: EnvironmentName,
        fail: Callable[[FailureContext], AnyEnvironment],
        error: Callable[[str, FailureContext], E],
    ) -> E:
        """The one failure block of every command: write the step's trace, save the failed state (`fail`,
        e.g. `provisioning.fail_provisioning`) and return the command's error for the caller to raise."""
        failure = runner.failure(failed, self._traces, str(name))
        self._saver.save(fail(failure))
        return error(str(name), failure)
