"""One recorded state change of an environment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Command = Literal["create", "provision", "register", "configure", "release", "run", "destroy"]


@dataclass(frozen=True, slots=True)
class Transition:
    """`seq` numbers transitions of one environment from 1; `from_state` is None for creation."""

    seq: int
    from_state: str | None
    to_state: str
    at: datetime
    command: Command
    step: str | None = None
    duration_in_previous_state_s: float | None = None
    reason: str | None = None
    """Why the environment went back to an earlier stage, e.g. `deploy` repairing drift it found."""
