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

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from orchestrator.commands.create import CreateCommand
from orchestrator.commands.ports import InfrastructureProvisioner, PlaybookRunner, SshProbe
from orchestrator.commands.progress import ProgressObserver, SilentProgress
from orchestrator.commands.steps import TraceWriter
from orchestrator.config import EnvironmentConfig
from orchestrator.domain import (
    AnyEnvironment,
    Configured,
    ConfigureFailed,
    Created,
    Destroyed,
    Environment,
    EnvironmentName,
    Provisioned,
    ProvisionFailed,
)
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import EnvironmentRepository, JsonFileRepository

if TYPE_CHECKING:
    from orchestrator.infrastructure.pulumi.toolchain import PulumiToolchain

S = TypeVar("S")
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


def _name(ref: EnvRef | AnyEnvironment) -> EnvironmentName:
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

    # --- wiring -------------------------------------------------------------------------------------

    @property
    def adapters(self) -> Adapters:
        if self._adapters is None:
            from orchestrator.infrastructure.ansible.playbooks import AnsiblePlaybooks
            from orchestrator.infrastructure.pulumi.stacks import PulumiProvisioner
            from orchestrator.infrastructure.pulumi.toolchain import find_pulumi
            from orchestrator.infrastructure.ssh.wait import SshWaiter

            toolchain = self._toolchain or find_pulumi()
            self._adapters = Adapters(
                provisioner=PulumiProvisioner(toolchain, self.layout),
                playbooks=AnsiblePlaybooks(self.layout.build_dir),
                ssh=SshWaiter(),
            )
        return self._adapters

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

    # --- commands -----------------------------------------------------------------------------------

    def create(self, config: EnvironmentConfig) -> Environment[Created]:
        return CreateCommand(self.repository).execute(
            config.environment_name(),
            config.ssh_credentials(),
            lxd=config.lxd_target(),
            instance_name=config.instance_name,
        )

    def provision(self, env: Environment[Created] | EnvRef) -> Environment[Provisioned]:
        from orchestrator.commands.provision import ProvisionCommand

        adapters = self.adapters
        command = ProvisionCommand(
            self.repository,
            adapters.provisioner,
            adapters.playbooks,
            adapters.ssh,
            self.traces,
            self.observer,
            ssh_timeout_s=self.ssh_timeout_s,
        )
        with self.repository.lock(_name(env)):
            current = self.show(_name(env)).require(Created)
            try:
                return command.execute(current)
            finally:
                self.stale_state = command.stale_state

    def configure(self, env: Environment[Provisioned] | EnvRef) -> Environment[Configured]:
        from orchestrator.commands.configure import ConfigureCommand

        command = ConfigureCommand(self.repository, self.adapters.playbooks, self.traces, self.observer)
        with self.repository.lock(_name(env)):
            current = self.show(_name(env)).require(Provisioned)
            try:
                return command.execute(current)
            finally:
                self.stale_state = command.stale_state

    def deploy(self, env: EnvRef | AnyEnvironment) -> Environment[Configured]:
        """Provision (if not yet) and configure (if not yet): continues from where the environment is."""
        name = _name(env)
        current = self.show(name)
        if isinstance(current.state, Configured):
            return current.require(Configured)
        if isinstance(current.state, Created):
            self.provision(name)
        return self.configure(name)

    def destroy(self, env: EnvRef | AnyEnvironment) -> Environment[Destroyed]:
        from orchestrator.commands.destroy import DestroyCommand

        adapters = self.adapters
        command = DestroyCommand(self.repository, adapters.provisioner, adapters.playbooks, self.traces, self.observer)
        with self.repository.lock(_name(env)):
            current = self.show(_name(env))
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
