"""check: compare what the environment's state says with what is really there, changing nothing.

Findings, from the cheapest to the dearest read: the instance missing, not running, its IP changed, its
profile missing or changed (one LXD call); Docker not running on the host (one SSH command, for the states
after configure); the tracker's health check failing (one HTTP request, for Running — when it answers,
Docker runs). Also an instance that exists although the environment is Created or Destroyed.

Each report names the command that repairs what it found (`repair`): `deploy` runs it and what follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.commands.ports import HostProbe, InfrastructureInspector, InstanceObservation
from orchestrator.commands.tracker_ports import TrackerChecks
from orchestrator.domain import (
    WITH_INSTANCE,
    AnyEnvironment,
    Configured,
    Created,
    Destroyed,
    Released,
    ReleaseFailed,
    Releasing,
    RunFailed,
    Running,
    Starting,
)

# States in which the instance must exist, run and have the stored address.
EXPECT_INSTANCE = WITH_INSTANCE
EXPECT_NO_INSTANCE = (Created, Destroyed)
# States in which Docker must run on the host (configure has finished once).
EXPECT_DOCKER = (Configured, Releasing, Released, ReleaseFailed, Starting, Running, RunFailed)


@dataclass(frozen=True)
class DriftReport:
    environment: str
    state: str
    checked: bool
    """False when the state makes no claim to compare (e.g. a failed provision, a registered host)."""
    findings: tuple[str, ...]
    observation: InstanceObservation | None
    note: str = ""
    repair: str | None = None
    """The command that repairs the findings (`provision`, `configure` or `run`); None without drift."""

    @property
    def drifted(self) -> bool:
        return bool(self.findings)


class CheckCommand:
    def __init__(
        self,
        inspector: InfrastructureInspector,
        host: HostProbe | None = None,
        tracker: TrackerChecks | None = None,
    ) -> None:
        self._inspector = inspector
        self._host = host
        self._tracker = tracker

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
        if findings:
            return DriftReport(name, state, True, tuple(findings), observed, repair="provision")
        return self._host_findings(env, observed, findings)

    def _host_findings(self, env: AnyEnvironment, observed: InstanceObservation, findings: list[str]) -> DriftReport:
        """What the host itself says: the tracker's health (Running), else Docker (after configure)."""
        name, state = str(env.name), env.state.tag
        repair: str | None = None
        if isinstance(env.state, Running) and self._tracker is not None and env.context.tracker is not None:
            health = self._tracker.health(env.context)
            if not health.ok:
                findings.append(f"the tracker's health check fails: {health.detail}")
                repair = "run"
        docker_in_question = repair is not None or not isinstance(env.state, Running)  # a healthy tracker: it runs
        if (
            docker_in_question
            and isinstance(env.state, EXPECT_DOCKER)
            and self._host is not None
            and not self._host.docker_running(env.context)
        ):
            findings.append("Docker is not running on the instance")
            repair = "configure"
        return DriftReport(name, state, True, tuple(findings), observed, repair=repair)
