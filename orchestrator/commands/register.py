"""register: adopt an existing host — Created → Provisioning → Provisioned | ProvisionFailed, without
Pulumi. The same checks as provision still run: render the inventory → wait for SSH → wait for cloud-init.
"""

from __future__ import annotations

from dataclasses import replace

from orchestrator.commands.errors import ProvisionFailedError
from orchestrator.commands.ports import CancelToken, PlaybookRunner, SshProbe, never_cancelled
from orchestrator.commands.progress import ProgressObserver
from orchestrator.commands.provision import WAIT_CLOUD_INIT_PLAYBOOK
from orchestrator.commands.steps import StateChangingCommand, StepFailedError, StepRunner, TraceWriter
from orchestrator.domain import Created, Environment, EnvironmentContext, FailureContext, Provisioned, ProvisionStep
from orchestrator.persistence import EnvironmentRepository

REGISTER_STEPS = (ProvisionStep.RENDER_INVENTORY, ProvisionStep.WAIT_SSH, ProvisionStep.WAIT_CLOUD_INIT)


class RegisterFailedError(ProvisionFailedError):
    command = "register"

    def __init__(self, environment: str, failure: FailureContext) -> None:
        super().__init__(environment, failure)
        self.tip = (
            "Check that the host is reachable on that address and port and that the environment's key is "
            f"authorized for its user; then `torrust-deploy destroy {environment}`, purge it and register again."
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
