"""Everything known about an environment that does not depend on its state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orchestrator.domain.credentials import SshCredentials
from orchestrator.domain.names import EnvironmentName
from orchestrator.domain.target import LxdTarget
from orchestrator.domain.tracker import TrackerSettings


@dataclass(frozen=True, slots=True)
class DriftNote:
    """What the last `check` found that differs from the state (cleared by the next transition)."""

    checked_at: datetime
    findings: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.checked_at.tzinfo is None:
            raise ValueError("DriftNote.checked_at must be timezone-aware")
        object.__setattr__(self, "findings", tuple(self.findings))


@dataclass(frozen=True, slots=True)
class EnvironmentContext:
    """Name, instance, credentials, LXD target, address (once provisioned), creation time (UTC), tracker."""

    name: EnvironmentName
    instance_name: str
    ssh: SshCredentials
    lxd: LxdTarget
    instance_ip: str | None
    created_at: datetime
    registered: bool = False
    """True for a host adopted with `register` (not created by the tool's Pulumi stack)."""
    tracker: TrackerSettings | None = None
    """The tracker `release` and `run` put on the host; None: the environment stops at Configured."""
    drift: DriftNote | None = None
    """Drift the last `check` found, for `show`; None when it found none or a command ran since."""

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("EnvironmentContext.created_at must be timezone-aware")

    @property
    def profile_name(self) -> str:
        """LXD profile name: the configured one, or `torrust-{name}`."""
        return self.lxd.profile_name or f"torrust-{self.name}"
