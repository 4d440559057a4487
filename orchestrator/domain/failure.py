"""What went wrong in a failed command: step, kind, one-line summary, timing and trace file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from orchestrator.domain.errors import InvalidFailureContextError
from orchestrator.domain.steps import STEP_ENUMS, Step

MAX_SUMMARY_LENGTH = 500
INTERRUPTED = "Interrupted"
"""The error kind of a failure caused by Ctrl-C/SIGTERM, or by a run that was killed."""


@dataclass(frozen=True, slots=True)
class FailureContext:
    """Failure of one command step. `summary` is folded to one line; timestamps must be tz-aware.

    `step` is None only when the step is unknown: a run that was killed (e.g. SIGKILL) and left its
    environment in Provisioning/Configuring/Destroying is recorded as interrupted at an unknown step.
    """

    step: Step | None
    error_kind: str
    summary: str
    started_at: datetime
    failed_at: datetime
    trace_path: Path | None = None

    def __post_init__(self) -> None:
        if self.step is not None and not isinstance(self.step, tuple(STEP_ENUMS.values())):
            kinds = ", ".join(enum.__name__ for enum in STEP_ENUMS.values())
            raise InvalidFailureContextError(
                f"failure step {self.step!r} is not one of {kinds}",
                "pass a member of the step enum of the failing command",
            )
        for field in ("started_at", "failed_at"):
            if getattr(self, field).tzinfo is None:
                raise InvalidFailureContextError(f"failure context {field} has no time zone", "use datetime.now(UTC)")
        if self.failed_at < self.started_at:
            raise InvalidFailureContextError(
                "failure context failed_at is before started_at", "record started_at before running the step"
            )
        summary = " ".join(self.summary.split())
        if len(summary) > MAX_SUMMARY_LENGTH:
            summary = summary[: MAX_SUMMARY_LENGTH - 1] + "…"
        object.__setattr__(self, "summary", summary)

    @property
    def step_name(self) -> str:
        """The failed step's value, or "unknown"."""
        return self.step.value if self.step is not None else "unknown"

    @property
    def duration(self) -> timedelta:
        """Time from the start of the step to its failure."""
        return self.failed_at - self.started_at
