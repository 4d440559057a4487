"""`Deployer`: the Python entry point. Wires the adapters (no DI framework) and runs the commands.

    from orchestrator.api import Deployer
    from orchestrator.config import load_config

    deployer = Deployer(working_dir=Path("."))
    env = deployer.create(load_config(Path("env.json")))
    configured = deployer.configure(deployer.provision(env))
    deployer.destroy(configured)

Every lifecycle command goes one path (`_run`): it takes the environment's lock once, reads the
environment once, records an interrupted earlier run, checks the state once (the error names every state
the command starts from and what to run instead), builds the adapters, runs the command and saves through
it. So a stale object or a second process cannot run a command on the wrong state. Adapters (Pulumi,
ansible-runner, ssh, the tracker) are created on first use, so read-only calls never import them.

Each method takes an environment or its name (`str` or `EnvironmentName`). `run_command` gives the result
with its `stale_state` flag (a save failed: what is on disk is behind), which the CLI reports.
"""

from __future__ import annotations

import builtins
import contextlib
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from orchestrator.commands.base import SafeSaver, TraceWriter
from orchestrator.commands.create import CreateCommand
from orchestrator.commands.ports import (
    HostProbe,
    InfrastructureInspector,
    InfrastructureProvisioner,
    PlaybookRunner,
    SshProbe,
)
from orchestrator.commands.progress import ProgressObserver, SilentProgress
from orchestrator.commands.recover import record_interruption
from orchestrator.commands.tracker_ports import ApiTokens, ReleasePreparer, TrackerChecks
from orchestrator.config import EnvironmentConfig
from orchestrator.domain import (
    IN_PROGRESS,
    AnyEnvironment,
    Configurable,
    Configured,
    ConfigureFailed,
    Created,
    DeployError,
    Destroyed,
    Environment,
    EnvironmentName,
    ExitCode,
    NoTrackerError,
    Provisionable,
    Provisioned,
    ProvisionFailed,
    Releasable,
    Released,
    Runnable,
    Running,
    TrackerSettings,
)
from orchestrator.layout import WorkingDirLayout
from orchestrator.persistence import EnvironmentRepository, JsonFileRepository
from orchestrator.persistence.secrets import TrackerTokenStore

if TYPE_CHECKING:
    from orchestrator.commands.base import StateChangingCommand
    from orchestrator.commands.check import DriftReport
    from orchestrator.commands.configure import ConfigureCommand
    from orchestrator.commands.provision import ProvisionCommand
    from orchestrator.commands.release import ReleaseCommand
    from orchestrator.commands.run import RunCommand
    from orchestrator.commands.verify import TrackerTestReport
    from orchestrator.infrastructure.interrupt import SignalInterruption
    from orchestrator.infrastructure.pulumi.toolchain import PulumiToolchain
    from orchestrator.persistence import TransitionEvent

EnvRef = EnvironmentName | str
R = TypeVar("R")
E = TypeVar("E", bound=Environment[Any])


class EnvironmentNotFoundError(DeployError):
    exit_code = ExitCode.NOT_FOUND

    def __init__(self, name: EnvironmentName, working_dir: Path) -> None:
        super().__init__(
            f"environment '{name}' does not exist in {working_dir}",
            "Run `torrust-deploy list` to see the environments here, or create it with "
            "`torrust-deploy create environment -f FILE`.",
        )


class PurgeRefusedError(DeployError):
    exit_code = ExitCode.USAGE

    def __init__(self, name: EnvironmentName, state: str) -> None:
        super().__init__(
            f"environment '{name}' is {state}; purging it would orphan its instance",
            f"Run `torrust-deploy destroy {name}` first, or purge with --force to drop the record anyway.",
        )


class ConfigNameMismatchError(DeployError):
    exit_code = ExitCode.USAGE

    def __init__(self, config_name: str, env_name: str) -> None:
        super().__init__(
            f"the config file describes environment '{config_name}', not '{env_name}'",
            f"Pass the config of '{env_name}' (its `name` field must be `{env_name}`).",
        )


