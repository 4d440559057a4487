"""register: adopt an existing host — Created → Provisioning → Provisioned | ProvisionFailed.

Two kinds of host:
- `RegisterCommand` (`--ip`): any host reachable over SSH, without Pulumi. The tool never manages it:
  `destroy` leaves it alone. Steps: render the inventory → wait for SSH → wait for cloud-init.
- `RegisterLxdInstanceCommand` (`--lxd-instance NAME`): an LXD instance on the environment's LXD target,
  imported into the environment's Pulumi stack as it is (`pulumi up` of the adoption program, with
  `import`). Managed from then on like a provisioned one: `provision` converges it in place, `destroy`
  deletes it. Its name, image and type must be the environment's (those would replace it). Steps:
  import (`pulumi up`) → read outputs → render the inventory → wait for SSH → wait for cloud-init;
  any failed step lets go of the instance again (the stack forgets it, LXD keeps it), so a failed
  registration never leaves the user's instance to a later `destroy`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Protocol, runtime_checkable

from orchestrator.commands.base import StateChangingCommand, StepFailedError, StepRunner, TraceWriter
from orchestrator.commands.errors import ProvisionFailedError
from orchestrator.commands.ports import (
    CancelToken,
    InfrastructureProvisioner,
    InstanceOutputs,
    LineSink,
    PlaybookRunner,
    SshProbe,
    never_cancelled,
)
from orchestrator.commands.progress import ProgressObserver
from orchestrator.commands.provision import WAIT_CLOUD_INIT_PLAYBOOK, MissingInstanceAddressError
from orchestrator.domain import (
    Created,
    DeployError,
    Environment,
    EnvironmentContext,
    ExitCode,
    FailureContext,
    Provisioned,
    Provisioning,
    ProvisionStep,
)
from orchestrator.persistence import EnvironmentRepository

log = logging.getLogger("orchestrator.commands")
REGISTER_STEPS = (ProvisionStep.RENDER_INVENTORY, ProvisionStep.WAIT_SSH, ProvisionStep.WAIT_CLOUD_INIT)
REGISTER_LXD_INSTANCE_STEPS = (
    ProvisionStep.PULUMI_UP,
    ProvisionStep.READ_OUTPUTS,
    *REGISTER_STEPS,
)


@runtime_checkable
class InstanceAdopter(Protocol):
    """Imports an existing instance into the environment's stack, and lets go of it again."""

    def adopt(self, context: EnvironmentContext, on_output: LineSink | None = None) -> InstanceOutputs:
        """Import the LXD instance `context.instance_name` as it is; its outputs (name, address)."""
        ...

    def forget(self, context: EnvironmentContext) -> None:
        """Drop the stack's resources from its state without deleting them."""
        ...


class RegisterFailedError(ProvisionFailedError):
    command = "register"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        super().__init__(environment, failure)
        self.tip = (
            "Check that the host is reachable on that address and port and that the environment's key is "
            f"authorized for its user; then `torrust-deploy destroy {environment}`, purge it and register again."
        )


class RegisterLxdInstanceFailedError(ProvisionFailedError):
    command = "register"

    def __init__(self, environment: str, failure: FailureContext, instance: str) -> None:
        super().__init__(environment, failure)
        if failure.step == ProvisionStep.PULUMI_UP:
            cause = (
                f"The LXD instance {instance} could not be imported and is not managed (`destroy` does not delete "
                "it): it must exist on the environment's LXD target with the environment's image and instance "
                "type (the trace shows what differs)."
            )
        else:
            cause = (
                f"The LXD instance {instance} was imported, then let go again (it is not managed: `destroy` "
                "does not delete it). Check that it is running, reachable, and that cloud-init created the "
                "environment's user with its key."
            )
        self.tip = f"{cause} Then `torrust-deploy destroy {environment}`, purge it and register again."


class LxdInstanceNameMismatchError(DeployError):
    """`register --lxd-instance NAME` where NAME is not the environment's instance name."""

    exit_code = ExitCode.USAGE

    def __init__(self, environment: str, expected: str, given: str) -> None:
        super().__init__(
            f"environment '{environment}' manages the LXD instance '{expected}', not '{given}'",
            f"Create the environment with `instance_name: {given}` in its config to adopt '{given}' "
            f"(a different name would make Pulumi replace the instance), or run "
            f"`torrust-deploy register {environment} --lxd-instance {expected}`.",
        )


