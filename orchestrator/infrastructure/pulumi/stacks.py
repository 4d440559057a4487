"""Pulumi Automation API adapter: one stack per environment on a file backend of its own.

Project `torrust-deploy`, stack = environment name, backend `file://data/{env}/pulumi`, passphrase
secrets provider, and an explicit `PulumiCommand` (the CLI found or built by the toolchain step). The LXD
resources come from the `pulumi-resource-lxd` plugin, named in the workspace's project settings
(`plugins.providers`, the directory of this installation's console script), so the engine starts this
installation's plugin and never looks for one elsewhere. A stack still on the old dynamic provider is
migrated when it is opened (`migration.py`).

Destroy is one engine run (`pulumi destroy`, its summary taken from its events) on a stack opened without
`pulumi stack select` when its checkpoint is on disk. While the engine starts (~0.6 s before it asks the
plugin to delete anything), the instances the checkpoint records are already being stopped and deleted
through pylxd (`EarlyInstanceDelete`); the plugin's delete waits for that and finds them gone. Pulumi still
deletes every resource and records it; the stack, then empty, is removed by removing its checkpoint and
the files beside it (no CLI run). See ADR 0011, "Destroy".
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from orchestrator.commands.ports import InstanceOutputs
from orchestrator.domain import EnvironmentContext
from orchestrator.infrastructure.pulumi.checkpoint import (
    checkpoint_files,
    create_stack_files,
    instances_destroy_deletes,
    read_checkpoint,
    records_resources,
    remove_stack_files,
)
from orchestrator.infrastructure.pulumi.lxd_connection import LxdConnection, connect, wait_for_ipv4
from orchestrator.infrastructure.pulumi.spec import StackSpec
from orchestrator.infrastructure.pulumi.toolchain import PulumiToolchain, lxd_plugin_dir
from orchestrator.layout import WorkingDirLayout
from orchestrator.resources import shipped_dir

if TYPE_CHECKING:
    from pulumi import automation as auto

    from orchestrator.infrastructure.pulumi.event_outputs import EventOutputStack


PROJECT_NAME = "torrust-deploy"
PASSPHRASE = ""  # the file backend's secrets are the stack's own; no secret is stored in it
OutputSink = Callable[[str], None]
T = TypeVar("T")
log = logging.getLogger("orchestrator.infrastructure.pulumi")


class StackOperationError(Exception):
    """A Pulumi operation failed; `tool_output` keeps the engine's output for the trace file."""

    def __init__(self, operation: str, detail: str, tool_output: list[str]) -> None:
        super().__init__(f"pulumi {operation} failed: {detail}")
        self.operation = operation
        self.tool_output = tool_output


@dataclass
class EngineLog:
    """Engine output of one operation, forwarded to an optional sink."""

    sink: OutputSink | None = None
    lines: list[str] = field(default_factory=list)

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if self.sink is not None:
            self.sink(line)


