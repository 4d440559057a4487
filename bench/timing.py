"""A ProgressObserver that records when each product step starts and ends, and when tool output arrives."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from orchestrator.domain import ConfigureStep, DestroyStep, ProvisionStep, ReleaseStep, RunStep

STEPS_OF: dict[str, Sequence[Enum]] = {
    "provision": list(ProvisionStep),
    "configure": list(ConfigureStep),
    "release": list(ReleaseStep),
    "run": list(RunStep),
    "destroy": list(DestroyStep),
}


@dataclass(frozen=True)
class StepTime:
    command: str
    step: str
    start: float  # seconds since the observer's origin
    seconds: float
    ok: bool


@dataclass
class TimingObserver:
    """Implements `orchestrator.commands.progress.ProgressObserver`; every time is relative to `origin`."""

    origin: float = field(default_factory=time.monotonic)
    steps: list[StepTime] = field(default_factory=list)
    details: list[tuple[float, str]] = field(default_factory=list)
    _open: dict[tuple[str, int], float] = field(default_factory=dict)

    def _now(self) -> float:
        return time.monotonic() - self.origin

    @staticmethod
    def _step(command: str, index: int, title: str) -> str:
        steps = STEPS_OF.get(command)
        if steps is not None and 1 <= index <= len(steps):
            return str(steps[index - 1].value)
        return title.lower().replace(" ", "_")

    def step_started(self, command: str, index: int, total: int, title: str) -> None:
        self._open[(command, index)] = self._now()

    def _finish(self, command: str, index: int, title: str, seconds: float, ok: bool) -> None:
        start = self._open.pop((command, index), self._now() - seconds)
        self.steps.append(StepTime(command, self._step(command, index, title), start, seconds, ok))

    def step_finished(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        self._finish(command, index, title, seconds, True)

    def step_failed(self, command: str, index: int, total: int, title: str, seconds: float) -> None:
        self._finish(command, index, title, seconds, False)

    def detail(self, line: str) -> None:
        self.details.append((self._now(), line.rstrip()))

    def seconds(self, command: str) -> dict[str, float]:
        """Step name → seconds for one command (the last run of each step)."""
        return {step.step: step.seconds for step in self.steps if step.command == command}

    def step(self, command: str, name: str) -> StepTime | None:
        found = [step for step in self.steps if step.command == command and step.step == name]
        return found[-1] if found else None

    def details_between(self, start: float, end: float) -> list[tuple[float, str]]:
        return [(at, line) for at, line in self.details if start <= at <= end]

    def timeline(self) -> list[dict[str, Any]]:
        return [
            {"command": s.command, "step": s.step, "start": round(s.start, 3), "seconds": round(s.seconds, 3)}
            for s in self.steps
        ]