@dataclass(frozen=True)
class Adapters:
    """The outside world the commands use; tests pass fakes, `Deployer` builds the real ones lazily."""

    provisioner: InfrastructureProvisioner
    playbooks: PlaybookRunner
    ssh: SshProbe
    inspector: InfrastructureInspector
    release: ReleasePreparer
    tracker: TrackerChecks
    host: HostProbe | None = None


@dataclass(frozen=True)
class CommandResult(Generic[E]):
    """What a lifecycle command returns: the environment, and whether its last save failed."""

    environment: E
    stale_state: bool = False
    """True when a save failed during the run: the state on disk is behind `environment`."""


def environment_name(ref: object) -> EnvironmentName:
    """The name of an environment given as an `Environment`, an `EnvironmentName` or a `str` (validated)."""
    if isinstance(ref, EnvironmentName):
        return ref
    if isinstance(ref, str):
        return EnvironmentName(ref)
    if isinstance(ref, Environment):
        return ref.name
    raise TypeError(f"expected an environment, an EnvironmentName or a str, got {type(ref).__name__}")


class Deployer:
    def __init__(
        self,
        working_dir: Path | str = ".",
        *,
        observer: ProgressObserver | None = None,
        repository: EnvironmentRepository | None = None,
        adapters: Adapters | None = None,
        traces: TraceWriter | None = None,
        tokens: ApiTokens | None = None,
        toolchain: PulumiToolchain | None = None,
        lock_timeout: float = 30.0,
        ssh_timeout_s: float = 120.0,
    ) -> None:
        self.layout = WorkingDirLayout(Path(working_dir).resolve())
        self.observer = observer or SilentProgress()
        self.repository = repository or JsonFileRepository(self.layout.data_dir, lock_timeout=lock_timeout)
        self.tokens = tokens or TrackerTokenStore(self.layout.data_dir)
        self._adapters = adapters
        self._traces = traces
        self._toolchain = toolchain
        self.ssh_timeout_s = ssh_timeout_s
        self._interruption: SignalInterruption | None = None

    # --- wiring -------------------------------------------------------------------------------------

    @property
    def adapters(self) -> Adapters:
        if self._adapters is None:
            from orchestrator.infrastructure.ansible.playbooks import AnsiblePlaybooks
            from orchestrator.infrastructure.pulumi.inspect import LxdInspector
            from orchestrator.infrastructure.pulumi.stacks import PulumiProvisioner
            from orchestrator.infrastructure.pulumi.toolchain import find_pulumi
            from orchestrator.infrastructure.ssh.host_probe import SshHostProbe
            from orchestrator.infrastructure.ssh.wait import SshWaiter
            from orchestrator.infrastructure.tracker.adapters import TrackerProbe, TrackerReleasePreparer

            toolchain = self._toolchain or find_pulumi()
            self._adapters = Adapters(
                provisioner=PulumiProvisioner(toolchain, self.layout),
                playbooks=AnsiblePlaybooks(self.layout.build_dir, cancelled=self.interrupted),
                ssh=SshWaiter(cancelled=self.interrupted),
                inspector=LxdInspector(),
                release=TrackerReleasePreparer(self.layout),
                tracker=TrackerProbe(),
                host=SshHostProbe(),
            )
        return self._adapters

    @property
    def traces(self) -> TraceWriter:
        if self._traces is None:
            from orchestrator.infrastructure.traces import FileTraceWriter

            self._traces = FileTraceWriter(self.layout)
        return self._traces

    def interrupted(self) -> bool:
        """True once Ctrl-C/SIGTERM arrived during the command that is running now."""
        return self._interruption is not None and self._interruption.requested()

    # --- the one path of a lifecycle command ---------------------------------------------------------

    @contextlib.contextmanager
    def _held(self, name: EnvironmentName, command: str) -> Iterator[AnyEnvironment]:
        """The environment under one hold of its lock and the signal guard, read once, an interrupted
        earlier run recorded as failed, and its state checked once against what `command` starts from."""
        from orchestrator.infrastructure.interrupt import SignalInterruption
        from orchestrator.infrastructure.leftovers import marked_run, stop_leftovers

        if not self.repository.exists(name):  # before the lock: an unknown name leaves nothing on disk
            raise EnvironmentNotFoundError(name, self.layout.working_dir)
        with self.repository.lock(name):
            env_dir = self.repository.environment_dir(name)
            stop_leftovers(env_dir)  # of a run killed outright: its children may still work on the host
            self._interruption = SignalInterruption()
            try:
                with self._interruption.installed(), marked_run(env_dir):
                    current = record_interruption(self.show(name), SafeSaver(self.repository))
                    current.check_accepted_by(command)
                    yield current
            finally:
                self._interruption = None

    def _run(
        self,
        ref: object,
        command: str,
        build: Callable[[], StateChangingCommand | Any],
        execute: Callable[[Any, AnyEnvironment], E],
    ) -> CommandResult[E]:
        """Run `command` on the environment `ref` names: one lock hold, one read, one state check; the
        command (built after the check, so that a wrong state fails fast) saves its own transitions."""
        with self._held(environment_name(ref), command) as current:
            runner = build()
            environment = execute(runner, current)
            return CommandResult(environment, bool(getattr(runner, "stale_state", False)))

    def run_command(self, command: str, ref: object) -> CommandResult[Any]:
        """Run a lifecycle command by name (`provision`, `configure`, `release`, `run`, `deploy`, `destroy`)
        and return its environment with the stale-state flag."""
        runs: dict[str, Callable[[object], CommandResult[Any]]] = {
            "provision": self._provision,
            "configure": self._configure,
            "release": self._release,
            "run": self._start,
            "deploy": self._deploy,
            "destroy": self._destroy,
        }
        if command not in runs:
            raise ValueError(f"not a lifecycle command: {command!r}")
        return runs[command](ref)

    # --- reading ------------------------------------------------------------------------------------

    def show(self, name: EnvRef | Environment[Any]) -> AnyEnvironment:
        env_name = environment_name(name)
        env = self.repository.load(env_name)
        if env is None:
            raise EnvironmentNotFoundError(env_name, self.layout.working_dir)
        return env

    def list(self) -> builtins.list[AnyEnvironment]:
        found = (self.repository.load(name) for name in self.repository.list())
        return [env for env in found if env is not None]

    def is_interrupted(self, env: AnyEnvironment) -> bool:
        """An in-progress state (Provisioning, Configuring, Releasing, Starting, Destroying) that no live
        process holds: the run that set it was interrupted. The next command records it as failed."""
        return isinstance(env.state, IN_PROGRESS) and not self.repository.is_locked(env.name)

    def history(self, name: EnvRef | Environment[Any]) -> builtins.list[TransitionEvent]:
        """The environment's audit trail (events.jsonl), oldest first."""
        env_name = environment_name(name)
        self.show(env_name)
        return self.repository.read_events(env_name)

    def check(self, name: EnvRef | Environment[Any]) -> DriftReport:
        """Compare the stored state with what is really there — the LXD instance, Docker on the host, the
        tracker's health — changing nothing there; what it found is noted in the state file for `show`
        (unless a command is running on the environment)."""
        from orchestrator.commands.check import CheckCommand

        current = self.show(name)
        adapters = self.adapters
        report = CheckCommand(adapters.inspector, adapters.host, adapters.tracker).execute(current)
        noted = current.context.drift is not None
        if report.checked and (report.drifted or noted) and not self.repository.is_locked(current.name):
            with self.repository.lock(current.name):
                latest = self.show(current.name)
                if latest.last_seq == current.last_seq:  # nothing ran meanwhile: the finding still applies
                    SafeSaver(self.repository).save(latest.with_drift(report.findings, datetime.now(UTC)))
        return report

    def api_token(self, name: EnvRef | Environment[Any]) -> str | None:
        """The tracker's REST API admin token (a secret: `show --token` prints it), None before a release."""
        env = self.show(name)
        return self.tokens.read(env.name)

    # --- commands -----------------------------------------------------------------------------------

    def create(self, config: EnvironmentConfig) -> Environment[Created]:
        if not isinstance(config, EnvironmentConfig):
            raise TypeError(f"create needs an EnvironmentConfig (see orchestrator.config.load_config), got {config!r}")
        return CreateCommand(self.repository).execute(
            config.environment_name(),
            config.ssh_credentials(),
            lxd=config.lxd_target(),
            instance_name=config.instance_name,
            tracker=config.tracker_settings(),
        )

    def provision(self, env: Environment[Provisionable] | EnvRef) -> Environment[Provisioned]:
        """Create (or retry, or repair) the environment's instance and wait until it is reachable."""
        return self._provision(env).environment

    def _provision(self, env: object) -> CommandResult[Environment[Provisioned]]:
        return self._run(env, "provision", self._provision_command, lambda c, e: c.execute(e))

    def register(
        self,
        env: Environment[Created] | EnvRef,
        ip: str | None = None,
        ssh_port: int | None = None,
        *,
        lxd_instance: str | None = None,
    ) -> Environment[Provisioned]:
        """Adopt an existing host: the one at `ip` (never managed: no instance is created or deleted), or the
        LXD instance `lxd_instance`, imported into the stack (managed from then on: `destroy` deletes it).
        SSH and cloud-init are checked either way."""
        result = self.register_result(env, ip, ssh_port, lxd_instance=lxd_instance)
        return cast("Environment[Provisioned]", result.environment)

    def register_result(
        self, env: object, ip: str | None = None, ssh_port: int | None = None, *, lxd_instance: str | None = None
    ) -> CommandResult[Any]:
        from orchestrator.commands.register import RegisterCommand, RegisterLxdInstanceCommand, check_register_target

        check_register_target(ip, ssh_port, lxd_instance)
        if lxd_instance is not None:
            instance = lxd_instance

            def build_import() -> RegisterLxdInstanceCommand:
                adapters = self.adapters
                return RegisterLxdInstanceCommand(
                    self.repository,
                    RegisterLxdInstanceCommand.adopter_of(adapters.provisioner),
                    adapters.playbooks,
                    adapters.ssh,
                    self.traces,
                    self.observer,
                    cancelled=self.interrupted,
                    ssh_timeout_s=self.ssh_timeout_s,
                )

            return self._run(env, "register", build_import, lambda c, e: c.execute_lxd_instance(e, instance))

        def build() -> RegisterCommand:
            adapters = self.adapters
            return RegisterCommand(
                self.repository,
                adapters.playbooks,
                adapters.ssh,
                self.traces,
                self.observer,
                cancelled=self.interrupted,
                ssh_timeout_s=self.ssh_timeout_s,
            )

        address = ip
        assert address is not None  # check_register_target: without an instance there is an address
        return self._run(env, "register", build, lambda c, e: c.execute(e, address, ssh_port))

    def configure(self, env: Environment[Configurable] | EnvRef) -> Environment[Configured]:
        """Install Docker and Docker Compose (first run, retry after a failure, or idempotent re-run)."""
        return self._configure(env).environment

    def _configure(self, env: object) -> CommandResult[Environment[Configured]]:
        return self._run(env, "configure", self._configure_command, lambda c, e: c.execute(e))

    def release(
        self, env: Environment[Releasable] | EnvRef, tracker: TrackerSettings | None = None
    ) -> Environment[Released]:
        """Put the tracker's release on the host: image (no registry), compose file, config, token.
        `tracker` replaces the environment's tracker settings (see `tracker_of`); `run` then applies it."""
        return self._release(env, tracker).environment

    def release_result(self, env: object, tracker: TrackerSettings | None = None) -> CommandResult[Any]:
        """`release`, with the stale-state flag (see `run_command`)."""
        return self._release(env, tracker)

    def _release(self, env: object, tracker: TrackerSettings | None = None) -> CommandResult[Environment[Released]]:
        if tracker is not None and not isinstance(tracker, TrackerSettings):
            raise TypeError(f"tracker must be TrackerSettings (see Deployer.tracker_of), got {tracker!r}")
        return self._run(env, "release", self._release_command, lambda c, e: c.execute(e, tracker))

    def tracker_of(self, env: EnvRef | Environment[Any], config: EnvironmentConfig) -> TrackerSettings:
        """The tracker section of `config` for a re-release of `env`: the config must name that environment
        and have a tracker section."""
        current = self.show(env)
        if config.name != str(current.name):
            raise ConfigNameMismatchError(config.name, str(current.name))
        settings = config.tracker_settings()
        if settings is None:
            raise NoTrackerError(str(current.name))
        return settings

    def run(self, env: Environment[Runnable] | EnvRef) -> Environment[Running]:
        """Start the released tracker and wait until its health check passes."""
        return self._start(env).environment

    def _start(self, env: object) -> CommandResult[Environment[Running]]:
        return self._run(env, "run", self._run_command, lambda c, e: c.execute(e))

    def test(self, env: Environment[Running] | EnvRef) -> TrackerTestReport:
        """Check from the controller that the tracker answers (health, REST API, HTTP and UDP announce
        and scrape); raises TrackerTestFailedError when a check fails. Changes nothing."""
        from orchestrator.commands.verify import VerifyCommand

        current = self.show(env)
        current.check_accepted_by("test")
        return VerifyCommand(self.tokens, self.adapters.tracker, self.observer).execute(current.require(Running))

    def deploy(self, env: EnvRef | AnyEnvironment) -> Environment[Configured] | Environment[Running]:
        """Continue from wherever the environment is: provision, configure and — when its config has a
        tracker — release and run, ending Running (Configured without a tracker)."""
        return self._deploy(env).environment

    def _deploy(self, env: object) -> CommandResult[Environment[Configured] | Environment[Running]]:
        from orchestrator.commands.deploy import DeployCommand

        def build() -> DeployCommand:
            from orchestrator.commands.check import CheckCommand

            adapters = self.adapters
            return DeployCommand(
                adapters.playbooks,
                self._provision_command(),
                self._configure_command(),
                self._release_command(),
                self._run_command(),
                CheckCommand(adapters.inspector, adapters.host, adapters.tracker),
            )

        return self._run(env, "deploy", build, lambda c, e: c.execute(e))

    def destroy(self, env: EnvRef | AnyEnvironment) -> Environment[Destroyed]:
        """Delete the environment's instance and stack, from any state (an instance already gone is fine)."""
        return self._destroy(env).environment

    def _destroy(self, env: object) -> CommandResult[Environment[Destroyed]]:
        from orchestrator.commands.destroy import DestroyCommand

        def build() -> DestroyCommand:
            adapters = self.adapters
            return DestroyCommand(
                self.repository,
                adapters.provisioner,
                adapters.playbooks,
                self.traces,
                self.observer,
                cancelled=self.interrupted,
            )

        return self._run(env, "destroy", build, lambda c, e: c.execute(e))

    def purge(self, env: EnvRef | AnyEnvironment, force: bool = False) -> None:
        """Delete the environment's record and files. Refuses one whose instance may exist unless forced."""
        name = environment_name(env)
        with self.repository.lock(name):
            current = self.show(name)
            if not force and not isinstance(current.state, Created | Destroyed):
                raise PurgeRefusedError(name, type(current.state).__name__)
            shutil.rmtree(self.layout.environment_build_dir(str(name)), ignore_errors=True)
            self.repository.delete(name)

    # --- command construction -----------------------------------------------------------------------

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

    def _release_command(self) -> ReleaseCommand:
        from orchestrator.commands.release import ReleaseCommand

        adapters = self.adapters
        return ReleaseCommand(
            self.repository,
            adapters.playbooks,
            adapters.release,
            self.tokens,
            self.traces,
            self.observer,
            cancelled=self.interrupted,
        )

    def _run_command(self) -> RunCommand:
        from orchestrator.commands.run import RunCommand

        adapters = self.adapters
        return RunCommand(
            self.repository,
            adapters.playbooks,
            adapters.release,
            adapters.tracker,
            self.traces,
            self.observer,
            cancelled=self.interrupted,
        )


__all__ = [
    "Adapters",
    "CommandResult",
    "ConfigureFailed",
    "Deployer",
    "EnvironmentNotFoundError",
    "ProvisionFailed",
    "PurgeRefusedError",
    "environment_name",
]
