"""`Deployer`: the Python entry point. Wires the adapters (no DI framework) and runs the commands.

    from orchestrator.api import Deployer
    from orchestrator.config import load_config

    deployer = Deployer(working_dir=Path("."))
    env = deployer.create(load_config(Path("env.json")))
    configured = deployer.configure(deployer.provision(env))
    deployer.destroy(configured)

Every command takes the environment's lock, reloads it from disk and checks its state before it runs,
so a stale object or a second process cannot run a command on the wrong state. Adapters (Pulumi,
ansible-runner, ssh) are created on first use, so read-only calls never import them.
"""

from __future__ import annotations

import builtins
import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from orchestrator.commands.create import CreateCommand
from orchestrator.commands.ports import (
    InfrastructureInspector,
    InfrastructureProvisioner,
    PlaybookRunner,
    SshProbe,
)
from orchestrator.commands.progress import ProgressObserver, SilentProgress
from orchestrator.commands.recover import record_interruption
from orchestrator.commands.steps import SafeSaver, TraceWriter
from orchestrator.config import EnvironmentConfig
from orchestrator.domain import (
    CONFIGURABLE,
    IN_PROGRESS,
    PROVISIONABLE,
    AnyEnvironment,
    Configurable,
    Configured,
    ConfigureFailed,
    Created,
    Destroyed,
    Environment,
    EnvironmentName,
    Provisionable,
    Provisioned,
    ProvisionFailed,
    Provisioning,
    State,
    WrongStateError,
)
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import EnvironmentRepository, JsonFileRepository

if TYPE_CHECKING:
    from orchestrator.commands.check import DriftReport
    from orchestrator.commands.configure import ConfigureCommand
    from orchestrator.commands.provision import ProvisionCommand
    from orchestrator.infrastructure.interrupt import SignalInterruption
    from orchestrator.infrastructure.pulumi.toolchain import PulumiToolchain
    from orchestrator.persistence import TransitionEvent

EnvRef = EnvironmentName | str


class EnvironmentNotFoundError(Exception):
    def __init__(self, name: EnvironmentName, working_dir: Path) -> None:
        super().__init__(f"environment '{name}' does not exist in {working_dir}")
        self.tip = (
            "Run `torrust-deploy list` to see the environments here, or create it with "
            "`torrust-deploy create environment -f FILE`."
        )


class PurgeRefusedError(Exception):
    def __init__(self, name: EnvironmentName, state: str) -> None:
        super().__init__(f"environment '{name}' is {state}; purging it would orphan its instance")
        self.tip = f"Run `torrust-deploy destroy {name}` first, or purge with --force to drop the record anyway."


@dataclass(frozen=True)
class Adapters:
    """The outside world the commands use; tests pass fakes, `Deployer` builds the real ones lazily."""

    provisioner: InfrastructureProvisioner
    playbooks: PlaybookRunner
    ssh: SshProbe
    inspector: InfrastructureInspector


def _name(ref: EnvRef | Environment[State]) -> EnvironmentName:
    if isinstance(ref, EnvironmentName):
        return ref
    if isinstance(ref, str):
        return EnvironmentName(ref)
    return ref.name