def load_environment_module() -> ModuleType:
    """The shipped `stacks/environment.py` (the program and the profile it declares)."""
    path = shipped_dir("stacks") / "environment.py"
    module_spec = importlib.util.spec_from_file_location("torrust_deploy_stacks.environment", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load the Pulumi program {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def load_environment_program(name: str = "environment_program") -> Callable[[StackSpec], object]:
    """`environment_program` (or another program, e.g. `adoption_program`) from the shipped
    `stacks/environment.py`."""
    program: Callable[[StackSpec], object] = getattr(load_environment_module(), name)
    return program


def project_settings(backend_url: str, plugin_dir: Path) -> auto.ProjectSettings:
    """The workspace's Pulumi.yaml: this project on the environment's backend, with the `lxd` provider
    plugin taken from `plugin_dir` (the Python Automation API has no field for `plugins`)."""
    from pulumi import automation as auto

    class WithPlugins(auto.ProjectSettings):
        def to_dict(self) -> dict[str, Any]:
            plugins = {"providers": [{"name": "lxd", "path": str(plugin_dir)}]}
            return {**super().to_dict(), "plugins": plugins}

    return WithPlugins(name=PROJECT_NAME, runtime="python", backend=auto.ProjectBackend(url=backend_url))


def _first_error_line(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("error:", "Exception:")) or "Exception:" in stripped:
            return stripped
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def lxd_connection(context: EnvironmentContext) -> LxdConnection:
    """How the environment's config says its LXD API is reached."""
    lxd = context.lxd
    return LxdConnection(
        endpoint=lxd.endpoint or "",
        client_cert=str(lxd.client_cert_path or ""),
        client_key=str(lxd.client_key_path or ""),
        server_cert=str(lxd.server_cert_path or ""),
    )


def stack_spec(context: EnvironmentContext) -> StackSpec:
    """The program's inputs for an environment (reads the public key file)."""
    lxd = context.lxd
    connection = lxd_connection(context)
    return StackSpec(
        environment=str(context.name),
        instance_name=context.instance_name,
        profile_name=context.profile_name,
        image_alias=lxd.image_alias,
        instance_type=lxd.instance_type,
        network=lxd.network,
        storage_pool=lxd.storage_pool,
        ssh_username=context.ssh.username,
        ssh_public_key=context.ssh.public_key_path.read_text(encoding="utf-8").strip(),
        connection=connection,
    )


class PulumiProvisioner:
    """Runs an environment's stack: prepare, up, destroy, remove."""

    def __init__(self, toolchain: PulumiToolchain, layout: WorkingDirLayout) -> None:
        self._toolchain = toolchain
        self._layout = layout

    def _stack_locks(self, name: str) -> list[Path]:
        locks = self._layout.pulumi_backend_dir(name) / ".pulumi" / "locks"
        return [path for path in locks.rglob("*.json") if path.is_file()] if locks.is_dir() else []

    def _release_stale_lock(self, stack: auto.Stack, name: str) -> None:
        """Every Pulumi operation on an environment runs under the environment's lock, which the caller
        holds: a Pulumi lock found now was left by a killed run. `cancel` removes it (file backend)."""
        if self._stack_locks(name):
            log.warning("removing the Pulumi stack lock left by an interrupted run of %s", name)
            stack.cancel()

    def _stack(
        self, context: EnvironmentContext, program_name: str = "environment_program", existing: bool = False
    ) -> EventOutputStack:
        """The environment's stack in a fresh workspace: selected, or created (in its files when the backend
        allows, `create_stack_files`, else by `pulumi stack init`); `existing`: its checkpoint was found on
        disk, so it is opened without a CLI run."""
        from pulumi import automation as auto

        from orchestrator.infrastructure.pulumi.event_outputs import EventOutputStack
        from orchestrator.infrastructure.pulumi.migration import migrate, needs_migration

        name = str(context.name)
        backend_dir = self._layout.pulumi_backend_dir(name)
        backend_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        work_dir = self._layout.environment_build_dir(name) / "pulumi"
        work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        spec = stack_spec(context)
        program = load_environment_program(program_name)
        settings = project_settings(backend_dir.resolve().as_uri(), lxd_plugin_dir())
        env_vars = {**self._toolchain.environment(), "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}
        options = auto.LocalWorkspaceOptions(
            work_dir=str(work_dir),
            pulumi_command=self._toolchain.command(),
            project_settings=settings,
            env_vars=env_vars,
            secrets_provider="passphrase",
        )
        options.program = lambda: _discard(program(spec))
        workspace = auto.LocalWorkspace(**options.__dict__)
        if existing:
            stack = EventOutputStack.existing(name, workspace)
        elif self._stack_file_exists(name):
            stack = EventOutputStack.open(name, workspace, likely_exists=True)
        elif create_stack_files(backend_dir, PROJECT_NAME, name):
            stack = EventOutputStack.written(name, workspace)
        else:
            stack = EventOutputStack.open(name, workspace, likely_exists=False)
        self._release_stale_lock(stack, name)
        if not stack.created and needs_migration(backend_dir, name):
            migrate(stack)
        return stack

    def _stack_file_exists(self, name: str) -> bool:
        """Whether the backend holds a checkpoint for the stack: only a guess that orders the create and
        select attempts (each wrong guess costs one CLI run, ~0.1 s), never trusted for correctness."""
        return bool(checkpoint_files(self._layout.pulumi_backend_dir(name), name))

    def prepare(self, context: EnvironmentContext) -> object:
        """Create or select the environment's stack (the `prepare_stack` step)."""
        return _run("prepare", lambda log: self._stack(context), None)

    def up(self, stack: object, on_output: OutputSink | None = None) -> InstanceOutputs:
        from orchestrator.infrastructure.pulumi.event_outputs import EventOutputStack

        assert isinstance(stack, EventOutputStack)

        def run(log: EngineLog) -> InstanceOutputs:
            # refresh first: an instance deleted, stopped or changed behind the tool's back is repaired.
            # A stack created by this run has no resources, so there is nothing to refresh.
            try:
                result = stack.up(on_output=log, color="never", refresh=not stack.created, show_secrets=False)
            finally:
                self._release_stale_lock(stack, stack.name)
            return _outputs(result.outputs)

        return _run("up", run, on_output)

    def adopt(self, context: EnvironmentContext, on_output: OutputSink | None = None) -> InstanceOutputs:
        """Import the existing LXD instance named `context.instance_name` into the stack as it is
        (`register --lxd-instance`): managed from then on. Its name, image and type must be the
        environment's; Pulumi refuses the import otherwise and records nothing."""

        def run(log: EngineLog) -> InstanceOutputs:
            _wait_for_address(stack_spec(context))
            stack = self._stack(context, "adoption_program")
            try:
                result = stack.up(on_output=log, color="never", show_secrets=False)
            finally:
                self._release_stale_lock(stack, stack.name)
            return _outputs(result.outputs)

        return _run("up", run, on_output)

    def forget(self, context: EnvironmentContext) -> None:
        """Drop every resource from the stack's state without touching LXD (undoes an `adopt`)."""
        from pulumi import automation as auto

        def run(log: EngineLog) -> None:
            stack = self._stack(context)
            exported = stack.export_stack()
            state = dict(exported.deployment or {})
            kept = [item for item in state.get("resources") or [] if item.get("type") == "pulumi:pulumi:Stack"]
            deployment = {**state, "resources": kept, "pending_operations": []}
            stack.import_stack(auto.Deployment(version=exported.version, deployment=deployment))

        _run("stack import", run, None)

    def destroy(self, context: EnvironmentContext, on_output: OutputSink | None = None) -> None:
        """Delete the stack's resources (`pulumi destroy`; an instance already gone is not an error, and a
        stack the backend does not hold has nothing to delete: no CLI runs). The instances the checkpoint
        records are deleted through pylxd beside the engine's start (`EarlyInstanceDelete`); the engine's
        own delete is the one that counts, and its failure is this step's failure, with the engine's
        output."""
        name = str(context.name)
        found = checkpoint_files(self._layout.pulumi_backend_dir(name), name)
        if not found:
            log.debug("no stack %s in its backend: nothing for pulumi destroy to delete", name)
            return
        early = EarlyInstanceDelete.for_checkpoint(found, lxd_connection(context))

        def run(log: EngineLog) -> None:
            early.start()
            try:
                self._stack(context, existing=True).destroy(on_output=log, color="never")
            finally:
                log.lines.extend(early.join())

        _run("destroy", run, on_output)

    def remove_stack(self, context: EnvironmentContext) -> None:
        """Remove the stack, which `destroy` has emptied: its checkpoint and the files beside it
        (`remove_stack_files`), with no CLI run. A checkpoint that still records resources is left to
        `pulumi stack rm`, which refuses to drop the state of resources and says so."""
        name = str(context.name)
        backend = self._layout.pulumi_backend_dir(name)
        found = checkpoint_files(backend, name)
        if any(records_resources(read_checkpoint(path)) for path in found):

            def run(log: EngineLog) -> None:
                self._stack(context, existing=True).workspace.remove_stack(name)

            _run("stack rm", run, None)
            return
        for path in found:
            remove_stack_files(backend, path)


class EarlyInstanceDelete:
    """Stops and deletes, through pylxd and in a thread of its own, the instances a stack's checkpoint
    records, while `pulumi destroy` starts: the engine then finds them gone (or still going: the plugin's
    delete waits for the operations running on an instance). Pulumi owns the state all the same: it
    deletes every resource itself and records the result. Only instances the engine would delete are
    touched (`instances_destroy_deletes`), and only on the LXD target of the environment's config. A
    failure here is not the step's: it goes to the trace, and the engine's delete is tried regardless."""

    def __init__(self, names: list[str], connection: LxdConnection) -> None:
        self.names = names
        self._connection = connection
        self._errors: list[str] = []
        self._thread = threading.Thread(target=self._delete, name="early-instance-delete", daemon=True)

    @classmethod
    def for_checkpoint(cls, files: list[Path], connection: LxdConnection) -> EarlyInstanceDelete:
        names: list[str] = []
        for path in files:
            try:
                recorded = instances_destroy_deletes(read_checkpoint(path))
            except Exception as error:  # only the early delete is given up; the engine says what is wrong
                log.debug("not deleting ahead of the engine: %s: %s", path, error)
                return cls([], connection)
            names += [item.name for item in recorded if item.remote == connection.endpoint]
        return cls(list(dict.fromkeys(names)), connection)

    def _delete(self) -> None:
        from pulumi_lxd.plugin.resources import delete_instance

        try:
            client = connect(self._connection)
            for name in self.names:
                delete_instance(client, name)
        except Exception as error:  # reported by join(); the engine's delete decides
            self._errors.append(f"deleting instance(s) {', '.join(self.names)} ahead of the engine: {error}")

    def start(self) -> None:
        if self.names:
            self._thread.start()

    def join(self) -> list[str]:
        """Wait for the deletes (each bounded by the plugin's wait); the errors, as lines for the trace."""
        if self._thread.is_alive():
            self._thread.join()
        for line in self._errors:
            log.warning("%s", line)
        return list(self._errors)


def _wait_for_address(spec: StackSpec) -> None:
    """Before an import, give a running instance that was just started the time to get its address (the
    import reads it once; it does not wait like a create). An instance that is not there or not running is
    left to the import and the checks after it to report."""
    from pylxd.exceptions import NotFound

    try:
        instance = connect(spec.connection).instances.get(spec.instance_name)
    except NotFound:
        return
    if instance.status == "Running":
        wait_for_ipv4(instance, spec.ready_timeout_s)


def _discard(_: object) -> None:
    """Inline programs must return None; the program returns its resources for tests."""


def _outputs(outputs: Mapping[str, Any]) -> InstanceOutputs:
    try:
        return InstanceOutputs(instance_name=str(outputs["instance_name"].value), ipv4=str(outputs["ipv4"].value))
    except KeyError as missing:
        raise StackOperationError("stack output", f"output {missing} is missing", []) from None


def _run(operation: str, body: Callable[[EngineLog], T], sink: OutputSink | None) -> T:
    from pulumi.automation.errors import CommandError

    log = EngineLog(sink)
    try:
        return body(log)
    except CommandError as error:
        text = f"{getattr(error, 'stdout', '')}\n{getattr(error, 'stderr', '')}"
        raise StackOperationError(operation, _first_error_line(text), [*log.lines, text]) from error
