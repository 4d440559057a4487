"""check: compare what the environment's state says with what the LXD target has, changing nothing.

Findings: instance missing, not running, IP changed, profile missing or changed; and an instance that
exists although the environment is Created or Destroyed. `provision` repairs drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.commands.ports import InfrastructureInspector, InstanceObservation
from orchestrator.domain import (
    AnyEnvironment,
    Configured,
    ConfigureFailed,
    Configuring,
    Created,
    Destroyed,
    Provisioned,
)

# States in which the instance must exist, run and have the stored address.
EXPECT_INSTANCE = (Provisioned, Configuring, Configured, ConfigureFailed)
EXPECT_NO_INSTANCE = (Created, Destroyed)


@dataclass(frozen=True)
class DriftReport:
    environment: str
    state: str
    checked: bool
    """False when the state makes no claim to compare (e.g. a failed provision, a registered host)."""
    findings: tuple[str, ...]
    observation: InstanceObservation | None
    note: str = ""

    @property
    def drifted(self) -> bool:
        return bool(self.findings)


class CheckCommand:
    def __init__(self, inspector: InfrastructureInspector) -> None:
        self._inspector = inspector

    def execute(self, env: AnyEnvironment) -> DriftReport:
        name, state = str(env.name), env.state.tag
        context = env.context
        if context.registered:
            return DriftReport(name, state, False, (), None, "a registered host is not managed through LXD")
        if not isinstance(env.state, EXPECT_INSTANCE + EXPECT_NO_INSTANCE):
            return DriftReport(name, state, False, (), None, f"the state {state} makes no claim to compare")
        observed = self._inspector.observe(context)
        findings: list[str] = []
        if isinstance(env.state, EXPECT_NO_INSTANCE):
            if observed.instance_exists:
                findings.append(f"instance {context.instance_name} exists although the environment is {state}")
            return DriftReport(name, state, True, tuple(findings), observed)
        if not observed.instance_exists:
            findings.append(f"instance {context.instance_name} is missing")
        elif observed.status != "Running":
            findings.append(f"instance {context.instance_name} is {observed.status} (expected Running)")
        elif observed.ipv4 != context.instance_ip:
            findings.append(f"IP address changed: stored {context.instance_ip}, actual {observed.ipv4 or 'none'}")
        if not observed.profile_exists:
            findings.append(f"profile {context.profile_name} is missing")
        findings.extend(f"profile {context.profile_name}: {line}" for line in observed.profile_differences)
        return DriftReport(name, state, True, tuple(findings), observed)
