"""What the commands need from the outside world; the adapters in `infrastructure` provide it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from orchestrator.domain import EnvironmentContext

LineSink = Callable[[str], None]
CancelToken = Callable[[], bool]
"""True once the user asked the running command to stop (Ctrl-C, SIGTERM)."""


def never_cancelled() -> bool:
    return False


@dataclass(frozen=True)
class InstanceOutputs:
    instance_name: str
    ipv4: str


class InfrastructureProvisioner(Protocol):
    """Creates and destroys an environment's instance (Pulumi stack)."""

    def prepare(self, context: EnvironmentContext) -> object: ...

    def up(self, stack: object, on_output: LineSink | None = None) -> InstanceOutputs: ...

    def destroy(self, context: EnvironmentContext, on_output: LineSink | None = None) -> None:
        """Delete the stack's resources; resources already gone are not an error."""
        ...

    def remove_stack(self, context: EnvironmentContext) -> None:
        """Remove the (empty) stack from its backend; a stack that does not exist is not an error."""
        ...


class PlaybookResult(Protocol):
    @property
    def changed(self) -> int:
        """How many tasks changed something."""
        ...


class RunningPlaybooks(AbstractContextManager["RunningPlaybooks"], Protocol):
    """Playbooks started by `PlaybookRunner.start`; leaving the `with` block stops what still runs."""

    def wait(self, playbook: str, on_event: LineSink | None = None) -> PlaybookResult:
        """Block until `playbook` is over, streaming its own event lines to `on_event`; raise if it failed
        (or did not run because an earlier one failed)."""
        ...

    def proceed(self) -> None:
        """Let a run started `held` begin its first playbook (nothing for one that was not held)."""
        ...


class PlaybookRunner(Protocol):
    """Runs one playbook per action against the environment's host (ansible-runner)."""

    def render_inventory(self, context: EnvironmentContext, host: str) -> Path: ...

    def run(
        self,
        context: EnvironmentContext,
        playbook: str,
        on_event: LineSink | None = None,
        extravars: Mapping[str, object] | None = None,
    ) -> int:
        """Run the playbook; return how many tasks changed something."""
        ...

    def start(
        self,
        context: EnvironmentContext,
        playbooks: Sequence[str],
        extravars: Mapping[str, object] | None = None,
        held: bool = False,
    ) -> RunningPlaybooks:
        """Start running `playbooks` in order, in one go (one ansible process), and return at once.

        `extravars`: the playbooks' variables. Never a secret: the runner records them in its artifacts
        (a secret travels inside a file the playbook uploads with `no_log`). `held`: the process starts
        (ansible's own start-up) but the first playbook waits for `proceed()`."""
        ...

    def clean(self, context: EnvironmentContext) -> None: ...


class SshProbe(Protocol):
    def wait(self, context: EnvironmentContext, host: str, timeout_s: float) -> float: ...


@dataclass(frozen=True)
class InstanceObservation:
    """What the LXD target says about an environment's instance and profile right now."""

    instance_exists: bool
    status: str | None
    ipv4: str | None
    profile_exists: bool
    profile_differences: tuple[str, ...]
    """One line per profile key or device that differs from what the stack declares."""


class HostProbe(Protocol):
    """Reads the host over SSH without changing anything (for drift checks)."""

    def docker_running(self, context: EnvironmentContext) -> bool:
        """Whether the Docker daemon runs on the environment's host (False when SSH fails too)."""
        ...


class InfrastructureInspector(Protocol):
    """Reads the real instance without changing anything (for drift checks)."""

    def observe(self, context: EnvironmentContext) -> InstanceObservation: ...