class Deployer:
    def __init__(
        self,
        working_dir: Path | str = ".",
        *,
        observer: ProgressObserver | None = None,
        repository: EnvironmentRepository | None = None,
        adapters: Adapters | None = None,
        traces: TraceWriter | None = None,
        toolchain: PulumiToolchain | None = None,
        lock_timeout: float = 30.0,
        ssh_timeout_s: float = 120.0,
    ) -> None:
        self.layout = WorkingDirLayout(Path(working_dir).resolve())
        self.observer = observer or SilentProgress()
        self.repository = repository or JsonFileRepository(self.layout.data_dir, lock_timeout=lock_timeout)
        self._adapters = adapters
        self._traces = traces
        self._toolchain = toolchain
        self.ssh_timeout_s = ssh_timeout_s
        self.stale_state = False
        """True when the last command could not save a state: what is on disk is behind."""
        self._interruption: SignalInterruption | None = None

    # --- wiring -------------------------------------------------------------------------------------

    @property
    def adapters(self) -> Adapters:
        if self._adapters is None:
            from orchestrator.infrastructure.ansible.playbooks import AnsiblePlaybooks
            from orchestrator.infrastructure.pulumi.inspect import LxdInspector
            from orchestrator.infrastructure.pulumi.stacks import PulumiProvisioner
            from orchestrator.infrastructure.pulumi.toolchain import find_pulumi
            from orchestrator.infrastructure.ssh.wait import SshWaiter

            toolchain = self._toolchain or find_pulumi()
            self._adapters = Adapters(
                provisioner=PulumiProvisioner(toolchain, self.layout),
                playbooks=AnsiblePlaybooks(self.layout.build_dir, cancelled=self.interrupted),
                ssh=SshWaiter(cancelled=self.interrupted),
                inspector=LxdInspector(),
            )
        return self._adapters

    def interrupted(self) -> bool:
        """True once Ctrl-C/SIGTERM arrived during the command that is running now."""
        return self._interruption is not None and self._interruption.requested()

    @contextlib.contextmanager
    def _command_run(self, name: EnvironmentName) -> Iterator[AnyEnvironment]:
        """Hold the environment's lock and the signal guard; yield it as stored, with an interrupted
        earlier run (an in-progress state nobody holds) recorded as the matching failed state."""
        from orchestrator.infrastructure.interrupt import SignalInterruption

        with self.repository.lock(name):
            self._interruption = SignalInterruption()
            try:
                with self._interruption.installed():
                    yield record_interruption(self.show(name), SafeSaver(self.repository))
            finally:
                self._interruption = None

    @property
    def traces(self) -> TraceWriter:
        if self._traces is None:
            from orchestrator.infrastructure.traces import FileTraceWriter

            self._traces = FileTraceWriter(self.layout)
        return self._traces

    # --- reading ------------------------------------------------------------------------------------

    def show(self, name: EnvRef) -> AnyEnvironment:
        env_name = _name(name)
        env = self.repository.load(env_name)
        if env is None:
            raise EnvironmentNotFoundError(env_name, self.layout.working_dir)
        return env

    def list(self) -> list[AnyEnvironment]:
        found = (self.repository.load(name) for name in self.repository.list())
        return [env for env in found if env is not None]

    def is_interrupted(self, env: AnyEnvironment) -> bool:
        """An in-progress state (Provisioning, Configuring, Destroying) that no live process holds: the run
        that set it was interrupted. The next command records it as the matching failed state."""
        return isinstance(env.state, IN_PROGRESS) and not self.repository.is_locked(env.name)

    def history(self, name: EnvRef) -> builtins.list[TransitionEvent]:
        """The environment's audit trail (events.jsonl), oldest first."""
        env_name = _name(name)
        self.show(env_name)
        return self.repository.read_events(env_name)

    def check(self, name: EnvRef) -> DriftReport:
        """Compare the stored state with the LXD target (changes nothing)."""
        from orchestrator.commands.check import CheckCommand

        return CheckCommand(self.adapters.inspector).execute(self.show(name))

    # --- commands -----------------------------------------------------------------------------------

    def create(self, config: EnvironmentConfig) -> Environment[Created]:
        return CreateCommand(self.repository).execute(
            config.environment_name(),
            config.ssh_credentials(),
            lxd=config.lxd_target(),
            instance_name=config.instance_name,
        )

    def provision(self, env: Environment[Provisionable] | EnvRef) -> Environment[Provisioned]:
        """Create (or retry, or repair) the environment's instance and wait until it is reachable."""
        with self._command_run(_name(env)) as current:
            if not isinstance(current.state, PROVISIONABLE):
                raise WrongStateError(str(current.name), current.state.tag, Created)
            command = self._provision_command()  # after the state check: a wrong state fails fast
            try:
                return command.execute(cast("Environment[Provisionable]", current))
            finally:
                self.stale_state = command.stale_state

    def register(
        self, env: Environment[Created] | EnvRef, ip: str, ssh_port: int | None = None
    ) -> Environment[Provisioned]:
        """Adopt an existing host at `ip` (no instance is created); SSH and cloud-init are still checked."""
        from orchestrator.commands.register import RegisterCommand

        with self._command_run(_name(env)) as current:
            created = current.require(Created)
            adapters = self.adapters
            command = RegisterCommand(
                self.repository,
                adapters.playbooks,
                adapters.ssh,
                self.traces,
                self.observer,
                cancelled=self.interrupted,
                ssh_timeout_s=self.ssh_timeout_s,
            )
            try:
                return command.execute(created, ip, ssh_port)
            finally:
                self.stale_state = command.stale_state

    def configure(self, env: Environment[Configurable] | EnvRef) -> Environment[Configured]:
        """Install Docker and Docker Compose (first run, retry after a failure, or idempotent re-run)."""
        with self._command_run(_name(env)) as current:
            if not isinstance(current.state, CONFIGURABLE):
                raise WrongStateError(str(current.name), current.state.tag, Provisioned)
            command = self._configure_command()
            try:
                return command.execute(cast("Environment[Configurable]", current))
            finally:
                self.stale_state = command.stale_state

    def deploy(self, env: EnvRef | AnyEnvironment) -> Environment[Configured]:
        """Provision (if not yet, or after a failure) and configure (if not yet, or after a failure):
        continues from wherever the environment is."""
        name = _name(env)
        current = self.show(name)
        if isinstance(current.state, Configured):
            return current.require(Configured)
        if isinstance(current.state, Created | ProvisionFailed) or (
            isinstance(current.state, Provisioning) and self.is_interrupted(current)
        ):
            return self._provision_and_configure(name)
        return self.configure(name)

    def _provision_and_configure(self, name: EnvironmentName) -> Environment[Configured]:
        from orchestrator.commands.deploy import DeployCommand

        with self._command_run(name) as current:
            if not isinstance(current.state, PROVISIONABLE):
                raise WrongStateError(str(current.name), current.state.tag, Created)
            provision, configure = self._provision_command(), self._configure_command()
            command = DeployCommand(self.repository, self.adapters.playbooks, provision, configure)
            try:
                return command.execute(cast("Environment[Provisionable]", current))
            finally:
                self.stale_state = command.stale_state

    def _provision_command(self) -> ProvisionCommand:
        from orchestrator.commands.provision import ProvisionCommand

        adapters = self.adapters
        return ProvisionCommand(
            self.repository,
            adapters.provisioner,
            adapters.playbooks,
            adapters.ssh,
            self.traces,
            self.observer,
            cancelled=self.interrupted,
            ssh_timeout_s=self.ssh_timeout_s,
        )

    def _configure_command(self) -> ConfigureCommand:
        from orchestrator.commands.configure import ConfigureCommand

        return ConfigureCommand(
            self.repository, self.adapters.playbooks, self.traces, self.observer, cancelled=self.interrupted
        )

    def destroy(self, env: EnvRef | AnyEnvironment) -> Environment[Destroyed]:
        """Delete the environment's instance and stack, from any state (an instance already gone is fine)."""
        from orchestrator.commands.destroy import DestroyCommand

        with self._command_run(_name(env)) as current:
            adapters = self.adapters
            command = DestroyCommand(
                self.repository,
                adapters.provisioner,
                adapters.playbooks,
                self.traces,
                self.observer,
                cancelled=self.interrupted,
            )
            try:
                return command.execute(current)
            finally:
                self.stale_state = command.stale_state

    def purge(self, env: EnvRef | AnyEnvironment, force: bool = False) -> None:
        """Delete the environment's record and files. Refuses one whose instance may exist unless forced."""
        name = _name(env)
        with self.repository.lock(name):
            current = self.show(name)
            if not force and not isinstance(current.state, Created | Destroyed):
                raise PurgeRefusedError(name, type(current.state).__name__)
            shutil.rmtree(self.layout.environment_build_dir(str(name)), ignore_errors=True)
            self.repository.delete(name)


__all__ = [
    "Adapters",
    "ConfigureFailed",
    "Deployer",
    "EnvironmentNotFoundError",
    "ProvisionFailed",
    "PurgeRefusedError",
]