class RegisterCommand(StateChangingCommand):
    def __init__(
        self,
        repository: EnvironmentRepository,
        playbooks: PlaybookRunner,
        ssh: SshProbe,
        traces: TraceWriter,
        observer: ProgressObserver | None = None,
        cancelled: CancelToken = never_cancelled,
        ssh_timeout_s: float = 120.0,
    ) -> None:
        super().__init__(repository, traces, observer, cancelled)
        self._playbooks = playbooks
        self._ssh = ssh
        self._ssh_timeout_s = ssh_timeout_s

    def execute(self, env: Environment[Created], ip: str, ssh_port: int | None = None) -> Environment[Provisioned]:
        """Adopt the host at `ip`, under the caller's hold of the environment's lock."""
        registering = env.start_registering()
        self._saver.save(registering)
        runner = self._steps("register", REGISTER_STEPS)
        ssh = registering.context.ssh if ssh_port is None else replace(registering.context.ssh, port=ssh_port)
        target = replace(registering.context, instance_ip=ip, ssh=ssh)
        try:
            self._check_host(target, ip, runner)
        except StepFailedError as failed:
            failure = runner.failure(failed, self._traces, str(env.name))
            self._saver.save(registering.fail_provisioning(failure))
            raise RegisterFailedError(str(env.name), failure) from failed.error
        registered = registering.complete_registration(ip, ssh_port)
        self._saver.save(registered)
        return registered

    def _check_host(self, target: EnvironmentContext, ip: str, runner: StepRunner) -> None:
        runner.run(ProvisionStep.RENDER_INVENTORY, lambda: self._playbooks.render_inventory(target, ip))
        runner.run(ProvisionStep.WAIT_SSH, lambda: self._ssh.wait(target, ip, self._ssh_timeout_s))
        runner.run(
            ProvisionStep.WAIT_CLOUD_INIT,
            lambda: self._playbooks.run(target, WAIT_CLOUD_INIT_PLAYBOOK, runner.sink),
        )


class RegisterLxdInstanceCommand(RegisterCommand):
    def __init__(
        self,
        repository: EnvironmentRepository,
        adopter: InstanceAdopter,
        playbooks: PlaybookRunner,
        ssh: SshProbe,
        traces: TraceWriter,
        observer: ProgressObserver | None = None,
        cancelled: CancelToken = never_cancelled,
        ssh_timeout_s: float = 120.0,
    ) -> None:
        super().__init__(repository, playbooks, ssh, traces, observer, cancelled, ssh_timeout_s)
        self._adopter = adopter

    @staticmethod
    def adopter_of(provisioner: InfrastructureProvisioner) -> InstanceAdopter:
        if not isinstance(provisioner, InstanceAdopter):
            raise TypeError(f"{type(provisioner).__name__} cannot import an LXD instance (no adopt/forget)")
        return provisioner

    def execute_lxd_instance(self, env: Environment[Created], instance: str) -> Environment[Provisioned]:
        """Import the LXD instance `instance` and check it like a provisioned one, under the caller's lock."""
        if instance != env.context.instance_name:
            raise LxdInstanceNameMismatchError(str(env.name), env.context.instance_name, instance)
        registering = env.start_registering()
        self._saver.save(registering)
        runner = self._steps("register", REGISTER_LXD_INSTANCE_STEPS)
        try:
            outputs = self._import(registering, runner)
            self._check_host(registering.context, outputs.ipv4, runner)
        except StepFailedError as failed:
            # even a failed `up` may have recorded the import before it stopped (e.g. at a diff that
            # would replace the instance): the stack must not keep the user's instance for a `destroy`
            self._let_go(registering.context)
            failure = runner.failure(failed, self._traces, str(env.name))
            self._saver.save(registering.fail_provisioning(failure))
            raise RegisterLxdInstanceFailedError(str(env.name), failure, instance) from failed.error
        registered = registering.complete_provisioning(outputs.ipv4)
        self._saver.save(registered)
        return registered

    def _import(self, env: Environment[Provisioning], runner: StepRunner) -> InstanceOutputs:
        context = env.context
        outputs = runner.run(ProvisionStep.PULUMI_UP, lambda: self._adopter.adopt(context, runner.sink))
        runner.run(ProvisionStep.READ_OUTPUTS, lambda: _require_address(outputs))
        return outputs

    def _let_go(self, context: EnvironmentContext) -> None:
        try:
            self._adopter.forget(context)
        except Exception as error:  # the failure being reported matters more
            log.warning(
                "could not let go of the LXD instance %s after a failed registration: %s", context.instance_name, error
            )


def _require_address(outputs: InstanceOutputs) -> None:
    if not outputs.ipv4:
        raise MissingInstanceAddressError(f"instance {outputs.instance_name} has no IPv4 address")


class RegisterTargetError(DeployError):
    """`register` needs exactly one host: an address (`--ip`) or an LXD instance (`--lxd-instance`)."""

    exit_code = ExitCode.USAGE

    def __init__(self, problem: str) -> None:
        super().__init__(
            problem,
            "Run `torrust-deploy register ENV --ip ADDRESS [--ssh-port PORT]` for any host reachable over SSH "
            "(never managed), or `torrust-deploy register ENV --lxd-instance NAME` to import an LXD instance "
            "(managed from then on: `destroy` deletes it).",
        )


def check_register_target(ip: str | None, ssh_port: int | None, lxd_instance: str | None) -> None:
    """Raise RegisterTargetError unless exactly one kind of host is given (and a port only with an address)."""
    if (ip is None) == (lxd_instance is None):
        raise RegisterTargetError("register needs either an address (--ip) or an LXD instance (--lxd-instance)")
    if lxd_instance is not None and ssh_port is not None:
        raise RegisterTargetError("--ssh-port goes with --ip: an LXD instance is reached on its own address")
